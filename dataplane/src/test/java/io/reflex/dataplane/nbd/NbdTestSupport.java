package io.reflex.dataplane.nbd;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import io.reflex.dataplane.tenant.SloTable;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Real dataplanes with the NBD front-end on loopback, and external NBD tools, for tests. */
final class NbdTestSupport {
    static final Path DIR = Path.of("target", "nbd-test").toAbsolutePath();

    private NbdTestSupport() {}

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Memory engine, NBD on an ephemeral port, and the given SLO table (YAML, tenant ports are made free). */
    static Dataplane memory(long bytes, int threads, String tableYaml) {
        var c = new DataplaneConfig(null, "memory", bytes, new InetSocketAddress("127.0.0.1", freePort()), null, "null",
                threads, PollMode.ADAPTIVE, true, true, 128, null, new InetSocketAddress("127.0.0.1", 0));
        Dataplane dp = Dataplane.start(c);
        if (tableYaml != null) apply(dp, tableYaml);
        return dp;
    }

    /** A dataplane on a file (the whole file is tenant "default"), NBD on an ephemeral port. */
    static Dataplane file(Path file, String engine, boolean syncWrites) {
        var c = new DataplaneConfig(file, engine, 0, new InetSocketAddress("127.0.0.1", freePort()), null, "null",
                1, PollMode.ADAPTIVE, true, syncWrites, 128, null, new InetSocketAddress("127.0.0.1", 0));
        return Dataplane.start(c);
    }

    /** Apply a table whose {@code %PORT%} placeholders become free ports. */
    static Dataplane.ApplyResult apply(Dataplane dp, String yaml) {
        while (yaml.contains("%PORT%")) yaml = yaml.replaceFirst("%PORT%", String.valueOf(freePort()));
        var r = dp.apply(SloTable.parse(yaml.getBytes(StandardCharsets.UTF_8), "test", dp.deviceSectors()));
        assertThat(r.allAdmitted()).as("admitted: %s", r.rejected()).isTrue();
        return r;
    }

    static String uri(Dataplane dp, String export) {
        return "nbd://127.0.0.1:" + dp.nbdAddress().getPort() + "/" + export;
    }

    /** A sparse file of {@code size} bytes under target/ (a disk filesystem: O_DIRECT fails on tmpfs). */
    static Path sparseFile(String name, long size) {
        try {
            Files.createDirectories(DIR);
            assumeTrue(!"tmpfs".equals(Files.getFileStore(DIR).type()), DIR + " is on tmpfs, which does not support O_DIRECT");
            Path file = DIR.resolve(name);
            Files.deleteIfExists(file);
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(size);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path randomFile(String name, int size, long seed) throws IOException {
        Files.createDirectories(DIR);
        byte[] b = new byte[size];
        new java.util.Random(seed).nextBytes(b);
        Path p = DIR.resolve(name);
        Files.write(p, b);
        return p;
    }

    /** Skips the test (with the reason) when {@code tool} is not on the PATH. */
    static void assumeTool(String tool) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) found = true;
        }
        assumeTrue(found, tool + " is not installed (Debian: apt-get install nbdkit libnbd-bin qemu-utils fio)");
    }

    record Result(int exit, String out) {}

    /** Run a tool (stdout and stderr merged), killed after {@code timeoutSeconds}. */
    static Result run(int timeoutSeconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        p.getOutputStream().close();
        var out = new java.io.ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (IOException ignored) {
                // process gone
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            reader.join(1000);
            throw new AssertionError(String.join(" ", command) + " timed out after " + timeoutSeconds + " s:\n" + out);
        }
        reader.join(5000);
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }

    static List<String> args(String... a) { return new ArrayList<>(List.of(a)); }
}

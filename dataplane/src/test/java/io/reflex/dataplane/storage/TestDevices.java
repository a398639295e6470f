package io.reflex.dataplane.storage;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Backing files under the module's target/ (a disk filesystem: O_DIRECT fails on tmpfs) and loop devices. */
final class TestDevices {
    static final Path DIR = Path.of("target", "storage-test").toAbsolutePath();

    private TestDevices() {}

    /** A sparse file of {@code size} bytes (recreated, so it reads as zeros). */
    static Path sparseFile(String name, long size) {
        try {
            Files.createDirectories(DIR);
            String type = Files.getFileStore(DIR).type();
            assumeTrue(!"tmpfs".equals(type), DIR + " is on tmpfs, which does not support O_DIRECT");
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

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Attaches {@code file} to a free loop device; skips the calling test when not root or losetup fails. */
    static LoopDevice attachLoop(Path file) {
        assumeTrue(isRoot(), "loop device tests need root (running as " + System.getProperty("user.name") + ")");
        Result r = run("losetup", "--find", "--show", file.toString());
        assumeTrue(r.exit == 0 && r.out.startsWith("/dev/loop"),
                "losetup cannot attach a loop device here: " + r.out.strip());
        return new LoopDevice(Path.of(r.out.strip()));
    }

    record LoopDevice(Path path) implements AutoCloseable {
        @Override
        public void close() {
            run("losetup", "--detach", path.toString());
        }
    }

    record Result(int exit, String out) {}

    static Result run(String... command) {
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", command) + " timed out");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }
}

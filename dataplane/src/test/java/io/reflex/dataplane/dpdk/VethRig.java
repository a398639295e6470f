package io.reflex.dataplane.dpdk;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces joined by a veth pair ({@code bench/dpdk/netns.sh}), the DPDK dataplane ({@link DpdkMain})
 * as a child process in the server namespace on net_af_packet at MTU 9000, and the test as the client in the other
 * namespace ({@link NetNs}). Skips without root, iproute2, python3 or DPDK's af_packet driver.
 */
final class VethRig implements AutoCloseable {
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path NETNS = REPO.resolve("bench/dpdk/netns.sh");
    static final Path SEND_FRAMES = REPO.resolve("bench/dpdk/send-frames.py");

    final int id;
    final String serverNs, clientNs, serverIf, clientIf;
    final String serverIp, clientIp;
    private Process server;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> output = new ArrayList<>();
    private PrintWriter stdin;

    static void assumeUsable() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root (network namespaces, AF_PACKET)");
        assumeTrue(DpdkLib.available(), DpdkLib.reason());
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")), "no iproute2");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no python3");
        assumeTrue(afPacketDriver(), "DPDK's net_af_packet driver is not installed");
    }

    static boolean afPacketDriver() {
        for (String dir : List.of("/usr/lib/x86_64-linux-gnu/dpdk", "/usr/lib/aarch64-linux-gnu/dpdk")) {
            try (var s = Files.walk(Path.of(dir), 2)) {
                if (s.anyMatch(p -> p.getFileName().toString().startsWith("librte_net_af_packet"))) return true;
            } catch (IOException e) {
                // not this one
            }
        }
        return false;
    }

    VethRig(int id) throws IOException, InterruptedException {
        this.id = id;
        serverNs = serverIf = "rfxdp" + id + "s";
        clientNs = clientIf = "rfxdp" + id + "c";
        serverIp = "10.77." + id + ".1";
        clientIp = "10.77." + id + ".2";
        run(List.of(NETNS.toString(), "down", Integer.toString(id)));
        if (run(List.of(NETNS.toString(), "up", Integer.toString(id))) != 0) {
            run(List.of(NETNS.toString(), "down", Integer.toString(id)));
            throw new IllegalStateException("netns.sh up failed (output above)");
        }
    }

    /** Starts the dataplane in the server namespace; returns once it serves. */
    void startServer(List<String> ealMemory, List<String> extra) throws IOException, InterruptedException {
        startServer(DpdkMain.class, ealMemory, extra);
    }

    /** Starts {@code main} ({@link DpdkMain}, or reflex-dataplane with {@code --net dpdk} in {@code extra}) in the server namespace. */
    void startServer(Class<?> main, List<String> ealMemory, List<String> extra) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String vdev = "net_af_packet0,iface=" + serverIf + ",qpairs=1,framesz=9216,blocksz=36864,framecnt=512";
        List<String> eal = new ArrayList<>(ealMemory);
        eal.addAll(List.of("--no-pci", "--no-telemetry", "--vdev", vdev, "--log-level", "warning"));
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", serverNs, java, "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), main.getName(),
                "--dpdk-args", String.join(" ", eal), "--address", serverIp + "/24", "--listen", serverIp + ":5000",
                "--engine", "memory", "--size", "64Mi", "--poll", "yield"));
        cmd.addAll(extra);
        server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        stdin = new PrintWriter(server.getOutputStream(), true, StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().start(() -> {
            try (var r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    System.out.println("[dpdk-server] " + l);
                    synchronized (output) {
                        output.add(l);
                    }
                    lines.add(l);
                }
            } catch (IOException ignored) {
                // process gone
            }
            lines.add("<eof>");
        });
        for (String l; ; ) {
            l = lines.poll(60, TimeUnit.SECONDS);
            if (l == null || l.equals("<eof>")) throw new IllegalStateException("dataplane did not start: " + output());
            if (l.contains("reflex-dataplane: serving")) return;
        }
    }

    /** The server's counters now ({@code name -> value}, drops as {@code drop.<reason>}). */
    Map<String, Long> stats() throws InterruptedException {
        lines.clear();
        stdin.println("stats");
        Map<String, Long> m = new HashMap<>();
        for (String l; ; ) {
            l = lines.poll(30, TimeUnit.SECONDS);
            if (l == null || l.equals("<eof>")) throw new IllegalStateException("no stats from the dataplane: " + output());
            if (l.equals("end-stats")) return m;
            boolean drops = l.startsWith("dpdk drops:");
            for (String kv : l.substring(l.indexOf(':') + 1).trim().split("\\s+")) {
                int eq = kv.indexOf('=');
                if (eq > 0) m.put((drops ? "drop." : "") + kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
            }
        }
    }

    boolean serverAlive() { return server != null && server.isAlive(); }

    String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    /** Sends hex-encoded frames out of the client's veth end (AF_PACKET, from the client namespace). */
    void sendFrames(List<String> hexFrames) throws IOException, InterruptedException {
        Path f = Files.createTempFile("rfxdp-frames", ".hex");
        try {
            Files.write(f, hexFrames);
            ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", clientNs, "python3", SEND_FRAMES.toString(), clientIf)
                    .redirectInput(f.toFile()).redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("send-frames failed: " + out);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** Output of a command in the client namespace. */
    String inClient(String... cmd) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", clientNs));
        c.addAll(List.of(cmd));
        Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    void stopServer() throws InterruptedException {
        if (server == null) return;
        server.destroy(); // SIGTERM: the shutdown hook stops the loops and the port
        if (!server.waitFor(30, TimeUnit.SECONDS)) server.destroyForcibly().waitFor();
        server = null;
    }

    static int run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0 && !cmd.contains("down")) System.err.println(cmd + ": " + out);
        return rc;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            stopServer();
        } finally {
            run(List.of(NETNS.toString(), "down", Integer.toString(id)));
        }
    }
}

package io.reflex.dataplane.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reflex.client.cpu.Affinity;
import io.reflex.client.cpu.Housekeeping;
import io.reflex.dataplane.cli.DataplaneMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The real {@code reflex-dataplane}, as its own process (housekeeping narrows threads of the JVM it runs in): with
 * {@code --cpus} naming one of several allowed CPUs, its loop polls there, its JIT compilers may not, and its GC and
 * control threads keep every CPU.
 */
class HousekeepingTest {
    @Test
    void othersAreTheProcessCpusWithoutTheLoops() {
        assertEquals(List.of(0, 2, 3), Housekeeping.others(List.of(0, 1, 2, 3), Set.of(1)));
        assertEquals(List.of(), Housekeeping.others(List.of(1), Set.of(1)));
    }

    @Test
    void theJitLeavesTheLoopsCpuAndGcAndControlThreadsKeepEveryCpu() throws Exception {
        List<Integer> allowed = Affinity.allowed();
        assumeTrue(allowed.size() >= 2, "needs two CPUs");
        int loopCpu = allowed.getLast();
        List<Integer> others = Housekeeping.others(allowed, Set.of(loopCpu));
        Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-Xmx128m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), DataplaneMain.class.getName(),
                "--engine", "memory", "--size", "16Mi", "--listen", "127.0.0.1:" + freePort(), "--admin", "none",
                "--cpus", Integer.toString(loopCpu), "--poll", "block").redirectErrorStream(true).start();
        try {
            String line = waitFor(p, "housekeeping:");
            assertTrue(line.contains("on CPUs " + Layout.formatCpus(others)), line);
            Map<String, String> masks = Housekeeping.threadMasks(p.pid());
            masks.forEach((thread, mask) -> {
                if (thread.startsWith("reflex-dp-0/")) {
                    assertEquals(Integer.toString(loopCpu), mask, "the loop polls its own CPU: " + masks);
                    return;
                }
                if (Housekeeping.isCompiler(thread)) {
                    assertFalse(Layout.parseCpus(mask).contains(loopCpu), thread + " may still run on the loop's CPU: " + mask);
                } else { // GC and control threads stay free to use every CPU (Housekeeping says why)
                    assertEquals(Layout.formatCpus(allowed), mask, thread + " was restricted");
                }
            });
            assertTrue(masks.keySet().stream().anyMatch(t -> t.startsWith("reflex-dp-0/")), "the loop thread seen: " + masks);
            assertTrue(masks.keySet().stream().anyMatch(t -> t.startsWith("C2 Compi") || t.startsWith("C1 Compi")), "JIT threads seen: " + masks);
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String waitFor(Process p, String prefix) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            seen.append(line).append('\n');
            if (line.trim().startsWith(prefix)) {
                Thread.ofVirtual().start(() -> out.lines().forEach(l -> { })); // keep draining
                return line;
            }
        }
        throw new AssertionError("the dataplane exited without '" + prefix + "':\n" + seen);
    }
}

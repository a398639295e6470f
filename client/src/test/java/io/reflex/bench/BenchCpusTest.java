package io.reflex.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reflex.client.HostCpus;
import io.reflex.client.LoopbackServer;
import io.reflex.client.cpu.Affinity;
import io.reflex.client.cpu.Housekeeping;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code reflex-bench --cpus}: the load thread polls on the CPU it was given and the JIT compilers may not run there,
 * while GC and control threads keep every CPU (the real CLI as a process, its threads' masks read from /proc while it runs); bad lists are refused.
 */
class BenchCpusTest {
    @Test
    void badCpuListsAreRefusedBeforeAnyLoad() throws IOException {
        try (LoopbackServer server = new LoopbackServer(1 << 14)) {
            String at = "127.0.0.1:" + server.port();
            assertThat(run("--server", at, "--iops", "100", "--cpus", "1-x")).contains("--cpus: bad CPU list '1-x'");
            assertThat(run("--server", at, "--iops", "100", "--cpus", "1023"))
                    .contains("--cpus: CPU 1023 is not among the CPUs this process may use");
        }
    }

    @Test
    void theLoadThreadPollsItsCpuAndTheJitStaysOff() throws Exception {
        List<Integer> allowed = Affinity.allowed();
        assumeTrue(allowed.size() >= 2, "needs two CPUs");
        int loopCpu = allowed.getLast();
        List<Integer> others = Housekeeping.others(allowed, Set.of(loopCpu));
        try (LoopbackServer server = new LoopbackServer(1 << 14)) {
            Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-Xmx64m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    ReflexBench.class.getName(), "--server", "127.0.0.1:" + server.port(), "--iops", "500", "--duration", "4",
                    "--warmup", "0", "--lba-range", "16384", "--poll", "block", "--cpus", Integer.toString(loopCpu))
                    .redirectErrorStream(true).start();
            try {
                String line = waitFor(p, "reflex-bench: housekeeping:");
                assertThat(line).contains("on CPUs " + HostCpus.formatCpus(others)).contains("off the loops' " + loopCpu);
                Map<String, String> masks = Housekeeping.threadMasks(p.pid());
                masks.forEach((thread, mask) -> {
                    if (thread.startsWith("reflex-bench-0/")) {
                        assertThat(mask).as("the load thread polls its own CPU: " + masks).isEqualTo(Integer.toString(loopCpu));
                    } else if (Housekeeping.isCompiler(thread)) {
                        assertThat(HostCpus.parseCpus(mask)).as(thread + " may still run on the load thread's CPU").doesNotContain(loopCpu);
                    } else { // GC and control threads may use every CPU
                        assertThat(mask).as(thread).isEqualTo(HostCpus.formatCpus(allowed));
                    }
                });
                assertThat(masks.keySet()).anyMatch(t -> t.startsWith("reflex-bench-0/"));
                assertThat(masks.keySet()).anyMatch(t -> t.startsWith("C2 Compi") || t.startsWith("C1 Compi"));
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).isZero();
            } finally {
                p.destroyForcibly();
            }
        }
    }

    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int exit = ReflexBench.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        assertThat(exit).isNotZero();
        return err.toString(StandardCharsets.UTF_8);
    }

    /** The first output line starting with {@code prefix}; the rest is drained so the process never blocks writing. */
    private static String waitFor(Process p, String prefix) {
        BufferedReader out = p.inputReader(StandardCharsets.UTF_8);
        String line = out.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("reflex-bench exited without '" + prefix + "'"));
        Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));
        return line;
    }
}

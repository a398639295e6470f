package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link DpdkProbe} as images/verify.sh runs it in the agent image: a JVM of its own (the EAL initialises once per
 * process, and this test JVM's belongs to the other tests), vdev ports only. Skips where DPDK is not installed.
 */
class DpdkProbeTest {
    @Test
    void opensEveryPortAndNamesTheLoadedDrivers() throws Exception {
        assumeTrue(DpdkLib.available(), DpdkLib.reason());
        Result r = probe("--no-huge", "--no-pci", "--no-shconf", "-m", "128", "--no-telemetry", "--log-level", "warning",
                "--vdev", "net_null0", "--vdev", "net_null1");
        assertThat(r.status).as(r.out).isZero();
        // From the EAL's plugin directory: the vdev bus, the drivers, the default mempool handler the pools need.
        assertThat(r.out).containsPattern("drivers loaded: .*\\bbus_vdev\\b").containsPattern("drivers loaded: .*\\bnet_null\\b")
                .containsPattern("drivers loaded: .*\\bmempool_ring\\b");
        assertThat(r.out).containsPattern("port 0 \\(net_null, [0-9a-f:]{17}, max MTU \\d+\\): started and stopped")
                .contains("port 1 (net_null").contains("2 port(s), 0 failed");
    }

    @Test
    void badEalArgumentsFailWithStatusOne() throws Exception {
        assumeTrue(DpdkLib.available(), DpdkLib.reason());
        Result r = probe("--no-huge", "--no-pci", "--no-shconf", "-m", "128", "--not-an-eal-option");
        assertThat(r.status).as(r.out).isEqualTo(1);
        assertThat(r.out).contains("rte_eal_init failed");
    }

    private record Result(int status, String out) {}

    private static Result probe(String... ealArgs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), DpdkProbe.class.getName()));
        cmd.addAll(List.of(ealArgs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("probe exited").isTrue();
        return new Result(p.exitValue(), out);
    }
}

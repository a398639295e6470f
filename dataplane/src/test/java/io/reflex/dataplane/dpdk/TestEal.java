package io.reflex.dataplane.dpdk;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one EAL of the test JVM (DPDK initialises once per process): no hugepages, no PCI, no shared config files, the
 * main lcore free to run on any CPU. Ports are made at run time (rte_vdev_init, rte_eth_from_rings) with unique names.
 */
final class TestEal {
    static final List<String> ARGS = List.of("--no-huge", "--no-pci", "--no-shconf", "-m", "512", "--no-telemetry",
            "--lcores", "0@(0-" + (Runtime.getRuntime().availableProcessors() - 1) + ")", "--log-level", "warning");
    private static final AtomicInteger IDS = new AtomicInteger();

    private TestEal() {}

    /** Skips the calling test where DPDK is not installed; else makes sure the EAL is up. */
    static void init() {
        assumeTrue(DpdkLib.available(), DpdkLib.reason());
        Eal.init(ARGS);
    }

    /** A number unique in this JVM, for port, ring and pool names. */
    static int nextId() { return IDS.incrementAndGet(); }
}

package io.reflex.dataplane.dpdk;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reflex.client.ClientOptions;
import io.reflex.client.UdpConnection;
import io.reflex.client.UdpOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The veth test's write/read/verify with the EAL on real 2 MiB hugepages (--in-memory, no --no-huge), as a node with
 * hugepages configured runs it. Sets vm.nr_hugepages for the test and restores the previous value afterwards.
 */
class DpdkHugepageTest {
    private static final Path NR = Path.of("/proc/sys/vm/nr_hugepages");

    @Test
    void servesFromHugepageMemory() throws Exception {
        VethRig.assumeUsable();
        assumeTrue(Files.isWritable(NR), "cannot set " + NR);
        String previous = Files.readString(NR).trim();
        try {
            if (freeHugepages() < 200) { // reserve 512 MiB more for the test (a node agent would have done it)
                long wanted = Long.parseLong(previous) + 256;
                for (int attempt = 0; attempt < 10 && freeHugepages() < 200; attempt++) { // the kernel compacts a bit more each time
                    setHugepages(Long.toString(wanted));
                    if (freeHugepages() < 200) Thread.sleep(200);
                }
                assumeTrue(freeHugepages() >= 200, "the kernel reserved only " + Files.readString(NR).trim() + " hugepages");
            }
            try (VethRig rig = new VethRig(200 + (int) (ProcessHandle.current().pid() % 50))) {
                rig.startServer(List.of("--in-memory", "-m", "256"), List.of());
                try (UdpConnection c = NetNs.call(rig.clientNs, () -> UdpConnection.open(rig.serverIp, 5000,
                        ClientOptions.defaults().withMaxInFlight(32), new UdpOptions(Duration.ofMillis(20), 8, 8972)))) {
                    DpdkVethTest.writeReadVerify(c, 0, 200, 11);
                }
            }
        } finally {
            setHugepages(previous);
        }
    }

    private static long freeHugepages() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("HugePages_Free:")) return Long.parseLong(line.substring(15).trim());
        }
        return 0;
    }

    /**
     * Through a shell: on this kernel a write of "256" from the JVM reserved only 2 pages (the JVM's own memory policy
     * applies to the reservation), the same write from sh all 256.
     */
    private static void setHugepages(String n) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "echo " + Long.parseLong(n) + " > " + NR).inheritIO().start();
        if (p.waitFor() != 0) throw new IllegalStateException("cannot set " + NR + " to " + n);
    }
}

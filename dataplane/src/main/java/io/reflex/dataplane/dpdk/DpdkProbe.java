package io.reflex.dataplane.dpdk;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Does DPDK work in this process's environment (a container image, a node)? Loads the libraries, initialises the EAL
 * with the given arguments, lists the drivers the EAL loaded from its plugin directory, and opens every port the
 * arguments made (one queue pair on an mbuf pool of its own: the mempool handler comes from a plugin too), then
 * closes them. No packets are sent.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp '/deployments/lib/main/*' io.reflex.dataplane.dpdk.DpdkProbe \
 *     --no-huge --no-pci --no-shconf -m 128 --vdev net_null0</pre>
 *
 * Exit status: 0 when the EAL came up and every port started, 2 when the libraries do not load, 1 otherwise.
 */
public final class DpdkProbe {
    private static final Pattern LIB = Pattern.compile("/(librte_[a-z0-9_]+)\\.so\\.\\d+(?:\\.\\d+)?$");

    private DpdkProbe() {}

    public static void main(String[] args) {
        int status = run(List.of(args), System.out);
        if (Eal.initialised()) Eal.cleanup();
        System.exit(status);
    }

    /** Probes with {@code ealArgs}; leaves the EAL up (it cannot be initialised twice in a process). */
    static int run(List<String> ealArgs, PrintStream out) {
        if (!DpdkLib.available()) {
            out.println("dpdk-probe: " + DpdkLib.reason());
            return 2;
        }
        try {
            Eal.init(ealArgs);
        } catch (IllegalStateException e) {
            out.println("dpdk-probe: " + e.getMessage());
            return 1;
        }
        out.println("dpdk-probe: EAL up (" + String.join(" ", ealArgs) + ")");
        out.println("dpdk-probe: drivers loaded: " + String.join(" ", loadedLibraries(true)));
        int ports = EthDev.countAvailable();
        int failed = 0;
        for (int port = 0; port < ports; port++) {
            try {
                out.println("dpdk-probe: port " + port + " " + open(port) + ": started and stopped");
            } catch (RuntimeException e) {
                out.println("dpdk-probe: port " + port + " FAILED: " + e.getMessage());
                failed++;
            }
        }
        out.println("dpdk-probe: " + ports + " port(s), " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    /** Configures one queue pair with a pool of its own, starts and stops the port; says what it is. */
    private static String open(int port) {
        EthDev.Info info = EthDev.info(port);
        EthDev.configure(port, 1, 1500, 0, 0, 0);
        var pool = Mempools.create("probe" + port, 1023, 0, 2048 + Mempools.HEADROOM, Mempools.ANY_SOCKET);
        try {
            EthDev.rxQueueSetup(port, 0, 256, pool);
            EthDev.txQueueSetup(port, 0, 256);
            EthDev.start(port);
            String mac = Frames.macString(Frames.mac(EthDev.mac(port)));
            EthDev.stop(port);
            return "(" + info.driver() + ", " + mac + ", max MTU " + info.maxMtu() + ")";
        } finally {
            EthDev.close(port);
            Mempools.free(pool);
        }
    }

    /** The DPDK libraries mapped into this process (drivers only: those from the plugin directory), by name. */
    static TreeSet<String> loadedLibraries(boolean pluginsOnly) {
        TreeSet<String> names = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                if (pluginsOnly && !line.contains("/dpdk/pmds-")) continue;
                Matcher m = LIB.matcher(line);
                if (m.find()) names.add(m.group(1).substring("librte_".length()));
            }
        } catch (IOException e) {
            names.add("(cannot read /proc/self/maps: " + e.getMessage() + ")");
        }
        return names;
    }
}

package io.reflex.dataplane.dpdk;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The DPDK engine's command-line options (a picocli mixin of {@code reflex-dataplane --net dpdk} and {@link DpdkMain}). */
public final class DpdkOptions {
    @Option(names = "--dpdk-args", paramLabel = "EAL_ARGS",
            description = "DPDK EAL arguments, space-separated, e.g. \"--no-huge --no-pci --no-shconf -m 256"
                    + " --vdev net_af_packet0,iface=eth1,framesz=9216,blocksz=36864\" or \"-a 0000:3b:00.0 --in-memory\"")
    String ealArgs = "";

    @Option(names = "--address", paramLabel = "IP/PREFIX", description = "The port's IPv4 address, e.g. 10.0.0.2/24 (ARP is answered for it)")
    String address;

    @Option(names = "--mtu", defaultValue = "9000", description = "Port MTU; at least 4200 (4 KiB per datagram, no IP fragmentation) (default: ${DEFAULT-VALUE})")
    int mtu;

    @Option(names = "--dpdk-port", paramLabel = "NAME", description = "ethdev to serve, e.g. net_af_packet0 (default: the first port)")
    String port;

    @Option(names = "--dpdk-mbufs", defaultValue = "4095", description = "mbufs per queue (default: ${DEFAULT-VALUE})")
    int mbufs;

    @Option(names = "--dpdk-max-requests", defaultValue = "1024", description = "Requests in flight per loop (default: ${DEFAULT-VALUE})")
    int maxRequests;

    @Option(names = "--dpdk-max-clients", defaultValue = "256",
            description = "UDP clients (address, port) each loop remembers recent writes of (default: ${DEFAULT-VALUE})")
    int maxClients;

    @Option(names = "--dpdk-drop-reply-every", defaultValue = "0", hidden = true, description = "Test hook: drop every N-th completed reply")
    int dropReplyEvery;

    public List<String> ealArgList() {
        String s = ealArgs == null ? "" : ealArgs.trim();
        return s.isEmpty() ? List.of() : Arrays.asList(s.split("\\s+"));
    }

    /** Our IPv4 address from {@code --address IP/PREFIX} (the prefix is checked, not used: replies go to the sender's MAC). */
    public int ip(String listenHost) {
        String a = address;
        if (a == null) {
            if (listenHost == null || listenHost.equals("0.0.0.0")) {
                throw new IllegalArgumentException("--net dpdk needs --address IP/PREFIX (the DPDK port has no kernel address)");
            }
            a = listenHost + "/32";
        }
        int slash = a.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("--address must be IP/PREFIX, e.g. 10.0.0.2/24, got '" + a + "'");
        int prefix;
        try {
            prefix = Integer.parseInt(a.substring(slash + 1));
        } catch (NumberFormatException e) {
            prefix = -1;
        }
        if (prefix < 1 || prefix > 32) throw new IllegalArgumentException("--address prefix must be 1-32, got '" + a + "'");
        int ip = Frames.ip(a.substring(0, slash));
        if (listenHost != null && !listenHost.equals("0.0.0.0") && Frames.ip(listenHost) != ip) {
            throw new IllegalArgumentException("--listen " + listenHost + " is not --address " + a.substring(0, slash));
        }
        return ip;
    }

    /** The engine's configuration from these options and the dataplane's common ones. */
    public DpdkServer.Config toConfig(String listenHost, int udpPort, String engine, Path device, long memoryBytes,
                                      boolean syncWrites, int queueDepth, Path sloTable, String model, int threads,
                                      List<Integer> cpus, String poll, boolean scheduler) {
        return new DpdkServer.Config(ealArgList(), port, ip(listenHost), udpPort, mtu, mbufs, engine, device, memoryBytes,
                syncWrites, queueDepth, sloTable, model, threads, cpus, idle(poll), scheduler, maxRequests, maxClients, dropReplyEvery);
    }

    /** busy | yield | adaptive (block is treated as adaptive: a DPDK queue has no fd to sleep on). */
    static UdpLoop.Idle idle(String poll) {
        return switch (poll == null ? "busy" : poll.toLowerCase(Locale.ROOT)) {
            case "busy" -> UdpLoop.Idle.BUSY;
            case "yield" -> UdpLoop.Idle.YIELD;
            case "adaptive", "block" -> UdpLoop.Idle.ADAPTIVE;
            default -> throw new IllegalArgumentException("--poll must be busy, yield, adaptive or block, got '" + poll + "'");
        };
    }
}

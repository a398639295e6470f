package io.reflex.dataplane.dpdk;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.DataplaneLoop;
import io.reflex.dataplane.net.LoopControl;
import io.reflex.dataplane.net.NetMode;
import io.reflex.dataplane.net.PollMode;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.devmodels.DeviceModel;
import io.reflex.protocol.UdpFraming;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The dataplane on DPDK: one Ethernet port, one poll loop per queue pair, the ReFlex protocol over UDP. Sets up the
 * EAL, the port (MTU, RSS, RX checksum offloads where the device has them) and an mbuf pool per queue, then runs a
 * {@link Dataplane} whose loops are {@link UdpLoop}s on those queues: the storage engine, admission, SLO-table reload
 * (admin API, node agent), rate shares and per-tenant metrics are the TCP dataplane's own. Each tenant is served on its
 * UDP port. Adds the engine's frame counters and the port's statistics to the dataplane's metrics. Cold path
 * throughout; the loops do the work.
 */
public final class DpdkServer implements AutoCloseable {
    /** Largest tenant count per dataplane (as the TCP dataplane). */
    public static final int MAX_TENANTS = DataplaneConfig.MAX_TENANTS;

    /**
     * @param ealArgs    EAL arguments, e.g. {@code --no-huge --no-pci --no-shconf -m 256 --vdev net_af_packet0,iface=eth1}
     * @param portName   ethdev name to serve (e.g. net_af_packet0), or null for the first port
     * @param ip         our IPv4 address (ARP is answered for it; datagrams to others are dropped)
     * @param udpPort    the default tenant's UDP port when there is no SLO table
     * @param mtu        IP MTU of the port; at least {@link UdpFraming#MIN_MTU} (no IP fragmentation)
     * @param mbufs      mbufs per queue's pool (requests in flight hold theirs until the reply leaves)
     * @param dropReplyEvery test hook: drop every N-th completed reply (0: never)
     */
    public record Config(List<String> ealArgs, String portName, int ip, int udpPort, int mtu, int mbufs, String engine,
                         Path device, long memoryBytes, boolean syncWrites, int queueDepth, Path sloTable, String model,
                         int threads, List<Integer> cpus, UdpLoop.Idle idle, boolean scheduler, int maxRequests,
                         int maxClients, int dropReplyEvery) {
        public Config {
            ealArgs = List.copyOf(ealArgs);
            cpus = cpus == null ? List.of() : List.copyOf(cpus);
            if (mtu < UdpFraming.MIN_MTU) {
                throw new IllegalArgumentException("--mtu " + mtu + " is too small: a 4 KiB request or reply travels in one UDP"
                        + " datagram (4096 data + 24 ReFlex + 28 IPv4/UDP bytes) and the DPDK engine does not do IP"
                        + " fragmentation; use jumbo frames, --mtu 9000 (at least " + UdpFraming.MIN_MTU + ")");
            }
            if (mtu > 9600) throw new IllegalArgumentException("--mtu " + mtu + " exceeds 9600");
            if (threads < 1 || threads > 64) throw new IllegalArgumentException("threads must be 1-64, got " + threads);
            if (!cpus.isEmpty() && cpus.size() != threads) throw new IllegalArgumentException("give one CPU per thread");
            if (maxRequests < 1 || mbufs < maxRequests + 2 * DESCRIPTORS) {
                throw new IllegalArgumentException("--dpdk-mbufs " + mbufs + " must exceed requests in flight (" + maxRequests
                        + ") + 2 × " + DESCRIPTORS + " descriptors");
            }
        }
    }

    static final int DESCRIPTORS = 512;

    private final Config config;
    private final int port;
    private final long mac;
    private final EthDev.Info info;
    private final List<MemorySegment> pools = new ArrayList<>();
    private final Dataplane dataplane;
    private boolean closed;
    private String finalSummary;

    private DpdkServer(Config config) {
        this.config = config;
        Eal.init(config.ealArgs());
        if (EthDev.countAvailable() == 0) {
            throw new IllegalStateException("DPDK found no Ethernet port: give one with --dpdk-args \"--vdev net_af_packet0,iface=IF\""
                    + " or bind a NIC to vfio-pci (and drop --no-pci)");
        }
        port = config.portName() == null ? 0 : EthDev.portByName(config.portName());
        if (port < 0) throw new IllegalArgumentException("no DPDK port named " + config.portName());
        info = EthDev.info(port);
        int queues = config.threads();
        if (info.maxRxQueues() < queues || info.maxTxQueues() < queues) {
            throw new IllegalArgumentException("port " + port + " (" + info.driver() + ") has " + info.maxRxQueues() + " RX / "
                    + info.maxTxQueues() + " TX queues; " + queues + " loop(s) need one pair each (af_packet: qpairs=N)");
        }
        // af_packet (and memif, tap) report a 1518-byte maximum frame whatever the interface allows: ethdev then refuses a
        // larger MTU, but the PMD receives what the kernel interface delivers into its frames (framesz=). For those the
        // interface's own MTU rules and ethdev keeps 1500; any other device must take the MTU itself.
        boolean kernelBacked = info.driver().contains("af_packet");
        boolean deviceTakesMtu = config.mtu() <= info.maxMtu() && config.mtu() + 18 <= info.maxRxPktLen();
        if (!deviceTakesMtu && !kernelBacked) {
            throw new IllegalArgumentException("--mtu " + config.mtu() + " exceeds what port " + port + " (" + info.driver()
                    + ") takes: max MTU " + info.maxMtu() + ", max frame " + info.maxRxPktLen() + " bytes");
        }
        long rss = queues > 1 ? info.rssOffloads() & (EthConf.RSS_IPV4 | EthConf.RSS_FRAG_IPV4 | EthConf.RSS_NONFRAG_IPV4_UDP) : 0;
        long rxOffloads = info.rxOffloadCapa() & (EthConf.RX_OFFLOAD_IPV4_CKSUM | EthConf.RX_OFFLOAD_UDP_CKSUM);
        EthDev.configure(port, queues, deviceTakesMtu ? config.mtu() : 1500, rss, rxOffloads, 0);
        if (deviceTakesMtu) {
            int rc = EthDev.setMtu(port, config.mtu());
            if (rc < 0 && EthDev.mtu(port) < config.mtu()) {
                throw new IllegalStateException("cannot set MTU " + config.mtu() + " on port " + port + " (" + info.driver() + "): "
                        + Eal.strerror(rc));
            }
        }
        // One frame per mbuf: Ethernet + VLAN tag + MTU after the headroom, rounded up to 1 KiB (9216 for MTU 9000: af_packet
        // wants room for a whole ring frame, framesz − 32 bytes, so framesz=9216 fits).
        int dataRoom = Mempools.HEADROOM + ((config.mtu() + Frames.ETH_HLEN + 4 + 1023) & ~1023);
        String prefix = "rfx" + ProcessHandle.current().pid() + "p" + port + "q";
        for (int q = 0; q < queues; q++) {
            MemorySegment pool = Mempools.create(prefix + q, config.mbufs(), 256, dataRoom, Mempools.ANY_SOCKET);
            pools.add(pool);
            EthDev.rxQueueSetup(port, q, DESCRIPTORS, pool);
            EthDev.txQueueSetup(port, q, DESCRIPTORS);
        }
        mac = Frames.mac(EthDev.mac(port));
        EthDev.start(port);
        try {
            dataplane = Dataplane.start(dataplaneConfig(config), this::newLoop);
        } catch (RuntimeException e) {
            closePort();
            throw e;
        }
        registerMetrics(dataplane.metrics().registry());
        awaitTenantRows();
    }

    /**
     * Returns once every loop has run the control tasks the initial table posted (its tenant rows): a datagram that
     * reaches a loop before its row is dropped as {@code no_tenant}, so "serving" must not be said before. (On kernel
     * TCP nothing is lost meanwhile: connections wait in the listener's backlog.)
     */
    private void awaitTenantRows() {
        for (LoopControl l : dataplane.netLoops()) {
            java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
            l.execute(ran::countDown);
            try {
                if (!ran.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    close();
                    throw new IllegalStateException("dpdk loop " + ((UdpLoop) l).index() + " did not start within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while the dpdk loops started", e);
            }
        }
    }

    /** Starts serving. */
    public static DpdkServer start(Config config) {
        return new DpdkServer(config);
    }

    /** What the dataplane needs of ours: the tenants' address and default port, storage, model, loops and CPUs. */
    private static DataplaneConfig dataplaneConfig(Config c) {
        return new DataplaneConfig(c.device(), c.engine(), c.memoryBytes(), new InetSocketAddress(Frames.ipString(c.ip()), c.udpPort()),
                c.sloTable(), c.model(), c.threads(), PollMode.valueOf(c.idle().name()), c.scheduler(), c.syncWrites(), c.queueDepth(),
                null, null, c.cpus(), DataplaneLoop.DEFAULT_SUBMIT_BATCH, null, NetMode.AUTO);
    }

    /** Loop {@code q} on queue pair {@code q} of the port (the dataplane's connection listener: UDP has no connections). */
    private LoopControl newLoop(int q, IoQueue io, TokenScheduler scheduler, DeviceModel model, DataplaneLoop.Listener unused) {
        var loopConfig = new UdpLoop.Config(q, MAX_TENANTS, config.maxRequests(), config.maxClients(), UdpFraming.maxDataBytes(config.mtu()),
                config.idle(), config.cpus().isEmpty() ? -1 : config.cpus().get(q), config.dropReplyEvery());
        return new UdpLoop(loopConfig, FpOps.rx(port, q), FpOps.tx(port, q), mac, config.ip(), io, scheduler, model);
    }

    /** reflex_dpdk_*: the loops' frame counters and drops by reason, and the port's own statistics. */
    private void registerMetrics(MeterRegistry registry) {
        for (Count c : Count.values()) {
            String name = c.name().toLowerCase(Locale.ROOT);
            FunctionCounter.builder("reflex_dpdk_" + name, this, s -> s.count(c))
                    .description("DPDK engine: " + name.replace('_', ' ') + ", summed over the loops").register(registry);
        }
        for (Drop d : Drop.values()) {
            FunctionCounter.builder("reflex_dpdk_dropped_frames", this, s -> s.drops(d)).tags("reason", d.label())
                    .description("Frames the DPDK engine dropped without answering, by reason").register(registry);
        }
        portCounter(registry, "ipackets", "Packets the port received", EthStats.Snapshot::ipackets);
        portCounter(registry, "opackets", "Packets the port sent", EthStats.Snapshot::opackets);
        portCounter(registry, "imissed", "Packets the port dropped: RX queue full (the loop did not poll in time)", EthStats.Snapshot::imissed);
        portCounter(registry, "ierrors", "Erroneous packets the port received", EthStats.Snapshot::ierrors);
        portCounter(registry, "oerrors", "Packets the port failed to send", EthStats.Snapshot::oerrors);
        portCounter(registry, "rx_nombuf", "RX mbuf allocation failures", EthStats.Snapshot::rxNoMbuf);
    }

    private void portCounter(MeterRegistry registry, String name, String help, ToLongFunction<EthStats.Snapshot> field) {
        FunctionCounter.builder("reflex_dpdk_port_" + name, this, s -> s.portStat(field)).tags("port", Integer.toString(port))
                .description(help).register(registry);
    }

    /** A port statistic now; 0 once closed (the port is gone). */
    private synchronized double portStat(ToLongFunction<EthStats.Snapshot> field) {
        return closed ? 0 : field.applyAsLong(EthDev.stats(port));
    }

    /** The dataplane: tenants, {@link Dataplane#apply}/{@link Dataplane#reload}, metrics (for the admin API). */
    public Dataplane dataplane() { return dataplane; }

    public int port() { return port; }

    public long mac() { return mac; }

    public EthDev.Info deviceInfo() { return info; }

    public UdpLoop[] loops() {
        LoopControl[] l = dataplane.netLoops();
        UdpLoop[] u = new UdpLoop[l.length];
        for (int i = 0; i < l.length; i++) u[i] = (UdpLoop) l[i];
        return u;
    }

    /** A drop counter summed over the loops. */
    public long drops(Drop reason) { return sumLoops(l -> l.drops().get(reason)); }

    /** A counter summed over the loops. */
    public long count(Count what) { return sumLoops(l -> l.counts().get(what)); }

    private long sumLoops(java.util.function.ToLongFunction<UdpLoop> counter) {
        long n = 0;
        for (LoopControl l : dataplane.netLoops()) n += counter.applyAsLong((UdpLoop) l);
        return n;
    }

    /** One line per non-zero counter, for logs and scripts ({@code name=value}). */
    public synchronized String summary() {
        if (closed) return finalSummary;
        StringBuilder sb = new StringBuilder("dpdk:");
        for (Count c : Count.values()) sb.append(' ').append(c.name().toLowerCase(java.util.Locale.ROOT)).append('=').append(count(c));
        sb.append("\ndpdk drops:");
        for (Drop d : Drop.values()) if (drops(d) > 0) sb.append(' ').append(d.label()).append('=').append(drops(d));
        EthStats.Snapshot s = EthDev.stats(port);
        sb.append("\ndpdk port ").append(port).append(": ipackets=").append(s.ipackets()).append(" opackets=").append(s.opackets())
                .append(" imissed=").append(s.imissed()).append(" ierrors=").append(s.ierrors()).append(" oerrors=").append(s.oerrors())
                .append(" rx_nombuf=").append(s.rxNoMbuf());
        return sb.toString();
    }

    /** Stops the loops, the engine and the port. The EAL stays (it cannot be initialised twice in a process). */
    @Override
    public synchronized void close() {
        if (closed) return;
        dataplane.close(); // the loops first: they free the mbufs they hold
        finalSummary = summary();
        closed = true;
        closePort();
    }

    private void closePort() {
        try {
            EthDev.stop(port);
            EthDev.close(port);
        } catch (RuntimeException e) {
            System.err.println("reflex-dpdk: closing port " + port + ": " + e.getMessage());
        }
        for (MemorySegment p : pools) Mempools.free(p);
    }
}

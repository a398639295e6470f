package io.reflex.dataplane.dpdk;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.qos.GlobalBucket;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.EngineOptions;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.StorageEngine;
import io.reflex.dataplane.tenant.AdmissionPlan;
import io.reflex.dataplane.tenant.SloTable;
import io.reflex.dataplane.tenant.TenantClass;
import io.reflex.dataplane.tenant.TenantSpec;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.UdpFraming;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The dataplane on DPDK: one Ethernet port, one poll loop per queue pair, the ReFlex protocol over UDP. Sets up the
 * EAL, the port (MTU, RSS, RX checksum offloads where the device has them), an mbuf pool per queue, the storage engine
 * with one queue per loop, and the SLO table's tenants (each on its UDP port), admitted with the same device-model math
 * as the TCP dataplane. Cold path throughout; the loops do the work.
 */
public final class DpdkServer implements AutoCloseable {
    /** Largest tenant count per dataplane (as the TCP dataplane). */
    public static final int MAX_TENANTS = 64;

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
    private final StorageEngine engine;
    private final DeviceModel model;
    private final List<MemorySegment> pools = new ArrayList<>();
    private final UdpLoop[] loops;
    private final List<AdmissionPlan.Admitted> admitted = new ArrayList<>();
    private final List<AdmissionPlan.Rejected> rejected = new ArrayList<>();
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
        model = DeviceModels.load(config.model());
        engine = Engines.open(config.engine(), config.device(), new EngineOptions(config.syncWrites(), config.memoryBytes()));
        EthDev.start(port);
        GlobalBucket bucket = new GlobalBucket(queues);
        loops = new UdpLoop[queues];
        int maxData = UdpFraming.maxDataBytes(config.mtu());
        for (int q = 0; q < queues; q++) {
            var scheduler = new TokenScheduler(MAX_TENANTS, 2048, bucket, model);
            scheduler.setEnabled(config.scheduler());
            var loopConfig = new UdpLoop.Config(q, MAX_TENANTS, config.maxRequests(), config.maxClients(), maxData, config.idle(),
                    config.cpus().isEmpty() ? -1 : config.cpus().get(q), config.dropReplyEvery());
            loops[q] = new UdpLoop(loopConfig, FpOps.rx(port, q), FpOps.tx(port, q), mac, config.ip(),
                    engine.openQueue(config.queueDepth()), scheduler, model);
        }
        applyTable();
        for (UdpLoop l : loops) l.start();
    }

    /** Starts serving; on failure releases what was set up. */
    public static DpdkServer start(Config config) {
        return new DpdkServer(config);
    }

    private void applyTable() {
        long sectors = engine.capacityBytes() >>> ReflexHeader.SECTOR_SHIFT;
        SloTable table = config.sloTable() == null ? SloTable.wholeDevice(config.udpPort(), sectors) : SloTable.load(config.sloTable(), sectors);
        List<String> problems = table.problems(sectors);
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid SLO table:\n  - " + String.join("\n  - ", problems));
        AdmissionPlan plan = AdmissionPlan.plan(model, Map.of(), table);
        rejected.addAll(plan.rejected());
        int slot = 0;
        for (AdmissionPlan.Admitted a : plan.admitted()) {
            TenantSpec t = a.spec();
            boolean lc = t.tenantClass() == TenantClass.LC;
            for (UdpLoop l : loops) {
                // A client's flow stays on one queue (RSS / fanout hash), so each loop gets an even share of the rate.
                double rate = Double.isInfinite(a.tokensPerSec()) ? a.tokensPerSec() : a.tokensPerSec() / loops.length;
                l.setTenant(slot, t.name(), t.port(), t.lbaBase(), t.lbaCount(), t.token(), new TenantStats(t.p95Micros()));
                l.setRate(slot, lc, rate);
            }
            admitted.add(a);
            slot++;
        }
    }

    public List<AdmissionPlan.Admitted> tenants() { return List.copyOf(admitted); }

    public List<AdmissionPlan.Rejected> rejected() { return List.copyOf(rejected); }

    public int port() { return port; }

    public long mac() { return mac; }

    public EthDev.Info deviceInfo() { return info; }

    public StorageEngine engine() { return engine; }

    public UdpLoop[] loops() { return loops.clone(); }

    /** A drop counter summed over the loops. */
    public long drops(Drop reason) {
        long n = 0;
        for (UdpLoop l : loops) n += l.drops().get(reason);
        return n;
    }

    /** A counter summed over the loops. */
    public long count(Count what) {
        long n = 0;
        for (UdpLoop l : loops) n += l.counts().get(what);
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

    /** Stops the loops, the port and the engine. The EAL stays (it cannot be initialised twice in a process). */
    @Override
    public synchronized void close() {
        if (closed) return;
        for (UdpLoop l : loops) if (l != null) l.stop();
        finalSummary = summary();
        closed = true;
        try {
            EthDev.stop(port);
            EthDev.close(port);
        } catch (RuntimeException e) {
            System.err.println("reflex-dpdk: closing port " + port + ": " + e.getMessage());
        }
        for (MemorySegment p : pools) Mempools.free(p);
        engine.close();
    }
}

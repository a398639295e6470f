package io.reflex.dataplane;

import io.reflex.dataplane.metrics.DataplaneMetrics;
import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.net.DataplaneLoop;
import io.reflex.dataplane.net.LoopControl;
import io.reflex.dataplane.net.TenantAdmission;
import io.reflex.dataplane.qos.GlobalBucket;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.EngineOptions;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.dataplane.storage.StorageEngine;
import io.reflex.dataplane.tenant.AdmissionPlan;
import io.reflex.dataplane.tenant.SloTable;
import io.reflex.dataplane.tenant.TenantClass;
import io.reflex.dataplane.tenant.TenantSpec;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.protocol.ReflexHeader;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running dataplane: the device, one loop per thread, and the tenant set. Applying an SLO table is the only way
 * tenants change; it admits against the device model, then adds, updates and removes tenants on every loop without
 * touching the connections of tenants that stay. Control methods are synchronized (cold path); the loops never wait
 * for them: every change is posted to the loops' control queues ({@link LoopControl}).
 *
 * <p>The loops are kernel TCP ({@link DataplaneLoop}, one listening socket per tenant) unless a {@link LoopFactory}
 * makes others: the DPDK engine's UDP loops ({@code io.reflex.dataplane.dpdk.DpdkServer}) take a tenant's port with the
 * tenant itself. Admission, reload, rate shares and metrics are the same for both.
 */
public final class Dataplane implements AutoCloseable, DataplaneLoop.Listener {
    /**
     * Makes loop {@code index} of a dataplane around its device queue and scheduler. Loops that are not
     * {@link DataplaneLoop}s serve a tenant's port themselves (from {@link LoopControl#setTenant}) and report no
     * connections: a tenant's rate is then split evenly over them.
     */
    @FunctionalInterface
    public interface LoopFactory {
        LoopControl create(int index, IoQueue io, TokenScheduler scheduler, DeviceModel model, DataplaneLoop.Listener listener);
    }

    /**
     * A tenant being served; {@code server} is its listening socket on kernel TCP and {@code admission} that
     * listener's connection limits, both null on another network engine.
     */
    public record Served(TenantSpec spec, int slot, double tokensPerSec, String note, TenantStats[] stats,
                         ServerSocketChannel server, int homeLoop, TenantAdmission admission) {}

    /** The outcome of applying a table, for the caller (CLI, admin API, node agent). */
    public record ApplyResult(List<String> added, List<String> updated, List<String> removed,
                              List<AdmissionPlan.Rejected> rejected, AdmissionPlan plan) {
        public boolean allAdmitted() { return rejected.isEmpty(); }
    }

    private final DataplaneConfig config;
    private final StorageEngine engine;
    private final DeviceModel model;
    private final LoopControl[] loops;
    /** The same loops when they are kernel TCP (listeners, connections, NBD); else empty. */
    private final DataplaneLoop[] tcpLoops;
    private final DataplaneMetrics metrics;
    private final Map<String, Served> served = new LinkedHashMap<>();
    private final boolean[] slotUsed = new boolean[DataplaneConfig.MAX_TENANTS];
    private final int[][] connections = new int[DataplaneConfig.MAX_TENANTS][];
    /** The rate share each loop was last told per slot (NaN: none): unchanged shares are not pushed again. */
    private final double[][] pushedRate = new double[DataplaneConfig.MAX_TENANTS][];
    private final boolean[][] pushedLc = new boolean[DataplaneConfig.MAX_TENANTS][];
    /** Set while rates are being pushed; a push asked for meanwhile (see {@link #pushRates}) is marked here. */
    private boolean pushing;
    private final boolean[] repush = new boolean[DataplaneConfig.MAX_TENANTS];
    private int nextLoop;
    private AdmissionPlan lastPlan;
    private volatile io.reflex.dataplane.net.NbdListener nbd;

    /** A kernel-TCP dataplane (epoll or io_uring networking, as {@link DataplaneConfig#net()} says). */
    public Dataplane(DataplaneConfig config) {
        this(config, kernelTcp(config));
    }

    /** A dataplane whose loops {@code factory} makes (one per {@link DataplaneConfig#threads()}). */
    public Dataplane(DataplaneConfig config, LoopFactory factory) {
        this.config = config;
        this.model = DeviceModels.load(config.model());
        this.engine = Engines.open(config.engine(), config.device(), new EngineOptions(config.syncWrites(), config.memoryBytes()));
        if (engine.capacityBytes() < ReflexHeader.SECTOR_SIZE) {
            engine.close();
            throw new IllegalArgumentException("device " + config.device() + " is smaller than one sector");
        }
        GlobalBucket bucket = new GlobalBucket(config.threads());
        this.loops = new LoopControl[config.threads()];
        for (int i = 0; i < this.loops.length; i++) {
            var scheduler = new TokenScheduler(DataplaneConfig.MAX_TENANTS, 2048, bucket, model);
            scheduler.setEnabled(config.scheduler());
            try {
                this.loops[i] = factory.create(i, engine.openQueue(config.queueDepth()), scheduler, model, this);
            } catch (RuntimeException e) { // e.g. --net uring where it cannot work: the reason, not a half-built server
                engine.close();
                throw e;
            }
        }
        this.tcpLoops = java.util.Arrays.stream(this.loops).allMatch(l -> l instanceof DataplaneLoop)
                ? java.util.Arrays.stream(this.loops).map(l -> (DataplaneLoop) l).toArray(DataplaneLoop[]::new) : new DataplaneLoop[0];
        for (int s = 0; s < DataplaneConfig.MAX_TENANTS; s++) {
            connections[s] = new int[loops.length];
            pushedRate[s] = new double[loops.length];
            pushedLc[s] = new boolean[loops.length];
        }
        this.metrics = new DataplaneMetrics(this);
        for (LoopControl l : this.loops) l.start();
    }

    /** The kernel-TCP loops of {@code config}. */
    private static LoopFactory kernelTcp(DataplaneConfig config) {
        return (i, io, scheduler, model, listener) -> new DataplaneLoop(new DataplaneLoop.Config(i, DataplaneConfig.MAX_TENANTS, 4096, 256,
                256L << 20, 2048, config.pollMode(), config.cpus().isEmpty() ? -1 : config.cpus().get(i), config.submitBatch(),
                config.connectionLimits(), config.net(), 0), io, scheduler, model, listener);
    }

    /** Start with the configured table, or the whole device as one BE tenant when there is none. */
    public static Dataplane start(DataplaneConfig config) {
        return start(config, kernelTcp(config));
    }

    /** {@link #start(DataplaneConfig)} with the loops {@code factory} makes. */
    public static Dataplane start(DataplaneConfig config, LoopFactory factory) {
        Dataplane dp = new Dataplane(config, factory);
        try {
            ApplyResult r = dp.apply(dp.initialTable());
            for (AdmissionPlan.Rejected rej : r.rejected()) System.err.println("reflex: tenant " + rej.spec().name() + " rejected: " + rej.reason());
            if (config.nbd() != null) dp.startNbd(config.nbd());
            return dp;
        } catch (RuntimeException e) {
            dp.close();
            throw e;
        }
    }

    public SloTable initialTable() {
        long sectors = deviceSectors();
        return config.sloTable() == null ? SloTable.wholeDevice(config.listen().getPort(), sectors)
                : SloTable.load(config.sloTable(), sectors);
    }

    /**
     * Serve every tenant as an NBD export (export name = tenant name, plus ":TOKEN" for tenants with a token) on
     * {@code address}; throws UncheckedIOException when it cannot listen there. At most one NBD front-end.
     */
    public synchronized void startNbd(InetSocketAddress address) {
        if (nbd != null) throw new IllegalStateException("the NBD front-end already listens on " + nbd.address());
        if (tcpLoops.length == 0) throw new IllegalStateException("the NBD front-end needs kernel TCP networking, not " + loops[0].netPath());
        try {
            nbd = io.reflex.dataplane.net.NbdListener.open(address, tcpLoops, config.syncWrites());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot listen for NBD on " + address + ": " + e.getMessage(), e);
        }
    }

    /** The NBD front-end's bound address, or null when it is off. */
    public InetSocketAddress nbdAddress() {
        var l = nbd;
        return l == null ? null : l.address();
    }

    /** Re-read the configured table file and apply it. */
    public ApplyResult reload() {
        if (config.sloTable() == null) throw new IllegalStateException("no --slo-table configured; nothing to reload");
        return apply(SloTable.load(config.sloTable(), deviceSectors()));
    }

    public synchronized ApplyResult apply(SloTable table) {
        List<String> problems = table.problems(deviceSectors());
        if (!problems.isEmpty()) throw new io.reflex.dataplane.tenant.SloTableException("invalid SLO table:\n  - " + String.join("\n  - ", problems));
        Map<String, TenantSpec> running = new LinkedHashMap<>();
        served.forEach((n, s) -> running.put(n, s.spec()));
        AdmissionPlan plan = AdmissionPlan.plan(model, running, table);
        List<String> added = new ArrayList<>(), updated = new ArrayList<>(), removed = new ArrayList<>();
        List<AdmissionPlan.Rejected> rejected = new ArrayList<>(plan.rejected());

        Map<String, AdmissionPlan.Admitted> admitted = new LinkedHashMap<>();
        plan.admitted().forEach(a -> admitted.put(a.spec().name(), a));
        // Remove first (frees ports and LBA ranges), then update, then add.
        for (String name : List.copyOf(served.keySet())) {
            AdmissionPlan.Admitted a = admitted.get(name);
            if (a == null || a.spec().port() != served.get(name).spec().port()) {
                removeTenant(name);
                if (a == null) removed.add(name);
            }
        }
        for (AdmissionPlan.Admitted a : plan.admitted()) {
            Served s = served.get(a.spec().name());
            if (s == null) {
                try {
                    addTenant(a);
                    added.add(a.spec().name());
                } catch (IOException e) {
                    rejected.add(new AdmissionPlan.Rejected(a.spec(), "cannot listen on port " + a.spec().port() + ": " + e.getMessage()));
                }
            } else {
                if (!s.spec().equals(a.spec()) || s.tokensPerSec() != a.tokensPerSec()) updated.add(a.spec().name());
                updateTenant(s, a);
            }
        }
        lastPlan = plan;
        return new ApplyResult(added, updated, removed, rejected, plan);
    }

    private void addTenant(AdmissionPlan.Admitted a) throws IOException {
        TenantSpec spec = a.spec();
        int slot = freeSlot();
        ServerSocketChannel server = tcpLoops.length == 0 ? null : listen(spec.port());
        TenantStats[] stats = new TenantStats[loops.length];
        for (int i = 0; i < loops.length; i++) {
            stats[i] = new TenantStats(spec.p95Micros());
            loops[i].setTenant(slot, spec, stats[i]);
        }
        slotUsed[slot] = true;
        java.util.Arrays.fill(connections[slot], 0);
        java.util.Arrays.fill(pushedRate[slot], Double.NaN);
        int home = slot % loops.length;
        TenantAdmission admission = server == null ? null : new TenantAdmission(spec.name(), config.connectionLimits());
        Served s = new Served(spec, slot, a.tokensPerSec(), a.note(), stats, server, home, admission);
        served.put(spec.name(), s);
        pushRates(s);
        if (server != null) tcpLoops[home].listen(server, slot, admission, this::place);
        metrics.tenantAdded(s);
    }

    /** A tenant's kernel-TCP listening socket on the configured address. */
    private ServerSocketChannel listen(int port) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(config.listen().getAddress(), port), 1024);
            return server;
        } catch (IOException e) {
            server.close();
            throw e;
        }
    }

    private void updateTenant(Served old, AdmissionPlan.Admitted a) {
        TenantSpec spec = a.spec();
        for (int i = 0; i < loops.length; i++) {
            old.stats()[i].sloMicros(spec.p95Micros());
            loops[i].setTenant(old.slot(), spec, old.stats()[i]);
        }
        Served s = new Served(spec, old.slot(), a.tokensPerSec(), a.note(), old.stats(), old.server(), old.homeLoop(), old.admission());
        served.put(spec.name(), s);
        pushRates(s);
        metrics.tenantUpdated(s);
    }

    private void removeTenant(String name) {
        Served s = served.remove(name);
        if (s.server() != null) tcpLoops[s.homeLoop()].unlisten(s.server());
        for (LoopControl l : loops) l.removeTenant(s.slot());
        metrics.tenantRemoved(s);
        // The slot is reused only by a later add, whose tasks each loop runs after this removal.
        slotUsed[s.slot()] = false;
    }

    private int freeSlot() {
        for (int i = 0; i < slotUsed.length; i++) if (!slotUsed[i]) return i;
        throw new IllegalStateException("at most " + DataplaneConfig.MAX_TENANTS + " tenants per dataplane");
    }

    /**
     * Split a tenant's rate over the loops in proportion to its connections there (all loops equally when none). Only
     * changed shares are sent: every connection open and close lands here, and a connect storm must not flood the
     * loops' control queues with identical updates.
     */
    private void pushRates(Served s) {
        // A loop whose control queue is full runs its queued tasks inside setRate (DataplaneLoop.execute), and those
        // may open or close connections, i.e. call back here: do those pushes after this one, with fresh counts.
        if (pushing) {
            repush[s.slot()] = true;
            return;
        }
        pushing = true;
        try {
            pushRatesNow(s);
            for (boolean again = true; again; ) {
                again = false;
                for (int slot = 0; slot < repush.length; slot++) {
                    if (!repush[slot]) continue;
                    repush[slot] = false;
                    again = true;
                    servedBySlot(slot).ifPresent(this::pushRatesNow);
                }
            }
        } finally {
            pushing = false;
        }
    }

    private void pushRatesNow(Served s) {
        int[] c = connections[s.slot()];
        int total = 0;
        for (int n : c) total += n;
        boolean lc = s.spec().tenantClass() == TenantClass.LC;
        double[] pushed = pushedRate[s.slot()];
        boolean[] pushedClass = pushedLc[s.slot()];
        for (int i = 0; i < loops.length; i++) {
            double share = total == 0 ? 1.0 / loops.length : (double) c[i] / total;
            double rate = Double.isInfinite(s.tokensPerSec()) ? s.tokensPerSec() : s.tokensPerSec() * share;
            if (rate == pushed[i] && lc == pushedClass[i]) continue;
            pushed[i] = rate;
            pushedClass[i] = lc;
            loops[i].setRate(s.slot(), lc, rate);
        }
    }

    /** New connection: round-robin over loops. */
    private void place(SocketChannel ch, int slot, TenantAdmission admission) {
        int target;
        synchronized (this) {
            target = nextLoop++ % loops.length;
        }
        tcpLoops[target].adopt(ch, slot, admission);
    }

    @Override
    public synchronized void connectionOpened(int loop, int slot) {
        connections[slot][loop]++;
        servedBySlot(slot).ifPresent(this::pushRates);
    }

    @Override
    public synchronized void connectionClosed(int loop, int slot) {
        if (connections[slot][loop] > 0) connections[slot][loop]--;
        servedBySlot(slot).ifPresent(this::pushRates);
    }

    private java.util.Optional<Served> servedBySlot(int slot) {
        return served.values().stream().filter(s -> s.slot() == slot).findFirst();
    }

    public synchronized List<Served> tenants() { return List.copyOf(served.values()); }

    public synchronized AdmissionPlan lastPlan() { return lastPlan; }

    public synchronized int connectionCount(String tenant) {
        Served s = served.get(tenant);
        if (s == null) return 0;
        int n = 0;
        for (int c : connections[s.slot()]) n += c;
        return n;
    }

    public long deviceSectors() { return engine.capacityBytes() >>> ReflexHeader.SECTOR_SHIFT; }

    public StorageEngine engine() { return engine; }

    public DeviceModel model() { return model; }

    public DataplaneConfig config() { return config; }

    /** The kernel-TCP loops (connections, NBD); empty when another network engine serves (see {@link #netLoops()}). */
    public DataplaneLoop[] loops() { return tcpLoops.clone(); }

    /** Every loop, whatever its network engine. */
    public LoopControl[] netLoops() { return loops.clone(); }

    public DataplaneMetrics metrics() { return metrics; }

    @Override
    public void close() {
        if (nbd != null) nbd.close();
        for (LoopControl l : loops) if (l != null) l.stop();
        engine.close();
    }
}

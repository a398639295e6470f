package io.reflex.dataplane;

import io.reflex.dataplane.net.ConnectionLimits;
import io.reflex.dataplane.net.DataplaneLoop;
import io.reflex.dataplane.net.NetMode;
import io.reflex.dataplane.net.PollMode;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * How to run a dataplane.
 *
 * @param device          file or block device (ignored by the memory engine when memoryBytes > 0)
 * @param engine          auto | uring | file | memory
 * @param memoryBytes     capacity of the memory engine
 * @param listen          bind address for every tenant; its port is the default tenant's port when there is no table
 * @param sloTable        SLO table file, or null for one best-effort tenant owning the whole device
 * @param model           device model name or path
 * @param threads         dataplane loops (one per core)
 * @param scheduler       QoS scheduler on (off: no token limits, for comparison)
 * @param syncWrites      acknowledge SETs only once durable (RWF_DSYNC)
 * @param admin           metrics/health/admin HTTP address, or null for none
 * @param cpus            CPU per loop thread (pinned with sched_setaffinity), or empty for unpinned
 * @param nbd             NBD listen address (every tenant is an export on it), or null for none
 * @param submitBatch     device requests per submit while the device is busy (see {@link DataplaneLoop.Config})
 * @param connectionLimits idle/request timeouts, TCP keepalive, the per-connection buffer bound and per-tenant
 *                        connection admission (connect rate, burst, open-connection cap) (null: defaults)
 * @param net             network path: auto (io_uring where it works, else epoll), uring or epoll (null: the
 *                        {@code reflex.net} system property, else auto)
 */
public record DataplaneConfig(Path device, String engine, long memoryBytes, InetSocketAddress listen, Path sloTable,
                              String model, int threads, PollMode pollMode, boolean scheduler, boolean syncWrites,
                              int queueDepth, InetSocketAddress admin, InetSocketAddress nbd, java.util.List<Integer> cpus,
                              int submitBatch, ConnectionLimits connectionLimits, NetMode net) {
    public static final int MAX_TENANTS = 64;

    public DataplaneConfig {
        if (submitBatch < 1) throw new IllegalArgumentException("--submit-batch must be at least 1, got " + submitBatch);
        if (net == null) net = NetMode.fromProperty();
        if (connectionLimits == null) connectionLimits = ConnectionLimits.DEFAULTS;
        cpus = cpus == null ? java.util.List.of() : java.util.List.copyOf(cpus);
        if (!cpus.isEmpty() && cpus.size() != threads) {
            throw new IllegalArgumentException("--cpus lists " + cpus.size() + " CPUs for " + threads + " thread(s): give one CPU per thread");
        }
    }

    /** The network path from {@link NetMode#fromProperty()}. */
    public DataplaneConfig(Path device, String engine, long memoryBytes, InetSocketAddress listen, Path sloTable,
                           String model, int threads, PollMode pollMode, boolean scheduler, boolean syncWrites,
                           int queueDepth, InetSocketAddress admin, InetSocketAddress nbd, java.util.List<Integer> cpus,
                           int submitBatch, ConnectionLimits connectionLimits) {
        this(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites, queueDepth,
                admin, nbd, cpus, submitBatch, connectionLimits, null);
    }

    /** Default connection limits. */
    public DataplaneConfig(Path device, String engine, long memoryBytes, InetSocketAddress listen, Path sloTable,
                           String model, int threads, PollMode pollMode, boolean scheduler, boolean syncWrites,
                           int queueDepth, InetSocketAddress admin, InetSocketAddress nbd, java.util.List<Integer> cpus,
                           int submitBatch) {
        this(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites, queueDepth,
                admin, nbd, cpus, submitBatch, ConnectionLimits.DEFAULTS);
    }

    /** The default submit batch. */
    public DataplaneConfig(Path device, String engine, long memoryBytes, InetSocketAddress listen, Path sloTable,
                           String model, int threads, PollMode pollMode, boolean scheduler, boolean syncWrites,
                           int queueDepth, InetSocketAddress admin, InetSocketAddress nbd, java.util.List<Integer> cpus) {
        this(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites, queueDepth,
                admin, nbd, cpus, DataplaneLoop.DEFAULT_SUBMIT_BATCH);
    }

    /** Unpinned loops. */
    public DataplaneConfig(Path device, String engine, long memoryBytes, InetSocketAddress listen, Path sloTable,
                           String model, int threads, PollMode pollMode, boolean scheduler, boolean syncWrites,
                           int queueDepth, InetSocketAddress admin, InetSocketAddress nbd) {
        this(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites, queueDepth,
                admin, nbd, java.util.List.of());
    }

    /** Without an NBD front-end. */
    public DataplaneConfig(Path device, String engine, long memoryBytes, InetSocketAddress listen, Path sloTable,
                           String model, int threads, PollMode pollMode, boolean scheduler, boolean syncWrites,
                           int queueDepth, InetSocketAddress admin) {
        this(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites, queueDepth, admin, null);
    }

    /** The same configuration with an NBD front-end on {@code address}. */
    public DataplaneConfig withNbd(InetSocketAddress address) {
        return new DataplaneConfig(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites,
                queueDepth, admin, address, cpus, submitBatch, connectionLimits, net);
    }

    /** The same configuration with these connection limits. */
    public DataplaneConfig withConnectionLimits(ConnectionLimits limits) {
        return new DataplaneConfig(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites,
                queueDepth, admin, nbd, cpus, submitBatch, limits, net);
    }

    /** The same configuration with this network path. */
    public DataplaneConfig withNet(NetMode mode) {
        return new DataplaneConfig(device, engine, memoryBytes, listen, sloTable, model, threads, pollMode, scheduler, syncWrites,
                queueDepth, admin, nbd, cpus, submitBatch, connectionLimits, mode);
    }
}

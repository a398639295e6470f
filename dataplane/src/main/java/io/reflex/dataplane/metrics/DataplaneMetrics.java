package io.reflex.dataplane.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.net.DataplaneLoop;
import io.reflex.dataplane.net.LoopControl;
import io.reflex.dataplane.net.TenantAdmission;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Prometheus metrics (Micrometer) per tenant and per device. The loops only bump their own {@link TenantStats};
 * everything here runs on the scrape thread: it flips the loops' latency recorders into a per-tenant window
 * (latency quantiles since the previous scrape) and counts a window whose p95 exceeded the SLO as a violation.
 */
public final class DataplaneMetrics {
    /** Windows with fewer samples say nothing about a p95. */
    static final int MIN_WINDOW_SAMPLES = 20;

    private final Dataplane dataplane;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, TenantMeters> tenants = new HashMap<>();

    private final class TenantMeters {
        volatile Dataplane.Served served;
        final Histogram window = new Histogram(1, 60_000_000L, 2);
        final Histogram total = new Histogram(1, 60_000_000L, 2);
        final Histogram[] recycle;
        final List<Meter> meters = new ArrayList<>();
        final Counter violations;

        TenantMeters(Dataplane.Served s) {
            this.served = s;
            this.recycle = new Histogram[s.stats().length];
            Tags tags = Tags.of("tenant", s.spec().name(), "class", s.spec().tenantClass().name());
            counter("reflex_tenant_requests", "Requests completed", tags.and("op", "read"), TenantStats.READS);
            counter("reflex_tenant_requests", "Requests completed", tags.and("op", "write"), TenantStats.WRITES);
            counter("reflex_tenant_bytes", "Bytes transferred", tags.and("op", "read"), TenantStats.READ_BYTES);
            counter("reflex_tenant_bytes", "Bytes transferred", tags.and("op", "write"), TenantStats.WRITE_BYTES);
            counter("reflex_tenant_device_errors", "Requests the device failed", tags, TenantStats.ERRORS);
            counter("reflex_tenant_rejected", "Requests refused without reaching the device (range, busy, auth, malformed)", tags, TenantStats.REJECTED);
            counter("reflex_tenant_slow_requests", "Requests slower than the tenant's p95 SLO", tags, TenantStats.SLOW);
            counter("reflex_tenant_flushes", "FLUSH requests completed", tags, TenantStats.FLUSHES);
            violations = Counter.builder("reflex_tenant_slo_violations").description("Scrape windows whose p95 latency exceeded the SLO")
                    .tags(tags).register(registry);
            meters.add(violations);
            for (double q : new double[] {0.5, 0.95, 0.99, 0.999}) {
                meters.add(Gauge.builder("reflex_tenant_latency_micros", window, h -> h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(q * 100))
                        .description("Request latency (µs, parse to device completion) over the last scrape window")
                        .tags(tags.and("quantile", Double.toString(q))).register(registry));
            }
            meters.add(Gauge.builder("reflex_tenant_latency_window_requests", window, Histogram::getTotalCount)
                    .description("Requests in the last scrape window").tags(tags).register(registry));
            meters.add(Gauge.builder("reflex_tenant_slo_p95_micros", this, m -> m.served.spec().p95Micros())
                    .description("The tenant's p95 latency SLO (0 = best effort)").tags(tags).register(registry));
            meters.add(Gauge.builder("reflex_tenant_reserved_iops", this, m -> m.served.spec().iops())
                    .description("4 KiB-equivalent IOPS the tenant reserved (LC; 0 = best effort)").tags(tags).register(registry));
            meters.add(Gauge.builder("reflex_tenant_reserved_tokens_per_second", this, m -> finite(m.served.tokensPerSec()))
                    .description("Token rate reserved (LC) or granted (BE); -1 = unlimited").tags(tags).register(registry));
            meters.add(Gauge.builder("reflex_tenant_tokens", this, m -> sumLoops(l -> l.scheduler().tokens(m.served.slot())))
                    .description("Current token credit summed over loops").tags(tags).register(registry));
            meters.add(Gauge.builder("reflex_tenant_queue_depth", this, m -> sumLoops(l -> l.scheduler().queued(m.served.slot())))
                    .description("Requests waiting for tokens").tags(tags).register(registry));
            meters.add(Gauge.builder("reflex_tenant_connections", this, m -> dataplane.connectionCount(m.served.spec().name()))
                    .description("Open connections").tags(tags).register(registry));
            TenantAdmission admission = s.admission(); // kernel TCP: the listener's admission, kept across updates
            if (admission != null) {
                meters.add(FunctionCounter.builder("reflex_tenant_connections_accepted", admission, TenantAdmission::accepted)
                        .description("Connections the tenant's listener accepted").tags(tags).register(registry));
                for (TenantAdmission.Reason r : TenantAdmission.Reason.values()) {
                    Tags rt = tags.and("reason", r.label());
                    meters.add(FunctionCounter.builder("reflex_tenant_accept_pauses", admission, a -> a.pauses(r))
                            .description("Times the tenant's listener had a connection waiting and stopped accepting: over its"
                                    + " connect rate, or at its cap of open connections (waiting connections stay in the kernel's backlog)")
                            .tags(rt).register(registry));
                    meters.add(FunctionCounter.builder("reflex_tenant_accept_paused_seconds", admission, a -> a.pausedNanos(r) / 1e9)
                            .description("Time the tenant's listener spent not accepting, by reason (pauses that ended)")
                            .tags(rt).register(registry));
                }
            }
        }

        private void counter(String name, String help, Tags tags, int index) {
            meters.add(FunctionCounter.builder(name, this, m -> {
                long sum = 0;
                for (TenantStats st : m.served.stats()) sum += st.get(index);
                return sum;
            }).description(help).tags(tags).register(registry));
        }

        void refresh() {
            window.reset();
            TenantStats[] stats = served.stats();
            for (int i = 0; i < stats.length; i++) {
                recycle[i] = stats[i].intervalHistogram(recycle[i]);
                window.add(recycle[i]);
            }
            total.add(window);
            long slo = served.spec().p95Micros();
            if (slo > 0 && window.getTotalCount() >= MIN_WINDOW_SAMPLES && window.getValueAtPercentile(95) > slo) {
                violations.increment();
            }
        }
    }

    /** Bucket bounds (µs) of the Prometheus latency histogram, dense around typical flash SLOs. */
    private static final long[] BUCKETS_MICROS = {25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000,
            10_000, 25_000, 50_000, 100_000, 1_000_000};

    public DataplaneMetrics(Dataplane dataplane) {
        this.dataplane = dataplane;
        registry.getPrometheusRegistry().register(this::latencyHistogram);
        Gauge.builder("reflex_device_capacity_bytes", dataplane, d -> d.engine().capacityBytes()).register(registry);
        Gauge.builder("reflex_device_token_budget", dataplane, d -> d.lastPlan() == null ? 0 : finite(d.lastPlan().evaluation().tokenRate()))
                .description("Token rate at the strictest LC SLO (-1 = unlimited)").register(registry);
        Gauge.builder("reflex_device_reserved_tokens", dataplane, d -> d.lastPlan() == null ? 0 : d.lastPlan().evaluation().lcReserved())
                .description("Sum of LC reservations").register(registry);
        for (LoopControl l : dataplane.netLoops()) {
            Gauge.builder("reflex_loop_device_inflight", l, x -> x.io().inFlight()).tags("loop", Integer.toString(l.index()))
                    .description("Requests at the device").register(registry);
        }
        for (DataplaneLoop l : dataplane.loops()) { // kernel TCP: connections (a DPDK dataplane registers its own counters)
            ConnectionStats c = l.connectionStats();
            Tags loop = Tags.of("loop", Integer.toString(l.index()));
            Gauge.builder("reflex_loop_connections", c, ConnectionStats::open).tags(loop)
                    .description("Client connections open on the loop (ReFlex and NBD, bound to a tenant or not)").register(registry);
            Gauge.builder("reflex_loop_send_blocked_connections", c, ConnectionStats::sendBlocked).tags(loop)
                    .description("Connections not read because their peer does not take their replies").register(registry);
            Gauge.builder("reflex_loop_socket_buffer_bytes", c, ConnectionStats::socketBufferBytes).tags(loop)
                    .description("Pooled socket buffer memory, in use and spare").register(registry);
            Gauge.builder("reflex_loop_io_buffer_bytes", c, ConnectionStats::ioBufferBytes).tags(loop)
                    .description("I/O buffer memory allocated for request payloads and read data (pooled, capped per loop)").register(registry);
            Gauge.builder("reflex_loop_requests_in_use", c, ConnectionStats::requestsInUse).tags(loop)
                    .description("Requests held: received, queued for tokens, at the device or awaiting send").register(registry);
        }
        FunctionCounter.builder("reflex_connections_opened", this, m -> m.sumTcpLoops(l -> l.connectionStats().opened()))
                .description("Client connections accepted (ReFlex and NBD)").register(registry);
        for (CloseReason r : CloseReason.values()) {
            FunctionCounter.builder("reflex_connections_closed", this, m -> m.sumTcpLoops(l -> l.connectionStats().closed(r)))
                    .description("Client connections closed, by reason").tags("reason", r.label()).register(registry);
        }
        FunctionCounter.builder("reflex_accept_errors", this, m -> m.sumTcpLoops(l -> l.connectionStats().acceptErrors()))
                .description("Failed accepts (e.g. out of file descriptors); the listener retries about once a second").register(registry);
    }

    /**
     * reflex_tenant_latency_seconds: a classic Prometheus histogram of every request served so far, built from the
     * tenants' cumulative HdrHistograms at scrape time (so the loops never touch a shared histogram).
     */
    private io.prometheus.metrics.model.snapshots.HistogramSnapshot latencyHistogram() {
        var b = io.prometheus.metrics.model.snapshots.HistogramSnapshot.builder().name("reflex_tenant_latency_seconds")
                .help("Request latency, parse to device completion, since start");
        synchronized (this) {
            for (TenantMeters m : tenants.values()) {
                Histogram h = m.total;
                double[] bounds = new double[BUCKETS_MICROS.length + 1];
                for (int i = 0; i < BUCKETS_MICROS.length; i++) bounds[i] = BUCKETS_MICROS[i] / 1e6;
                bounds[BUCKETS_MICROS.length] = Double.POSITIVE_INFINITY;
                long[] counts = bucketCounts(h);
                var spec = m.served.spec();
                b.dataPoint(io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets.of(bounds, counts))
                        .sum(h.getTotalCount() == 0 ? 0 : h.getMean() * h.getTotalCount() / 1e6)
                        .labels(io.prometheus.metrics.model.snapshots.Labels.of("tenant", spec.name(), "class", spec.tenantClass().name()))
                        .build());
            }
        }
        return b.build();
    }

    /**
     * Per-bucket (not cumulative) counts of h over BUCKETS_MICROS and +Inf: each recorded value in exactly one bucket, by the
     * top of its HdrHistogram equivalence range. getCountBetweenValues(lo, hi) would not do: it widens both ends to those
     * ranges, so a value near a bound was counted in two buckets and the total exceeded the requests served.
     */
    static long[] bucketCounts(Histogram h) {
        long[] counts = new long[BUCKETS_MICROS.length + 1];
        for (HistogramIterationValue v : h.recordedValues()) {
            int i = java.util.Arrays.binarySearch(BUCKETS_MICROS, h.highestEquivalentValue(v.getValueIteratedTo()));
            counts[i >= 0 ? i : -i - 1] += v.getCountAtValueIteratedTo();
        }
        return counts;
    }

    private static double finite(double v) { return Double.isInfinite(v) ? -1 : v; }

    private double sumLoops(java.util.function.ToDoubleFunction<LoopControl> f) {
        double sum = 0;
        for (LoopControl l : dataplane.netLoops()) sum += f.applyAsDouble(l);
        return sum;
    }

    private double sumTcpLoops(java.util.function.ToDoubleFunction<DataplaneLoop> f) {
        double sum = 0;
        for (DataplaneLoop l : dataplane.loops()) sum += f.applyAsDouble(l);
        return sum;
    }

    public synchronized void tenantAdded(Dataplane.Served s) {
        tenants.put(s.spec().name(), new TenantMeters(s));
    }

    public synchronized void tenantUpdated(Dataplane.Served s) {
        TenantMeters m = tenants.get(s.spec().name());
        if (m != null) m.served = s;
    }

    public synchronized void tenantRemoved(Dataplane.Served s) {
        TenantMeters m = tenants.remove(s.spec().name());
        if (m != null) m.meters.forEach(registry::remove);
    }

    /** Prometheus text exposition; starts a new latency window. */
    public synchronized String scrape() {
        tenants.values().forEach(TenantMeters::refresh);
        return registry.scrape();
    }

    /** Latency percentiles of everything served so far (µs), for reports. */
    public synchronized Map<String, Long> cumulativePercentiles(String tenant) {
        TenantMeters m = tenants.get(tenant);
        if (m == null) return Map.of();
        m.refresh();
        Histogram h = m.total;
        return Map.of("count", h.getTotalCount(), "p50", h.getValueAtPercentile(50), "p95", h.getValueAtPercentile(95),
                "p99", h.getValueAtPercentile(99), "max", h.getMaxValue());
    }

    public PrometheusMeterRegistry registry() { return registry; }
}

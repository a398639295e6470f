package io.reflex.dataplane.qos;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.TokenLimit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Deterministic simulation of several dataplane threads (one scheduler each) sharing a {@link GlobalBucket}. At each
 * tick the clock advances by the scenario's next gap, requests arrive, and every scheduler runs one round, always in
 * thread order. It checks conservation as it goes (each request dispatched or drained at most once, per tenant in
 * FIFO order, by the scheduler and slot that queued it) and records cumulative issued tokens per tenant per tick.
 */
final class Simulation {
    enum Kind { LC, BE, UNLIMITED }

    /** Arrival pattern: the queue is kept full every tick. */
    static final int BACKLOGGED = -1;
    /** Arrival pattern: idle, then once in a while a whole queue's worth at once. */
    static final int BURSTY = -2;

    /** {@code arrivals}: {@link #BACKLOGGED}, {@link #BURSTY}, or up to that many new requests per tick. */
    record TenantSpec(int thread, Kind kind, double rate, int costMix, int arrivals) {
        TenantSpec with(Kind k, int a) { return new TenantSpec(thread, k, rate, costMix, a); }
    }

    record Scenario(int threads, List<TenantSpec> tenants, List<Long> gapsNanos, long seed, double deficitLimit) {
        Scenario mapTenants(java.util.function.UnaryOperator<TenantSpec> f) {
            return new Scenario(threads, tenants.stream().map(f).toList(), gapsNanos, seed, deficitLimit);
        }

        Scenario withFirst(Kind kind, int arrivals) {
            var t = new ArrayList<>(tenants);
            t.set(0, t.getFirst().with(kind, arrivals));
            return new Scenario(threads, t, gapsNanos, seed, deficitLimit);
        }
    }

    static final DeviceModel MODEL = new DeviceModel("sim", "read 100 / write 1000", 100, 1000, false,
            List.of(new TokenLimit(500, 4e7, 8e7)));
    /** Request cost mixes; the last has a request larger than the whole LC deficit allowance. */
    static final long[][] COST_MIXES = {{100}, {1000}, {100, 1000}, {100, 400, 1000, 8000}, {100, 150_000}};
    static final int MAX_TENANTS = 8;
    static final int QUEUE_CAPACITY = 2048;
    static final double LC_WINDOW_SECONDS = TokenScheduler.DEFAULT_BURST_WINDOW_NANOS / 1e9;

    final Scenario scenario;
    final GlobalBucket bucket;
    final TokenScheduler[] schedulers;
    final int[] slotOf;
    final Kind[] kind;
    final Random random;
    /** Requests accepted by enqueue and not yet dispatched or drained, per tenant, in arrival order. */
    final List<ArrayDeque<Long>> outstanding = new ArrayList<>();
    /** Every dispatch as (thread, slot, request), in order: the determinism fingerprint. */
    final List<String> log = new ArrayList<>();
    final List<Long> times = new ArrayList<>();
    /** Cumulative dispatched tokens per tenant, one row per tick (after all threads ran). */
    final List<long[]> issued = new ArrayList<>();
    /** Requests each thread's device accepts in the current round; MAX_VALUE = never full. */
    final int[] deviceRoom;
    private final Dispatcher[] devices;
    private long now;
    private long nextRequest = 1;
    long drained;

    Simulation(Scenario scenario) {
        this.scenario = scenario;
        this.bucket = new GlobalBucket(scenario.threads());
        this.schedulers = new TokenScheduler[scenario.threads()];
        this.deviceRoom = new int[scenario.threads()];
        this.devices = new Dispatcher[scenario.threads()];
        for (int t = 0; t < scenario.threads(); t++) {
            schedulers[t] = new TokenScheduler(MAX_TENANTS, QUEUE_CAPACITY, bucket, MODEL);
            schedulers[t].setDeficitLimit(scenario.deficitLimit());
            deviceRoom[t] = Integer.MAX_VALUE;
            int thread = t;
            devices[t] = (slot, request) -> {
                if (deviceRoom[thread] == 0) return false;
                if (deviceRoom[thread] != Integer.MAX_VALUE) deviceRoom[thread]--;
                take(thread, slot, request);
                log.add(thread + ":" + slot + ":" + request);
                return true;
            };
        }
        List<TenantSpec> specs = scenario.tenants();
        slotOf = new int[specs.size()];
        kind = new Kind[specs.size()];
        int[] used = new int[scenario.threads()];
        for (int i = 0; i < specs.size(); i++) {
            slotOf[i] = used[specs.get(i).thread()]++;
            outstanding.add(new ArrayDeque<>());
            configure(i, specs.get(i).kind());
        }
        random = new Random(scenario.seed());
    }

    TenantSpec spec(int tenant) { return scenario.tenants().get(tenant); }

    TokenScheduler schedulerOf(int tenant) { return schedulers[spec(tenant).thread()]; }

    int tenants() { return slotOf.length; }

    void configure(int tenant, Kind k) {
        TokenScheduler s = schedulerOf(tenant);
        switch (k) {
            case LC -> s.setLatencyCritical(slotOf[tenant], spec(tenant).rate());
            case BE -> s.setBestEffort(slotOf[tenant], spec(tenant).rate());
            case UNLIMITED -> s.setUnlimited(slotOf[tenant]);
        }
        kind[tenant] = k;
    }

    /** Largest request cost the tenant can issue. */
    long maxCost(int tenant) { return Arrays.stream(COST_MIXES[spec(tenant).costMix()]).max().orElseThrow(); }

    /** How far below zero an LC tenant's credit may go. */
    double deficitBound(int tenant) { return Math.max(scenario.deficitLimit(), maxCost(tenant)); }

    /** Sum of the token rates of every LC and BE tenant: the budget being enforced. */
    double totalRate() {
        double r = 0;
        for (int i = 0; i < tenants(); i++) if (kind[i] != Kind.UNLIMITED) r += spec(i).rate();
        return r;
    }

    void arrive() {
        for (int i = 0; i < tenants(); i++) {
            int arrivals = spec(i).arrivals();
            int n = switch (arrivals) {
                case BACKLOGGED -> QUEUE_CAPACITY;
                case BURSTY -> random.nextInt(30) == 0 ? QUEUE_CAPACITY : 0;
                default -> random.nextInt(arrivals + 1);
            };
            long[] mix = COST_MIXES[spec(i).costMix()];
            for (int k = 0; k < n; k++) {
                long request = nextRequest++;
                if (!schedulerOf(i).enqueue(slotOf[i], request, mix[random.nextInt(mix.length)])) break;
                outstanding.get(i).add(request);
            }
        }
    }

    /** Advances the clock by {@code gap} and runs one round on every thread, in thread order. */
    void round(long gap) {
        now += gap;
        for (int t = 0; t < schedulers.length; t++) schedulers[t].schedule(now, devices[t]);
        times.add(now);
        long[] row = new long[tenants()];
        for (int i = 0; i < tenants(); i++) row[i] = schedulerOf(i).dispatchedTokens(slotOf[i]);
        issued.add(row);
    }

    /** Removes a tenant the way the control plane does (drain, then clear), then adds it back as {@code k}. */
    void replace(int tenant, Kind k) {
        schedulerOf(tenant).drain(slotOf[tenant], (slot, request) -> {
            take(spec(tenant).thread(), slot, request);
            drained++;
            return true;
        });
        schedulerOf(tenant).clear(slotOf[tenant]);
        configure(tenant, k); // its counters restart at zero: the issued history is not comparable across this
    }

    void checkInvariants() {
        assertThat(bucket.available()).isBetween(0.0, bucket.capacity() + 1e-6);
        for (int i = 0; i < tenants(); i++) {
            TokenScheduler s = schedulerOf(i);
            int slot = slotOf[i];
            assertThat(s.queued(slot)).as("queued of tenant %d", i).isEqualTo(outstanding.get(i).size());
            switch (kind[i]) {
                case LC -> assertThat(s.tokens(slot)).as("LC credit of tenant %d", i)
                        .isGreaterThanOrEqualTo(-deficitBound(i) - 1e-6)
                        .isLessThanOrEqualTo(spec(i).rate() * LC_WINDOW_SECONDS + 1e-6);
                case BE -> assertThat(s.tokens(slot)).as("BE tokens of tenant %d", i).isGreaterThanOrEqualTo(0);
                case UNLIMITED -> assertThat(s.tokens(slot)).isZero();
            }
        }
    }

    /** Cumulative issued tokens of one tenant at tick {@code k}; tick −1 is before the first round. */
    long issuedAt(int tenant, int k) { return k < 0 ? 0 : issued.get(k)[tenant]; }

    long totalIssuedAt(int k) {
        long sum = 0;
        for (int i = 0; i < tenants(); i++) sum += issuedAt(i, k);
        return sum;
    }

    /** Time of tick {@code k}; tick −1 is the first round's time (nothing accrues before it). */
    long timeAt(int k) { return times.get(Math.max(k, 0)); }

    private void take(int thread, int slot, long request) {
        int tenant = tenantAt(thread, slot);
        Long expected = outstanding.get(tenant).pollFirst();
        assertThat(expected).as("request %d of thread %d slot %d: lost, duplicated or out of order", request, thread, slot)
                .isEqualTo(request);
    }

    private int tenantAt(int thread, int slot) {
        for (int i = 0; i < tenants(); i++) if (spec(i).thread() == thread && slotOf[i] == slot) return i;
        throw new AssertionError("dispatch for unknown thread " + thread + " slot " + slot);
    }
}

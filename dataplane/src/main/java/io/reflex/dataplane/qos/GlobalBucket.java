package io.reflex.dataplane.qos;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Pool of tokens donated by LC tenants and unused BE share, shared by all dataplane threads (lock-free, CAS).
 *
 * <p>Token amounts are doubles kept as raw bits in {@link AtomicLong}s, so deposit and take are CAS loops that never
 * allocate or block.
 *
 * <p><b>Fix vs. the original.</b> ReFlex zeroes its global bucket once every thread has run a round. That rule depends
 * on the slowest thread (one stalled thread lets the pool grow without limit, and a busy BE thread can then spend a
 * burst far above the device budget), and it throws away tokens donated just before the reset. Here the pool is
 * instead <em>capped</em> at {@code window} worth of the rate registered by all schedulers sharing it (their LC and BE
 * shares, i.e. the device budget): at most {@code budget × window} tokens can ever be spent in excess of what the
 * tenants accrue over any interval, whatever the threads do. Deposits beyond the cap are dropped (those tokens were
 * neither used nor wanted in time, which is exactly what the original's reset drops).
 */
public final class GlobalBucket {
    /**
     * Default cap: 1 ms of the registered budget (a few hundred scheduling rounds). That is twice the LC credit cap
     * ({@link TokenScheduler#DEFAULT_BURST_WINDOW_NANOS}), so every LC tenant can hand over its whole capped credit
     * plus a round's accrual at once without the pool dropping any of it while BE demand keeps draining it.
     */
    public static final long DEFAULT_WINDOW_NANOS = 1_000_000;

    private final int threads;
    private final double windowSeconds;
    private final AtomicLong tokens = new AtomicLong(Double.doubleToRawLongBits(0.0));
    private final AtomicLong registeredRate = new AtomicLong(Double.doubleToRawLongBits(0.0));

    public GlobalBucket(int threads) {
        this(threads, DEFAULT_WINDOW_NANOS);
    }

    /**
     * @param threads     dataplane threads (schedulers) sharing this pool; informational, reported in metrics
     * @param windowNanos the pool holds at most this long's worth of the registered budget
     */
    public GlobalBucket(int threads, long windowNanos) {
        if (threads <= 0) throw new IllegalArgumentException("threads must be > 0, got " + threads);
        if (windowNanos <= 0) throw new IllegalArgumentException("windowNanos must be > 0, got " + windowNanos);
        this.threads = threads;
        this.windowSeconds = windowNanos / 1e9;
    }

    public int threads() { return threads; }

    /** Tokens currently in the pool. */
    public double available() { return Double.longBitsToDouble(tokens.get()); }

    /** Sum of the LC and BE rates (tokens/s) of every scheduler sharing this pool. */
    public double registeredRate() { return Math.max(0.0, Double.longBitsToDouble(registeredRate.get())); }

    /** Most tokens the pool holds. */
    public double capacity() { return registeredRate() * windowSeconds; }

    /** Adds up to the cap; returns how many tokens were accepted. */
    double deposit(double amount) {
        if (!(amount > 0)) return 0;
        double cap = capacity();
        while (true) {
            long bits = tokens.get();
            double cur = Double.longBitsToDouble(bits);
            double next = Math.min(cap, cur + amount);
            if (next <= cur) return 0;
            if (tokens.compareAndSet(bits, Double.doubleToRawLongBits(next))) return next - cur;
        }
    }

    /** Takes up to {@code wanted} tokens; returns how many were taken (possibly fewer, never more). */
    double take(double wanted) {
        if (!(wanted > 0)) return 0;
        while (true) {
            long bits = tokens.get();
            double cur = Double.longBitsToDouble(bits);
            if (!(cur > 0)) return 0;
            double got = Math.min(cur, wanted);
            double next = got == cur ? 0.0 : cur - got;
            if (tokens.compareAndSet(bits, Double.doubleToRawLongBits(next))) return got;
        }
    }

    /** Called by schedulers when a tenant's rate on their thread changes; a lower budget also trims the pool. */
    void addRate(double delta) {
        if (delta == 0) return;
        while (true) {
            long bits = registeredRate.get();
            double next = Double.longBitsToDouble(bits) + delta;
            if (registeredRate.compareAndSet(bits, Double.doubleToRawLongBits(next))) break;
        }
        if (delta < 0) trimToCapacity();
    }

    private void trimToCapacity() {
        double cap = capacity();
        while (true) {
            long bits = tokens.get();
            if (Double.longBitsToDouble(bits) <= cap) return;
            if (tokens.compareAndSet(bits, Double.doubleToRawLongBits(cap))) return;
        }
    }

    @Override
    public String toString() {
        return "GlobalBucket[threads=" + threads + ", available=" + available() + ", capacity=" + capacity() + "]";
    }
}

package io.reflex.dataplane.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One tenant's connection admission ({@link ConnectionLimits#maxConnectRate}, {@link ConnectionLimits#connectBurst},
 * {@link ConnectionLimits#maxTenantConnections}): how many connections its listener may accept now, and its open
 * connections over all loops. The listener's home loop accepts ({@link #allowance}, {@link #accepted}); the loop
 * serving a connection releases it when it ends ({@link #released}), from any thread, lock-free. When the tenant is
 * over a limit its listener stops accepting ({@link Acceptor}): new connections wait in the kernel's backlog and cost
 * the loop nothing. Per connection, never per request.
 */
public final class TenantAdmission {
    /** Why a listener stopped accepting (the {@code reason} label of the pause metrics). */
    public enum Reason {
        /** Over its connections-per-second bucket: until a token accrues. */
        CONNECT_RATE("connect_rate"),
        /** At its cap of open connections: until one of them closes. */
        MAX_CONNECTIONS("max_connections");

        private final String label;

        Reason(String label) { this.label = label; }

        public String label() { return label; }
    }

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int ACCEPTED = 0, PAUSES = 1, PAUSED_NANOS = 1 + Reason.values().length, N = PAUSED_NANOS + Reason.values().length;

    final String tenant;
    private final ConnectionLimits limits;
    private final int maxOpen;
    /** Null when the rate is unlimited. Home loop only. */
    private final AcceptBucket bucket;
    private final int resumeTokens;
    /** Connections accepted and not yet ended (queued for a loop, open, or failed before it served them). */
    private final AtomicInteger open = new AtomicInteger();
    /** Wakes the paused listener when a close brings the tenant below its cap; set when it starts listening. */
    private volatile Runnable belowCap;
    /** Single writer (the home loop), read by the metrics scrape: accepted, pauses and paused time per reason. */
    private final long[] counts = new long[N];

    public TenantAdmission(String tenant, ConnectionLimits limits) {
        this.tenant = tenant;
        this.limits = limits;
        this.maxOpen = limits.maxTenantConnections();
        this.bucket = limits.maxConnectRate() > 0 ? new AcceptBucket(limits.maxConnectRate(), limits.connectBurst(), System.nanoTime()) : null;
        this.resumeTokens = (int) Math.clamp((long) (limits.maxConnectRate() / 100), 1, Math.max(1, limits.connectBurst()));
    }

    // ---- the home loop ------------------------------------------------------------------------------------------

    void onBelowCap(Runnable wake) { this.belowCap = wake; }

    /** Connections the listener may accept at {@code now} (Integer.MAX_VALUE: no limit applies). */
    int allowance(long now) {
        int n = bucket == null ? Integer.MAX_VALUE : bucket.tokens(now);
        return maxOpen == 0 ? n : Math.min(n, Math.max(0, maxOpen - open.get()));
    }

    /** Which limit holds the listener back when {@link #allowance} is 0: the cap first (no token would help). */
    Reason blockedBy() {
        return maxOpen > 0 && open.get() >= maxOpen ? Reason.MAX_CONNECTIONS : Reason.CONNECT_RATE;
    }

    /** One connection accepted: a token spent, one more open. */
    void accepted(long now) {
        if (bucket != null) bucket.take(1, now);
        open.incrementAndGet();
        add(ACCEPTED, 1);
    }

    /**
     * When a listener paused over the rate should accept again: once a hundredth of a second's worth of tokens has
     * accrued (at least one, at most the burst), so a high rate re-arms it ~100 times a second, not once per token.
     */
    long resumeAt(long now) { return bucket == null ? now : bucket.tokensAt(resumeTokens, now); }

    void paused(Reason r) { add(PAUSES + r.ordinal(), 1); }

    void resumed(Reason r, long pausedNanos) { add(PAUSED_NANOS + r.ordinal(), pausedNanos); }

    // ---- any loop -----------------------------------------------------------------------------------------------

    /** A connection it accepted ended (closed, or never served). At the cap's edge, wakes the listener. */
    void released() {
        int before = open.getAndDecrement();
        if (before == maxOpen && maxOpen > 0) {
            Runnable wake = belowCap;
            if (wake != null) wake.run();
        }
    }

    // ---- metrics (any thread) -----------------------------------------------------------------------------------

    public ConnectionLimits limits() { return limits; }

    /** Connections accepted so far. */
    public long accepted() { return get(ACCEPTED); }

    /** Times the listener had a connection waiting and stopped accepting for {@code r}. */
    public long pauses(Reason r) { return get(PAUSES + r.ordinal()); }

    /** Time the listener spent not accepting for {@code r}, in nanoseconds (pauses that ended). */
    public long pausedNanos(Reason r) { return get(PAUSED_NANOS + r.ordinal()); }

    /** Connections accepted and not yet ended. */
    public int open() { return Math.max(0, open.get()); }

    private void add(int i, long v) {
        LONGS.setRelease(counts, i, (long) LONGS.getOpaque(counts, i) + v);
    }

    private long get(int i) { return (long) LONGS.getAcquire(counts, i); }
}

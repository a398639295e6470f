package io.reflex.dataplane.net;

/**
 * A token bucket of accepts: {@code rate} tokens a second, at most {@code burst} saved up; one token per connection.
 * Kept as the time its tokens ran out ({@code emptyAt}, as in GCRA): no refill step, exact at any rate, and a full
 * bucket is just {@code emptyAt} a burst's worth of time in the past. Owned by one loop thread; times are
 * {@link System#nanoTime()} values, compared by difference.
 */
final class AcceptBucket {
    /** Nanoseconds per token, and the bucket's depth in time ({@code burst} tokens). */
    private final long interval;
    private final long depth;
    private final int burst;
    /** Tokens are {@code (now - emptyAt) / interval}, at most {@code burst}. */
    private long emptyAt;

    AcceptBucket(double rate, int burst, long now) {
        if (!(rate > 0) || burst < 1) throw new IllegalArgumentException("rate and burst must be positive, got " + rate + "/s, burst " + burst);
        this.interval = Math.max(1, Math.round(1e9 / rate));
        this.burst = burst;
        this.depth = interval > Long.MAX_VALUE / 4 / burst ? Long.MAX_VALUE / 4 : interval * burst; // a rate near 0: no overflow
        this.emptyAt = now - depth; // full
    }

    /** Tokens available at {@code now}. */
    int tokens(long now) {
        long saved = now - emptyAt;
        return saved >= depth ? burst : saved < interval ? 0 : (int) (saved / interval);
    }

    /** Spends {@code n} tokens (at most {@link #tokens}). */
    void take(int n, long now) {
        if (now - emptyAt > depth) emptyAt = now - depth; // a full bucket saves no more
        emptyAt += n * interval;
    }

    /** When {@code n} tokens (at most the burst) are available (at or before {@code now} if they are). */
    long tokensAt(int n, long now) {
        return now - emptyAt > depth ? now : emptyAt + Math.min(n, burst) * interval;
    }
}

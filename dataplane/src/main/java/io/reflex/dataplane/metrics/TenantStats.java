package io.reflex.dataplane.metrics;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * One tenant's counters on one dataplane loop. Single writer (the loop thread), no locks, no allocation: counters
 * are plain fields published with release stores, latency goes to a wait-free {@link SingleWriterRecorder} that the
 * metrics scrape flips.
 */
public final class TenantStats {
    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);
    static final int READS = 0, WRITES = 1, READ_BYTES = 2, WRITE_BYTES = 3, ERRORS = 4, REJECTED = 5, SLOW = 6,
            FLUSHES = 7, N = 8;

    private final long[] counters = new long[N];
    private final SingleWriterRecorder latencyMicros = new SingleWriterRecorder(1, 60_000_000L, 2);
    private volatile long sloMicros;

    public TenantStats(long sloMicros) {
        this.sloMicros = sloMicros;
    }

    public void completed(boolean write, int bytes, long latencyNanos, boolean ok) {
        if (!ok) {
            add(ERRORS, 1);
            return;
        }
        add(write ? WRITES : READS, 1);
        add(write ? WRITE_BYTES : READ_BYTES, bytes);
        long micros = Math.max(1, latencyNanos / 1000);
        latencyMicros.recordValue(Math.min(micros, 60_000_000L));
        if (sloMicros > 0 && micros > sloMicros) add(SLOW, 1);
    }

    public void flushed() { add(FLUSHES, 1); }

    /** A request answered with an error status without touching the device (range, busy, auth). */
    public void rejected() { add(REJECTED, 1); }

    private void add(int i, long v) {
        LONGS.setRelease(counters, i, (long) LONGS.getOpaque(counters, i) + v);
    }

    public long get(int i) { return (long) LONGS.getAcquire(counters, i); }

    /** Latencies since the last call (called by the single metrics reader). */
    Histogram intervalHistogram(Histogram recycle) { return latencyMicros.getIntervalHistogram(recycle); }

    public long sloMicros() { return sloMicros; }

    /** The SLO changed on reload; requests slower than this count as slow. */
    public void sloMicros(long micros) { this.sloMicros = micros; }
}

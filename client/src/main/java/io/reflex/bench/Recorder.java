package io.reflex.bench;

import org.HdrHistogram.Histogram;

/** One worker's measurements for one row; merged across workers when the row ends. Not thread-safe. */
final class Recorder {
    /** Highest latency tracked (ns); longer ones are clamped, so a stuck request cannot throw. */
    static final long MAX_TRACKED_NANOS = 60_000_000_000L;

    /** Latency from the intended send time (coordinated-omission corrected; same as actual in closed loop). */
    final Histogram corrected = new Histogram(MAX_TRACKED_NANOS, 3);
    /** Latency from the actual send time, for reference. */
    final Histogram uncorrected = new Histogram(MAX_TRACKED_NANOS, 3);
    long completedInWindow;
    long reads;
    long writes;
    long errors;
    long missed;
    long unfinished;

    void record(long correctedNanos, long uncorrectedNanos) {
        corrected.recordValue(Math.min(Math.max(correctedNanos, 0), MAX_TRACKED_NANOS));
        uncorrected.recordValue(Math.min(Math.max(uncorrectedNanos, 0), MAX_TRACKED_NANOS));
    }

    void reset() {
        corrected.reset();
        uncorrected.reset();
        completedInWindow = reads = writes = errors = missed = unfinished = 0;
    }

    void add(Recorder o) {
        corrected.add(o.corrected);
        uncorrected.add(o.uncorrected);
        completedInWindow += o.completedInWindow;
        reads += o.reads;
        writes += o.writes;
        errors += o.errors;
        missed += o.missed;
        unfinished += o.unfinished;
    }
}

package io.reflex.devmodels;

/** One calibration point: at a p95 latency limit, the device sustains this many tokens per second. */
public record TokenLimit(long p95Micros, double mixedTokensPerSec, double readOnlyTokensPerSec) {
    public TokenLimit {
        if (p95Micros <= 0) throw new IllegalArgumentException("p95Micros must be > 0, got " + p95Micros);
        if (!(mixedTokensPerSec > 0) || !(readOnlyTokensPerSec > 0)) {
            throw new IllegalArgumentException("token rates must be > 0 at p95 " + p95Micros + "µs");
        }
    }
}

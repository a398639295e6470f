package io.reflex.devmodels;

import java.util.List;

/**
 * A calibrated device cost model (DESIGN §4): what a request costs in tokens, and how many tokens per second the
 * device sustains at a p95 latency limit. Immutable; the cost functions are allocation-free.
 *
 * @param name        model name (file name without .yaml)
 * @param readCost4k  tokens per 4 KiB read
 * @param writeCost4k tokens per 4 KiB write
 * @param unlimited   no budget (the "null" model): admission always succeeds, scheduling never throttles
 * @param tokenLimits calibration points sorted by p95Micros ascending
 */
public record DeviceModel(String name, String description, long readCost4k, long writeCost4k, boolean unlimited,
                          List<TokenLimit> tokenLimits) {
    public static final int COST_UNIT_BYTES = 4096;

    public DeviceModel {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("device model needs a name");
        if (readCost4k <= 0 || writeCost4k <= 0) {
            throw new IllegalArgumentException("model " + name + ": readCost4k and writeCost4k must be > 0");
        }
        tokenLimits = List.copyOf(tokenLimits == null ? List.of() : tokenLimits);
        if (!unlimited && tokenLimits.isEmpty()) {
            throw new IllegalArgumentException("model " + name + ": tokenLimits is empty (set unlimited: true for no limits)");
        }
        for (int i = 1; i < tokenLimits.size(); i++) {
            if (tokenLimits.get(i).p95Micros() <= tokenLimits.get(i - 1).p95Micros()) {
                throw new IllegalArgumentException("model " + name + ": tokenLimits must be sorted by p95Micros, strictly ascending");
            }
        }
    }

    /** Tokens one request costs: base × ceil(bytes / 4096), at least one unit (as the original). */
    public long requestCost(boolean write, long bytes) {
        long units = Math.max(1, (bytes + COST_UNIT_BYTES - 1) / COST_UNIT_BYTES);
        return (write ? writeCost4k : readCost4k) * units;
    }

    /** Tokens/s an LC tenant reserves: IOPS × (r·read + (1−r)·write) for 4 KiB requests. */
    public double reservation(long iops, int readPercent) {
        double r = readPercent / 100.0;
        return iops * (r * readCost4k + (1 - r) * writeCost4k);
    }

    /** The strictest p95 the model has a measured rate for (its first point); 0 for an unlimited model. */
    public long strictestP95Micros() {
        return unlimited ? 0 : tokenLimits.getFirst().p95Micros();
    }

    /** Whether the model says anything about a p95 limit this strict: an SLO below its first point has no rate. */
    public boolean reaches(long p95Micros) {
        return p95Micros >= strictestP95Micros();
    }

    /**
     * Token rate the device sustains at a p95 limit; linear interpolation between points, the loosest point's rate
     * beyond it. {@link Double#POSITIVE_INFINITY} for an unlimited model. Zero for a limit stricter than the first
     * point: unlike the original, which clamped to the first point's rate, a limit the device was never measured to
     * meet gets no budget (a calibrated model of a slow or loaded device may start at 2 ms; a 1 ms tenant must not
     * be admitted on the 2 ms budget).
     */
    public double tokenRateAt(long p95Micros, boolean readOnly) {
        if (unlimited) return Double.POSITIVE_INFINITY;
        List<TokenLimit> l = tokenLimits;
        if (!reaches(p95Micros)) return 0;
        for (int i = 1; i < l.size(); i++) {
            TokenLimit hi = l.get(i);
            if (p95Micros <= hi.p95Micros()) {
                TokenLimit lo = l.get(i - 1);
                double t = (double) (p95Micros - lo.p95Micros()) / (hi.p95Micros() - lo.p95Micros());
                return rate(lo, readOnly) + t * (rate(hi, readOnly) - rate(lo, readOnly));
            }
        }
        return rate(l.getLast(), readOnly);
    }

    private static double rate(TokenLimit t, boolean readOnly) {
        return readOnly ? t.readOnlyTokensPerSec() : t.mixedTokensPerSec();
    }
}

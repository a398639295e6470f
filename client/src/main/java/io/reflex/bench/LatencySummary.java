package io.reflex.bench;

import org.HdrHistogram.Histogram;

/** Mean, percentiles and max of a latency histogram recorded in nanoseconds, in microseconds. */
record LatencySummary(long count, double meanUs, double[] percentilesUs, double maxUs) {
    /** The table's percentile columns (the original's) plus 99.9. */
    static final double[] PERCENTILES = {10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.9};

    static LatencySummary of(Histogram h) {
        double[] p = new double[PERCENTILES.length];
        if (h.getTotalCount() == 0) return new LatencySummary(0, 0, p, 0);
        for (int i = 0; i < p.length; i++) p[i] = h.getValueAtPercentile(PERCENTILES[i]) / 1000.0;
        return new LatencySummary(h.getTotalCount(), h.getMean() / 1000.0, p, h.getMaxValue() / 1000.0);
    }

    double percentile(double pct) {
        for (int i = 0; i < PERCENTILES.length; i++) if (PERCENTILES[i] == pct) return percentilesUs[i];
        throw new IllegalArgumentException("percentile " + pct + " is not tracked");
    }
}

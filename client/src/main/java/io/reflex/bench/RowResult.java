package io.reflex.bench;

/**
 * One table row: one open-loop rate, or the closed-loop run.
 *
 * @param targetIops  requested rate (0 in closed loop)
 * @param iops        successful completions inside the measurement window per second
 * @param latency     from the intended send time (coordinated-omission corrected)
 * @param uncorrected from the actual send time
 * @param missed      measured sends more than 1.05 intervals after the previous send
 * @param unfinished  requests still outstanding when the drain timeout expired (also counted in errors)
 */
record RowResult(double targetIops, double iops, long reads, long writes, long errors, long missed, long unfinished,
                 LatencySummary latency, LatencySummary uncorrected) {}

package io.reflex.devmodels.calibration;

/**
 * One measured load point: 4 KiB random I/O at a read percentage, open loop at {@code offeredIops} (or closed loop,
 * then offeredIops = 0). Latencies are coordinated-omission corrected: measured from when a request was due, not from
 * when the driver got round to sending it.
 *
 * @param readPercent    share of reads in the mix, 0..100
 * @param offeredIops    the open-loop arrival rate asked for (0 for a closed-loop probe)
 * @param readIops       reads completed per second
 * @param writeIops      writes completed per second
 * @param readP50Micros  median read latency
 * @param readP95Micros  95th-percentile read latency (what an LC reader's SLO is about)
 * @param writeP95Micros 95th-percentile write latency (0 without writes)
 * @param errors         requests that failed (a calibration with errors is not trusted)
 * @param seconds        measured time (after warm-up)
 */
public record LoadPoint(int readPercent, double offeredIops, double readIops, double writeIops, long readP50Micros,
                        long readP95Micros, long writeP95Micros, long errors, double seconds) {
    /** An open-loop point served less than this share of its offered rate fell behind: the device could not keep up. */
    public static final double FELL_BEHIND_BELOW = 0.9;

    public double iops() {
        return readIops + writeIops;
    }

    /**
     * An open-loop point whose device could not keep up with the offered rate: its achieved rate sits below the load
     * that caused its latency (the calibrator stops sweeps on it, the fit leaves it out, the plot draws it apart).
     */
    public boolean fellBehind() {
        return offeredIops > 0 && iops() < FELL_BEHIND_BELOW * offeredIops;
    }
}

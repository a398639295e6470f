package io.reflex.devmodels.calibration;

import java.time.Duration;
import java.util.List;

/**
 * What a calibration measures. STUB (signatures fixed; helper A1 implements).
 *
 * @param readPercents      mixes swept, 100 first (e.g. 100, 90, 50)
 * @param perPoint          measured time per open-loop point
 * @param warmup            unmeasured time before each point
 * @param probe             time of each closed-loop capacity probe
 * @param probeQueueDepth   queue depth of the capacity probes
 * @param readOnlyFractions open-loop rates of the read-only sweep, as fractions of its probed capacity
 * @param mixedFractions    open-loop rates of the mixed sweeps, as fractions of their probed capacity
 * @param targetsMicros     p95 limits the model gets token rates for
 * @param precondition      write the span once before measuring
 */
public record CalibrationPlan(List<Integer> readPercents, Duration perPoint, Duration warmup, Duration probe, int probeQueueDepth,
                             List<Double> readOnlyFractions, List<Double> mixedFractions, List<Long> targetsMicros,
                             boolean precondition) {
    /** The default: fits in 5 minutes on a device like this VM's disk, preconditioning included. */
    public static CalibrationPlan standard() { throw new UnsupportedOperationException("stub"); }

    /** For tests: a few short points (well under 10 s in all on a file). */
    public static CalibrationPlan quick() { throw new UnsupportedOperationException("stub"); }

    public CalibrationPlan withPerPoint(Duration d) { throw new UnsupportedOperationException("stub"); }

    public CalibrationPlan withPrecondition(boolean p) { throw new UnsupportedOperationException("stub"); }

    /** Expected wall time (without preconditioning, whose time depends on the device). */
    public Duration estimate() { throw new UnsupportedOperationException("stub"); }
}

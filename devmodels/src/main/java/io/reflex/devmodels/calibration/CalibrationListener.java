package io.reflex.devmodels.calibration;

import java.time.Duration;

/** Progress of a calibration: for a progress bar (CLI) or a status condition (node agent). Called on its thread. */
public interface CalibrationListener {
    CalibrationListener NONE = new CalibrationListener() {};

    /**
     * @param fractionDone 0..1 of the planned time
     * @param timeLeft     estimate of the time still needed
     * @param current      what runs now, e.g. "90% reads at 20,000 IOPS (point 12 of 29)"
     */
    default void progress(double fractionDone, Duration timeLeft, String current) {}

    /** A point was measured. */
    default void measured(LoadPoint point) {}
}

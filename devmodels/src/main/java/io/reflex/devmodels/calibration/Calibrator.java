package io.reflex.devmodels.calibration;

import java.io.IOException;

/**
 * Measures a device through a {@link LoadDriver} and fits its cost model. STUB (signatures fixed; helper A1
 * implements). Interruptible: between points, and drivers throw InterruptedIOException when interrupted.
 */
public final class Calibrator {
    private final CalibrationPlan plan;
    private final CalibrationListener listener;

    public Calibrator(CalibrationPlan plan, CalibrationListener listener) {
        this.plan = plan;
        this.listener = listener;
    }

    /** Runs the plan and fits a model named {@code modelName}; {@code description} goes into the model. */
    public Calibration run(LoadDriver driver, String modelName, String description) throws IOException, CalibrationException {
        throw new UnsupportedOperationException("stub");
    }
}

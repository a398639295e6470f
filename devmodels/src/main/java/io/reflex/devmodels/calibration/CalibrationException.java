package io.reflex.devmodels.calibration;

/** The measurements do not give a trustworthy model (errors, no reachable p95 target, ...); the message says why. */
public class CalibrationException extends Exception {
    public CalibrationException(String message) {
        super(message);
    }
}

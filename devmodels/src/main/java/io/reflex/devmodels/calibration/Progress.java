package io.reflex.devmodels.calibration;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * Turns a calibration's steps into the listener's fraction done and time left. The fraction is of planned time, so it
 * moves evenly whatever the device does; skipped steps count as done. Time left is the planned time remaining scaled
 * by the measured pace (drivers overrun a little: ramp-up, teardown). Preconditioning takes what the device needs, so
 * its total is extrapolated from its own progress. The reported fraction never goes down. Synchronized: a driver may
 * report preconditioning progress from its own thread.
 */
final class Progress {
    /** Forward preconditioning progress in steps of at least this much, not every block the driver writes. */
    private static final double PRECONDITION_STEP = 0.01;

    private final CalibrationListener listener;
    private final InstantSource clock;
    private final Duration planned;
    private Duration precondition = Duration.ZERO;
    private Instant preconditionStart;
    private double preconditionReported = -1;
    private Duration plannedDone = Duration.ZERO;
    private Duration plannedRun = Duration.ZERO;
    private Duration actualRun = Duration.ZERO;
    private Instant stepStart;
    private double reported;

    Progress(CalibrationListener listener, InstantSource clock, Duration planned) {
        this.listener = listener;
        this.clock = clock;
        this.planned = planned;
    }

    synchronized void preconditionStarted(String text) {
        preconditionStart = clock.instant();
        preconditioning(0, text);
    }

    /** The driver wrote {@code fraction} of the span. */
    synchronized void preconditioning(double fraction, String text) {
        fraction = Math.clamp(fraction, 0, 1);
        if (fraction < 1 && fraction - preconditionReported < PRECONDITION_STEP) return;
        preconditionReported = fraction;
        Duration elapsed = Duration.between(preconditionStart, clock.instant());
        // Until there is something to extrapolate from, assume it takes as long as the measurements.
        Duration total = fraction >= PRECONDITION_STEP ? scale(elapsed, 1 / fraction) : planned;
        double done = seconds(total) * fraction / (seconds(total) + seconds(planned));
        report(done, total.minus(elapsed).plus(planned), text + String.format(java.util.Locale.ROOT, " (%.0f%%)", 100 * fraction));
    }

    synchronized void preconditionDone() {
        precondition = Duration.between(preconditionStart, clock.instant());
    }

    /** A step begins: report where we are and what runs now. */
    synchronized void starting(String text) {
        stepStart = clock.instant();
        report(fraction(), timeLeft(), text);
    }

    /** The step begun last ended; it was planned to take {@code plannedStep}. */
    synchronized void finished(Duration plannedStep) {
        plannedDone = plannedDone.plus(plannedStep);
        plannedRun = plannedRun.plus(plannedStep);
        actualRun = actualRun.plus(Duration.between(stepStart, clock.instant()));
    }

    /** Planned steps that will not run (a sweep stopped early). */
    synchronized void skipped(Duration plannedSteps) {
        plannedDone = plannedDone.plus(plannedSteps);
    }

    synchronized void done(String text) {
        report(1, Duration.ZERO, text);
    }

    private double fraction() {
        double total = seconds(precondition) + seconds(planned);
        return total == 0 ? 1 : (seconds(precondition) + seconds(plannedDone)) / total;
    }

    private Duration timeLeft() {
        Duration left = planned.minus(plannedDone);
        if (left.isNegative()) return Duration.ZERO;
        double pace = plannedRun.isZero() ? 1 : seconds(actualRun) / seconds(plannedRun);
        return scale(left, pace);
    }

    private void report(double fraction, Duration timeLeft, String text) {
        reported = Math.max(reported, Math.clamp(fraction, 0, 1));
        listener.progress(reported, timeLeft.isNegative() ? Duration.ZERO : timeLeft, text);
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    private static Duration scale(Duration d, double factor) {
        return Duration.ofNanos(Math.round(d.toNanos() * factor));
    }
}

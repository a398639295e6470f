package io.reflex.devmodels.calibration;

import io.reflex.devmodels.DeviceModel;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Measures a device through a {@link LoadDriver} and fits its cost model (ReFlex's method, as bench/calibrate.sh):
 * optional preconditioning, a closed-loop capacity probe per mix, then open-loop sweeps (read-only first) at fractions
 * of each probed capacity, then {@link ModelFit}. Interruptible: between steps, and drivers throw
 * InterruptedIOException when interrupted.
 */
public final class Calibrator {
    /** Open-loop rates below this measure nothing but timer noise (bench/calibrate.sh's floor). */
    static final double MIN_RATE = 100;
    /** A point is saturated when the device completes less than this share of the offered rate... */
    static final double SATURATED_ACHIEVED = 0.9;
    /** ...or its read p95 exceeds this many times the loosest target: heavier points would add nothing to the fit. */
    static final double SATURATED_P95 = 2;
    /** A sweep stops after this many consecutive saturated points (one alone may be a hiccup of the host). */
    static final int SATURATED_RUN = 2;

    private final CalibrationPlan plan;
    private final CalibrationListener listener;
    private final InstantSource clock;

    public Calibrator(CalibrationPlan plan, CalibrationListener listener) {
        this(plan, listener, InstantSource.system());
    }

    /** With a clock of the test's choosing (simulated drivers advance it instead of sleeping). */
    Calibrator(CalibrationPlan plan, CalibrationListener listener, InstantSource clock) {
        this.plan = Objects.requireNonNull(plan, "plan");
        this.listener = listener == null ? CalibrationListener.NONE : listener;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Runs the plan and fits a model named {@code modelName}; {@code description} goes into the model. */
    public Calibration run(LoadDriver driver, String modelName, String description) throws IOException, CalibrationException {
        Objects.requireNonNull(driver, "driver");
        // Checked before minutes of measuring, not after.
        if (modelName == null || modelName.isBlank()) throw new IllegalArgumentException("the model needs a name");
        String driverText = driver.describe();
        double loadBefore = loadAverage();
        Progress progress = new Progress(listener, clock, plan.estimate());
        if (plan.precondition()) precondition(driver, progress);
        List<LoadPoint> capacities = probe(driver, progress);
        List<String> notes = new ArrayList<>();
        List<LoadPoint> points = sweep(driver, capacities, progress, notes);
        notes.add(loadNote(loadBefore, loadAverage()));

        ModelFit.Fit fit = ModelFit.fit(points, capacities, plan.targetsMicros());
        DeviceModel model = new DeviceModel(modelName, description == null ? "" : description, ModelFit.READ_COST,
                fit.writeCost4k(), false, fit.tokenLimits());
        Instant at = clock.instant();
        String yaml = CalibrationYaml.render(model, fit,
                new CalibrationYaml.Run(plan, driverText, at, capacities, points, notes));
        progress.done(String.format(Locale.ROOT, "done: write cost %d, %d token limits", fit.writeCost4k(), fit.tokenLimits().size()));
        String method = String.format(Locale.ROOT,
                "write weight %.2f from the %s; token rates from isotonic read-p95 fits at %d of %d targets",
                fit.writeWeight().value(), fit.writeWeight().how(), fit.tokenLimits().size(), plan.targetsMicros().size());
        return new Calibration(model, yaml, List.copyOf(points), List.copyOf(capacities), fit.writeWeight().value(), method,
                driverText, at);
    }

    private void precondition(LoadDriver driver, Progress progress) throws IOException {
        checkInterrupted();
        String text = "preconditioning: writing the " + bytes(driver.spanBytes()) + " span once";
        progress.preconditionStarted(text);
        driver.precondition(f -> progress.preconditioning(f, text));
        progress.preconditionDone();
    }

    private List<LoadPoint> probe(LoadDriver driver, Progress progress) throws IOException, CalibrationException {
        List<LoadPoint> capacities = new ArrayList<>();
        int n = plan.readPercents().size();
        for (int i = 0; i < n; i++) {
            int r = plan.readPercents().get(i);
            String what = String.format(Locale.ROOT, "capacity probe: %d%% reads, closed loop QD%d", r, plan.probeQueueDepth());
            checkInterrupted();
            progress.starting(String.format(Locale.ROOT, "%s (probe %d of %d)", what, i + 1, n));
            if (!plan.warmup().isZero()) checked(driver.closedLoop(r, plan.probeQueueDepth(), plan.warmup()), what + " (warm-up)");
            LoadPoint cap = checked(driver.closedLoop(r, plan.probeQueueDepth(), plan.probe()), what);
            progress.finished(plan.probeStep());
            listener.measured(cap);
            capacities.add(cap);
        }
        return capacities;
    }

    private List<LoadPoint> sweep(LoadDriver driver, List<LoadPoint> capacities, Progress progress, List<String> notes)
            throws IOException, CalibrationException {
        List<LoadPoint> points = new ArrayList<>();
        double saturatedP95 = SATURATED_P95 * plan.targetsMicros().getLast();
        int number = 0, total = plan.pointCount();
        for (int m = 0; m < plan.readPercents().size(); m++) {
            int r = plan.readPercents().get(m);
            List<Double> fractions = r == 100 ? plan.readOnlyFractions() : plan.mixedFractions();
            double capacity = capacities.get(m).iops();
            int saturated = 0;
            for (int i = 0; i < fractions.size(); i++) {
                double iops = Math.max(MIN_RATE, Math.floor(capacity * fractions.get(i)));
                String what = String.format(Locale.ROOT, "%d%% reads at %,.0f IOPS", r, iops);
                checkInterrupted();
                progress.starting(String.format(Locale.ROOT, "%s (point %d of %d)", what, ++number, total));
                // A mix's first point follows the previous mix's heaviest points (or the probes): the device is still
                // working off their backlog, so it warms up longer (a 90%-read point at 2.7K IOPS measured 2 ms without).
                Duration warmup = i == 0 ? plan.firstPointWarmup() : plan.warmup();
                if (!warmup.isZero()) checked(driver.openLoop(r, iops, warmup), what + " (warm-up)");
                LoadPoint p = checked(driver.openLoop(r, iops, plan.perPoint()), what);
                progress.finished(i == 0 ? plan.firstPointStep() : plan.pointStep());
                listener.measured(p);
                points.add(p);
                saturated = p.iops() < SATURATED_ACHIEVED * iops || p.readP95Micros() > saturatedP95 ? saturated + 1 : 0;
                int left = fractions.size() - i - 1;
                if (saturated == SATURATED_RUN && left > 0) {
                    // Heavier points would only measure the backlog; the fit never extrapolates past what was seen.
                    progress.skipped(plan.pointStep().multipliedBy(left));
                    number += left;
                    notes.add(String.format(Locale.ROOT, "The %d%% read sweep stopped after %d of %d points: %d in a row saturated.",
                            r, i + 1, fractions.size(), SATURATED_RUN));
                    break;
                }
            }
        }
        return points;
    }

    /** A calibration is not trusted when the device failed requests: the model would describe the failures. */
    private static LoadPoint checked(LoadPoint p, String what) throws CalibrationException {
        if (p.errors() > 0) {
            throw new CalibrationException(String.format(Locale.ROOT,
                    "%d requests failed at %s; not calibrating from a device that fails requests (check the device and the driver's log)",
                    p.errors(), what));
        }
        return p;
    }

    private static void checkInterrupted() throws InterruptedIOException {
        if (Thread.interrupted()) throw new InterruptedIOException("calibration interrupted");
    }

    private static String loadNote(double before, double after) {
        if (before < 0) return "Load average not available on this system.";
        int cpus = Runtime.getRuntime().availableProcessors();
        String note = String.format(Locale.ROOT, "%d CPUs; load average at start %.2f, at end %.2f.", cpus, before, after);
        // Other work on the machine makes latencies pessimistic and noisy; say so where the model is read.
        return before > Math.max(1.0, cpus / 2.0)
                ? note + " WARNING: calibrated while the machine was loaded; re-run when it is quiet." : note;
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    static String bytes(long n) {
        if (n >= 1L << 30) return number(n / (double) (1L << 30)) + " GiB";
        if (n >= 1L << 20) return number(n / (double) (1L << 20)) + " MiB";
        return n + " bytes";
    }

    private static String number(double x) {
        return x == Math.rint(x) ? String.format(Locale.ROOT, "%.0f", x) : String.format(Locale.ROOT, "%.1f", x);
    }
}

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
import java.util.Optional;

/**
 * Measures a device through a {@link LoadDriver} and fits its cost model (ReFlex's method, as bench/calibrate.sh):
 * optional preconditioning, a closed-loop capacity probe per mix, then open-loop sweeps (read-only first) at fractions
 * of each probed capacity, each refined at its knee, then a second measurement of the points that decide each mix's
 * rate at the plan's confirm target (a repeat that fails is also one more sample of the lowest capacity seen, which
 * caps the fit), then {@link ModelFit}. Interruptible: between steps, and drivers throw InterruptedIOException when
 * interrupted.
 */
public final class Calibrator {
    /** Open-loop rates below this measure nothing but timer noise (bench/calibrate.sh's floor). */
    static final double MIN_RATE = 100;
    /** A point is saturated when it fell behind its offered rate ({@link LoadPoint#fellBehind()}) or its read p95 exceeds this many times the loosest target: heavier points would add nothing to the fit. */
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
        confirm(driver, points, progress, notes);
        notes.add(loadNote(loadBefore, loadAverage()));

        ModelFit.Fit fit = ModelFit.fit(points, capacities, plan.targetsMicros());
        DeviceModel model = new DeviceModel(modelName, description == null ? "" : description, ModelFit.READ_COST,
                fit.writeCost4k(), false, fit.tokenLimits());
        Instant at = clock.instant();
        String yaml = CalibrationYaml.render(model, fit,
                new CalibrationYaml.Run(plan, driverText, at, capacities, points, notes));
        progress.done(String.format(Locale.ROOT, "done: write cost %d, %d token limits", fit.writeCost4k(), fit.tokenLimits().size()));
        long again = points.size() - points.stream().map(p -> p.readPercent() + "@" + p.offeredIops()).distinct().count();
        String method = String.format(Locale.ROOT,
                "write weight %.2f from the %s; token rates from isotonic read-p95 fits at %d of %d targets, %d point%s deciding %d µs measured again (the worse counts)%s",
                fit.writeWeight().value(), fit.writeWeight().how(), fit.tokenLimits().size(), plan.targetsMicros().size(),
                again, again == 1 ? "" : "s", plan.confirmMicros(), fit.ceiling() == null ? "" : String.format(Locale.ROOT,
                        ", capped at %.0f%% of the lowest capacity seen (%,.0f read-equivalent IOPS): %,.0f tokens/s",
                        100 * fit.ceiling().share(), fit.ceiling().iops(), fit.ceiling().tokens()));
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
                saturated = saturated(p, saturatedP95) ? saturated + 1 : 0;
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
            refineKnee(driver, r, points, progress, notes, saturatedP95);
        }
        return points;
    }

    /**
     * Up to {@link CalibrationPlan#REFINE_POINTS} rates evenly between the mix's last unsaturated point and the first
     * saturated one after it, lightest first, stopping at the first saturated one. Nothing to refine (no saturated
     * point, or the two rates within 15%): the points' time counts as done.
     */
    private void refineKnee(LoadDriver driver, int r, List<LoadPoint> points, Progress progress, List<String> notes,
                            double saturatedP95) throws IOException, CalibrationException {
        List<LoadPoint> mix = points.stream().filter(p -> p.readPercent() == r).toList();
        int bad = -1;
        for (int i = 1; i < mix.size() && bad < 0; i++) {
            if (saturated(mix.get(i), saturatedP95) && !saturated(mix.get(i - 1), saturatedP95)) bad = i;
        }
        int done = 0;
        if (bad > 0 && mix.get(bad).offeredIops() > 1.15 * mix.get(bad - 1).offeredIops()) {
            double lo = mix.get(bad - 1).offeredIops(), hi = mix.get(bad).offeredIops();
            for (int k = 1; k <= CalibrationPlan.REFINE_POINTS; k++) {
                double iops = Math.floor(lo + k * (hi - lo) / (CalibrationPlan.REFINE_POINTS + 1));
                String what = String.format(Locale.ROOT, "%d%% reads at %,.0f IOPS", r, iops);
                checkInterrupted();
                progress.starting(String.format(Locale.ROOT, "%s (refining the knee, %d of %d)", what, k, CalibrationPlan.REFINE_POINTS));
                if (!plan.warmup().isZero()) checked(driver.openLoop(r, iops, plan.warmup()), what + " (warm-up)");
                LoadPoint p = checked(driver.openLoop(r, iops, plan.perPoint()), what);
                progress.finished(plan.pointStep());
                listener.measured(p);
                points.add(p);
                done++;
                if (saturated(p, saturatedP95)) break;
            }
            notes.add(String.format(Locale.ROOT, "The %d%% read knee between %,.0f and %,.0f IOPS was refined with %d point%s.",
                    r, lo, hi, done, done == 1 ? "" : "s"));
        }
        if (done < CalibrationPlan.REFINE_POINTS) progress.skipped(plan.pointStep().multipliedBy(CalibrationPlan.REFINE_POINTS - done));
    }

    /**
     * Measures again, once every mix is swept (a later moment of the machine, after other loads), the points that
     * decide each mix's rate at {@link CalibrationPlan#confirmMicros()}, lightest first, up to
     * {@link CalibrationPlan#CONFIRM_POINTS} per mix ({@link ModelFit#toConfirm}); the fit takes each rate's worse
     * measurement. A repeat that fails moves the deciding points down, so the next one measured is the lower one.
     * Through a dataplane on this VM a point served within 1 ms in one calibration and fell behind in the next: a
     * budget from points that passed once followed that noise (+71% between calibrations).
     */
    private void confirm(LoadDriver driver, List<LoadPoint> points, Progress progress, List<String> notes)
            throws IOException, CalibrationException {
        double saturatedP95 = SATURATED_P95 * plan.targetsMicros().getLast();
        long target = plan.confirmMicros();
        for (int r : plan.readPercents()) {
            List<String> repeats = new ArrayList<>();
            int done = 0;
            for (; done < CalibrationPlan.CONFIRM_POINTS; done++) {
                Optional<LoadPoint> next = ModelFit.toConfirm(points, r, target, saturatedP95);
                if (next.isEmpty()) break;
                LoadPoint first = next.get();
                double iops = first.offeredIops();
                String what = String.format(Locale.ROOT, "%d%% reads at %,.0f IOPS", r, iops);
                checkInterrupted();
                progress.starting(String.format(Locale.ROOT, "%s (confirming the %d µs point, %d of %d)", what, target, done + 1,
                        CalibrationPlan.CONFIRM_POINTS));
                Duration warmup = done == 0 ? plan.firstPointWarmup() : plan.warmup();
                if (!warmup.isZero()) checked(driver.openLoop(r, iops, warmup), what + " (warm-up)");
                LoadPoint p = checked(driver.openLoop(r, iops, plan.perPoint()), what);
                progress.finished(plan.confirmStep(done));
                listener.measured(p);
                points.add(p);
                repeats.add(repeat(first, p));
            }
            for (int k = done; k < CalibrationPlan.CONFIRM_POINTS; k++) progress.skipped(plan.confirmStep(k));
            List<Double> stalls = ModelFit.rates(points, saturatedP95).getOrDefault(r, List.of()).stream().filter(ModelFit.Rate::stall)
                    .map(x -> x.point().offeredIops()).toList();
            notes.add(confirmNote(r, target, repeats, stalls, ModelFit.toConfirm(points, r, target, saturatedP95)));
        }
    }

    /** "at 134,615 IOPS 134874->1026 then 45067->6392119 (fell behind: the curve ends below it)". */
    private static String repeat(LoadPoint first, LoadPoint again) {
        String verdict;
        if (again.fellBehind() && !first.fellBehind()) {
            verdict = "fell behind: the curve ends below it";
        } else {
            verdict = String.format(Locale.ROOT, "p95 %+.0f%%, served %+.1f%%", 100.0 * (again.readP95Micros() - first.readP95Micros())
                    / Math.max(1, first.readP95Micros()), 100 * (again.iops() - first.iops()) / Math.max(1, first.iops()));
        }
        return String.format(Locale.ROOT, "at %,.0f IOPS %s then %s (%s)", first.offeredIops(), CalibrationYaml.point(first),
                CalibrationYaml.point(again), verdict);
    }

    private static String confirmNote(int r, long target, List<String> repeats, List<Double> stalls, Optional<LoadPoint> unconfirmed) {
        String head = String.format(Locale.ROOT, "Confirmed (%d%% reads, the points deciding the %d µs rate, measured again after all sweeps; the fit takes the worse"
                + " unless a heavier load kept up at a lower p95): ", r, target);
        String body = repeats.isEmpty() ? "none needed (no unsaturated point decides it, or the target is below the lightest load)"
                : String.join("; ", repeats);
        if (!stalls.isEmpty()) {
            body += stalls.stream().map(x -> String.format(Locale.ROOT, "%,.0f", x)).collect(java.util.stream.Collectors.joining(", ",
                    "; a stall of the host at ", " IOPS (a heavier load kept up at a lower p95): the better measurement counts"));
        }
        String left = unconfirmed.map(p -> String.format(Locale.ROOT, "; the point at %,.0f IOPS that now decides it was measured once only",
                p.offeredIops())).orElse("");
        return head + body + left + ".";
    }

    private static boolean saturated(LoadPoint p, double saturatedP95) {
        return p.fellBehind() || p.readP95Micros() > saturatedP95;
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

package io.reflex.devmodels.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CalibratorTest {
    private static final double CAPACITY = 60_000;
    private static final double WRITE_WEIGHT = 8;

    private final FakeClock clock = new FakeClock();
    private final SimulatedDevice device = new SimulatedDevice(clock, CAPACITY, WRITE_WEIGHT, 80);
    private final Recorder recorder = new Recorder();

    record Report(double fraction, Duration timeLeft, String text) {}

    static final class Recorder implements CalibrationListener {
        final List<Report> progress = new ArrayList<>();
        final List<LoadPoint> measured = new ArrayList<>();

        @Override
        public void progress(double fractionDone, Duration timeLeft, String current) {
            progress.add(new Report(fractionDone, timeLeft, current));
        }

        @Override
        public void measured(LoadPoint point) {
            measured.add(point);
        }

        void assertMonotoneToOne() {
            assertThat(progress).isNotEmpty();
            for (int i = 1; i < progress.size(); i++) {
                assertThat(progress.get(i).fraction()).as("report %d: %s", i, progress.get(i)).isGreaterThanOrEqualTo(progress.get(i - 1).fraction());
                assertThat(progress.get(i).timeLeft().isNegative()).isFalse();
            }
            assertThat(progress.getLast().fraction()).isEqualTo(1.0);
            assertThat(progress.getLast().timeLeft()).isZero();
        }
    }

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    private Calibration run(CalibrationPlan plan) throws Exception {
        return new Calibrator(plan, recorder, clock).run(device, "sim", "simulated device: 60k IOPS, writes cost 8 reads");
    }

    @Test
    void recoversTheWriteWeightAndABudgetNearTheCapacity() throws Exception {
        Calibration c = run(CalibrationPlan.standard());

        assertThat(c.writeWeight()).isCloseTo(WRITE_WEIGHT, within(0.25 * WRITE_WEIGHT));
        assertThat(c.method()).contains("curve-overlap");
        DeviceModel m = c.model();
        assertThat(m.readCost4k()).isEqualTo(100);
        assertThat(m.writeCost4k()).isEqualTo(Math.round(100 * c.writeWeight()));
        assertThat(m.tokenLimits()).hasSize(CalibrationPlan.STANDARD_TARGETS.size());
        // The budget at a target is what the device sustains there (the convex curve's chords make it a little lower).
        for (long target : List.of(500L, 1000L)) {
            double expected = 100 * CAPACITY * Math.min(0.95, device.utilisationAt(target));
            assertThat(m.tokenRateAt(target, true)).as("read-only at %d µs", target).isBetween(0.85 * expected, 1.001 * expected);
            assertThat(m.tokenRateAt(target, false)).as("mixed at %d µs", target).isBetween(0.75 * expected, 1.001 * expected);
        }
        assertThat(c.capacities()).hasSize(3);
        // 29 sweep points, no knee (nothing saturates), and each mix's heaviest point measured again: it alone decides the
        // 1 ms rate (every p95 stays below 1 ms), and it holds, so nothing below it needs confirming.
        assertThat(c.points()).hasSize(29 + 3);
        assertThat(c.points().subList(29, 32)).extracting(LoadPoint::offeredIops).containsExactly(
                c.points().get(10).offeredIops(), c.points().get(19).offeredIops(), c.points().get(28).offeredIops());
        assertThat(c.yaml()).contains("# Confirmed (100% reads, the points deciding the 1000 µs rate, measured again after all sweeps; the fit takes the worse unless a heavier load kept up at a lower p95): at ");
        assertThat(recorder.measured).hasSize(3 + 32).containsAll(c.points()).containsAll(c.capacities());
        assertThat(c.driver()).isEqualTo(device.describe());
        assertThat(c.at()).isEqualTo(clock.instant());
    }

    @Test
    void yamlRoundTripsAndListsEveryPoint() throws Exception {
        String description = "disk: \"nvme0\" # not a comment\nsecond line, ünïcode";
        Calibration c = new Calibrator(CalibrationPlan.standard(), recorder, clock).run(device, "sim-disk", description);

        DeviceModel parsed = DeviceModels.parse(c.yaml().getBytes(StandardCharsets.UTF_8), "calibration");
        assertThat(parsed).isEqualTo(c.model());
        assertThat(parsed.description()).isEqualTo(description);
        assertThat(c.yaml()).startsWith("# Calibrated by the ReFlex calibrator on 2026-12-06")
                .contains("# through " + device.describe())
                .contains("Write weight w = ").contains("Read-only QD32 capacity").contains("90% read QD32")
                .contains("#   100% read: ").contains("#   50% read: ");
        // The header's points are the measured ones, repeats included, by mix in measured order (the format the
        // committed models have, so the same tools read both).
        CommittedModel header = CommittedModel.parse(c.yaml());
        List<LoadPoint> byMix = CalibrationPlan.standard().readPercents().stream()
                .flatMap(r -> c.points().stream().filter(p -> p.readPercent() == r)).toList();
        assertThat(header.points()).hasSize(byMix.size());
        for (int i = 0; i < byMix.size(); i++) {
            assertThat(header.points().get(i).readP95Micros()).isEqualTo(byMix.get(i).readP95Micros());
            assertThat(header.points().get(i).iops()).isCloseTo(byMix.get(i).iops(), within(1.0));
        }
        assertThat(header.capacities()).hasSize(3);
    }

    @Test
    void reportsProgressMonotonicallyToOneWithTheTimeLeftFromThePlan() throws Exception {
        CalibrationPlan plan = CalibrationPlan.standard().withPrecondition(false);
        run(plan);

        recorder.assertMonotoneToOne();
        assertThat(recorder.progress.getFirst().fraction()).isZero();
        assertThat(recorder.progress.getFirst().timeLeft()).isEqualTo(plan.estimate());
        // The simulated device takes exactly the planned time: time left is always the plan's remainder.
        for (Report r : recorder.progress) {
            double left = plan.estimate().toNanos() * (1 - r.fraction()) / 1e9;
            assertThat(r.timeLeft().toNanos() / 1e9).as(r.toString()).isCloseTo(left, within(0.01));
        }
        // The total includes the confirmations: they start when all but their planned time is done.
        Report confirming = recorder.progress.stream().filter(r -> r.text().contains("(confirming the 1000 µs point, 1 of 2)"))
                .findFirst().orElseThrow();
        assertThat(confirming.text()).matches("100% reads at [0-9,]+ IOPS \\(confirming the 1000 µs point, 1 of 2\\)");
        assertThat(confirming.timeLeft()).isEqualTo(plan.confirmSteps().multipliedBy(3));
        List<String> texts = recorder.progress.stream().map(Report::text).toList();
        assertThat(texts).contains("capacity probe: 90% reads, closed loop QD32 (probe 2 of 3)");
        assertThat(texts).anyMatch(t -> t.matches("90% reads at [0-9,]+ IOPS \\(point 12 of 29\\)"));
        assertThat(texts).anyMatch(t -> t.matches("100% reads at \\d{1,3},\\d{3} IOPS \\(point 1 of 29\\)"));
    }

    @Test
    void preconditionsWithProgressWhenPlanned() throws Exception {
        run(CalibrationPlan.standard());

        recorder.assertMonotoneToOne();
        List<Report> pre = recorder.progress.stream().filter(r -> r.text().startsWith("preconditioning")).toList();
        assertThat(pre.size()).isBetween(50, 110);   // forwarded about every 1%, not for each of the driver's 200 calls
        assertThat(pre.getFirst().text()).isEqualTo("preconditioning: writing the 4 GiB span once (0%)");
        assertThat(pre.getLast().text()).endsWith("(100%)");
        assertThat(pre.getLast().timeLeft()).isEqualTo(CalibrationPlan.standard().estimate());
    }

    @Test
    void stopsASweepEarlyOnceTheDeviceSaturatesAndNeverExtrapolates() throws Exception {
        device.probeOverstatement = 2;   // open-loop rates from 0.6 of the "capacity" on exceed what the device serves
        Calibration c = run(CalibrationPlan.standard().withPrecondition(false));

        List<LoadPoint> readOnly = c.points().stream().filter(p -> p.readPercent() == 100).toList();
        // 0.05 .. 0.5 fine, 0.6 and 0.7 saturated, 0.8 .. 1.0 skipped; then the knee between 0.5 and 0.6 refined (a
        // point at 0.533 saturates: the refinement stops there); then 0.5, the heaviest served, measured again
        assertThat(readOnly.subList(0, 8)).extracting(LoadPoint::offeredIops).isSorted();
        assertThat(readOnly.size()).isBetween(9, 8 + CalibrationPlan.REFINE_POINTS + CalibrationPlan.CONFIRM_POINTS);
        assertThat(readOnly.subList(8, readOnly.size())).allSatisfy(p -> assertThat(p.offeredIops())
                .isBetween(readOnly.get(5).offeredIops(), readOnly.get(6).offeredIops()));
        assertThat(c.yaml()).contains("The 100% read sweep stopped after 8 of 11 points").contains("The 100% read knee between");
        double maxReadOnly = readOnly.stream().mapToDouble(LoadPoint::readIops).max().orElseThrow();
        for (var limit : c.model().tokenLimits()) assertThat(limit.readOnlyTokensPerSec()).isLessThanOrEqualTo(100 * maxReadOnly);
        assertThat(c.model().tokenRateAt(1000, true)).isLessThanOrEqualTo(100 * CAPACITY);
        recorder.assertMonotoneToOne();
        assertThat(recorder.progress.stream().map(Report::text)).noneMatch(t -> t.contains("(point 9 of 29)"));
        assertThat(c.writeWeight()).isCloseTo(WRITE_WEIGHT, within(0.25 * WRITE_WEIGHT));
    }

    @Test
    void quickPlanGivesAModelFromTheCapacityRatio() throws Exception {
        Calibration c = run(CalibrationPlan.quick());

        assertThat(c.points()).hasSize(9 + 3);   // each mix's heaviest point confirmed
        assertThat(clock.instant()).isBefore(FakeClock.START.plus(CalibrationPlan.quick().estimate()).plusNanos(1));
        assertThat(c.writeWeight()).isCloseTo(WRITE_WEIGHT, within(0.25 * WRITE_WEIGHT));
        assertThat(c.model().tokenLimits()).isNotEmpty();
        recorder.assertMonotoneToOne();
    }

    @Test
    void aPointThatFailsItsConfirmationLowersTheBudget() throws Exception {
        Calibration steady = run(CalibrationPlan.standard().withPrecondition(false));
        double readOnly = steady.model().tokenRateAt(1000, true), mixed = steady.model().tokenRateAt(1000, false);
        List<LoadPoint> ro = steady.points().stream().filter(p -> p.readPercent() == 100).toList();
        double top = ro.get(10).offeredIops();

        // Same device, but the heaviest read-only rate falls behind when measured again (the node's bad moment).
        Repeating flaky = new Repeating(new SimulatedDevice(new FakeClock(), CAPACITY, WRITE_WEIGHT, 80),
                p -> p.readPercent() == 100 && p.offeredIops() >= top, Repeating::stall);
        Recorder rec = new Recorder();
        Calibration c = new Calibrator(CalibrationPlan.standard().withPrecondition(false), rec, flaky.device.clock).run(flaky, "sim", "flaky");

        // The failed rate ends the read-only curve; the next one down now decides the curve, is confirmed (it holds), and
        // the curve's rate is what it served: not interpolated towards the failed rate, nor past it to anything heavier.
        assertThat(flaky.repeated).containsExactly(top, ro.get(9).offeredIops(), steady.points().get(19).offeredIops(),
                steady.points().get(28).offeredIops());
        double next = c.points().stream().filter(p -> p.readPercent() == 100 && p.offeredIops() == ro.get(9).offeredIops())
                .mapToDouble(LoadPoint::readIops).min().orElseThrow();
        List<LoadPoint> open = c.points();
        ModelFit.Fit fit = ModelFit.fit(open, c.capacities(), CalibrationPlan.standard().targetsMicros());
        double curve = ModelFit.tokenLimits(open, fit.writeWeight().value(), List.of(1000L)).getFirst().readOnlyTokensPerSec();
        double steadyCurve = ModelFit.tokenLimits(steady.points(), steady.writeWeight(), List.of(1000L)).getFirst().readOnlyTokensPerSec();
        assertThat(curve).isEqualTo(ModelFit.roundDown(100 * next)).isLessThan(0.95 * steadyCurve);
        // And what the stalled repeat served (half its rate) is the lowest capacity seen: the budget is 90% of it.
        double stalled = open.stream().filter(p -> p.readPercent() == 100 && p.offeredIops() == top).mapToDouble(LoadPoint::readIops).min().orElseThrow();
        assertThat(fit.ceiling().iops()).isEqualTo(stalled);
        assertThat(c.model().tokenRateAt(1000, true)).isEqualTo(Math.min(curve, ModelFit.roundDown(0.9 * 100 * stalled)));
        assertThat(c.model().tokenRateAt(1000, false)).isLessThanOrEqualTo(mixed);
        assertThat(c.yaml()).contains("(fell behind: the curve ends below it); at ");
        rec.assertMonotoneToOne();

        // A mixed rate failing its confirmation lowers the mixed budget the same way.
        double top90 = steady.points().get(19).offeredIops();
        Repeating flaky90 = new Repeating(new SimulatedDevice(new FakeClock(), CAPACITY, WRITE_WEIGHT, 80),
                p -> p.readPercent() == 90 && p.offeredIops() >= top90, Repeating::stall);
        Calibration c90 = new Calibrator(CalibrationPlan.standard().withPrecondition(false), null, flaky90.device.clock).run(flaky90, "sim", "flaky");
        assertThat(c90.model().tokenRateAt(1000, false)).isLessThan(0.95 * mixed);
        // The stalled 90% repeat served about half the device's read-equivalent capacity: that caps read-only rates too.
        double capped = ModelFit.fit(c90.points(), c90.capacities(), CalibrationPlan.standard().targetsMicros()).ceiling().tokens();
        assertThat(c90.model().tokenRateAt(1000, true)).isEqualTo(Math.min(readOnly, capped)).isLessThan(0.6 * readOnly);
    }

    @Test
    void theFitTakesEachRatesWorseMeasurement() throws Exception {
        // Every repeat serves 2% less at a 30% higher p95: still served, but worse than the first time.
        Repeating worse = new Repeating(device, p -> true, p -> new LoadPoint(p.readPercent(), p.offeredIops(), 0.98 * p.readIops(),
                0.98 * p.writeIops(), p.readP50Micros(), Math.round(1.3 * p.readP95Micros()), p.writeP95Micros(), 0, p.seconds()));
        CalibrationPlan plan = CalibrationPlan.standard().withPrecondition(false);
        Calibration c = new Calibrator(plan, recorder, clock).run(worse, "sim", "worse repeats");

        assertThat(worse.repeated).isNotEmpty();
        // The model is the fit of the points with each repeated rate's first measurement replaced by its repeat...
        List<LoadPoint> firsts = new ArrayList<>(), seconds = new ArrayList<>();
        for (LoadPoint p : c.points()) {
            boolean repeated = c.points().stream().filter(q -> q.readPercent() == p.readPercent() && q.offeredIops() == p.offeredIops()).count() > 1;
            boolean isFirst = c.points().stream().filter(q -> q.readPercent() == p.readPercent() && q.offeredIops() == p.offeredIops())
                    .findFirst().orElseThrow() == p;
            if (!repeated || isFirst) firsts.add(p);
            if (!repeated || !isFirst) seconds.add(p);
        }
        ModelFit.Fit fit = ModelFit.fit(seconds, c.capacities(), plan.targetsMicros());
        assertThat(c.model().tokenLimits()).isEqualTo(fit.tokenLimits());
        assertThat(c.model().writeCost4k()).isEqualTo(fit.writeCost4k());
        // ...whose curve is below the fit of the first measurements alone (both capped by the sweeps' saturated points).
        ModelFit.Fit once = ModelFit.fit(firsts, c.capacities(), plan.targetsMicros());
        assertThat(c.model().tokenRateAt(1000, true)).isLessThanOrEqualTo(new DeviceModel("once", "", 100, once.writeCost4k(), false,
                once.tokenLimits()).tokenRateAt(1000, true));
        double w = fit.writeWeight().value();
        assertThat(ModelFit.tokenLimits(seconds, w, List.of(1000L)).getFirst().readOnlyTokensPerSec())
                .isLessThan(ModelFit.tokenLimits(firsts, w, List.of(1000L)).getFirst().readOnlyTokensPerSec());
        assertThat(c.yaml()).containsPattern("at [0-9,]+ IOPS [0-9]+->[0-9]+ then [0-9]+->[0-9]+ \\(p95 \\+[23][0-9]%, served -2\\.0%\\)");
        recorder.assertMonotoneToOne();
    }

    @Test
    void progressCountsConfirmationsThatFailAndSkipsThoseNotNeeded() throws Exception {
        // The read-only top fails its repeat, so a second read-only confirmation runs; the mixes need one each.
        CalibrationPlan plan = CalibrationPlan.standard().withPrecondition(false);
        Repeating flaky = new Repeating(device, p -> p.readPercent() == 100 && p.offeredIops() > 0.97 * 0.95 * CAPACITY, Repeating::stall);
        new Calibrator(plan, recorder, clock).run(flaky, "sim", "flaky");

        assertThat(flaky.repeated).hasSize(4);
        recorder.assertMonotoneToOne();
        for (Report r : recorder.progress) {
            double left = plan.estimate().toNanos() * (1 - r.fraction()) / 1e9;
            assertThat(r.timeLeft().toNanos() / 1e9).as(r.toString()).isCloseTo(left, within(0.01));
        }
        assertThat(recorder.progress.stream().map(Report::text)).anyMatch(t -> t.startsWith("100% reads") && t.endsWith("(confirming the 1000 µs point, 2 of 2)"))
                .noneMatch(t -> t.startsWith("90% reads") && t.endsWith("2 of 2)"));
    }

    /**
     * The simulated device, except that a rate measured a second time (a confirmation; warm-ups, shorter, do not count)
     * comes out as {@code repeat} makes it when {@code affected}.
     */
    static final class Repeating implements LoadDriver {
        final SimulatedDevice device;
        private final Predicate<LoadPoint> affected;
        private final UnaryOperator<LoadPoint> repeat;
        private final Set<String> measured = new HashSet<>();
        final List<Double> repeated = new ArrayList<>();

        Repeating(SimulatedDevice device, Predicate<LoadPoint> affected, UnaryOperator<LoadPoint> repeat) {
            this.device = device;
            this.affected = affected;
            this.repeat = repeat;
        }

        /** Fell behind: half the offered rate served, p95 seconds. */
        static LoadPoint stall(LoadPoint p) {
            return new LoadPoint(p.readPercent(), p.offeredIops(), p.readIops() / 2, p.writeIops() / 2, 1_500_000, 3_000_000,
                    p.writeIops() > 0 ? 3_000_000 : 0, 0, p.seconds());
        }

        @Override
        public LoadPoint openLoop(int readPercent, double iops, Duration duration) throws java.io.IOException {
            LoadPoint p = device.openLoop(readPercent, iops, duration);
            if (!duration.equals(CalibrationPlan.standard().perPoint()) || measured.add(readPercent + "@" + iops)) return p;
            repeated.add(iops);
            return affected.test(p) ? repeat.apply(p) : p;
        }

        @Override
        public LoadPoint closedLoop(int readPercent, int queueDepth, Duration duration) throws java.io.IOException {
            return device.closedLoop(readPercent, queueDepth, duration);
        }

        @Override
        public String describe() {
            return device.describe();
        }

        @Override
        public long spanBytes() {
            return device.spanBytes();
        }

        @Override
        public void precondition(java.util.function.DoubleConsumer progress) throws java.io.IOException {
            device.precondition(progress);
        }

        @Override
        public void close() {}
    }

    @Test
    void refusesWhenTheDriverReportsErrors() {
        device.errorsFromCall = 10;
        assertThatThrownBy(() -> run(CalibrationPlan.standard()))
                .isInstanceOf(CalibrationException.class)
                .hasMessageContaining("3 requests failed at");
        assertThat(device.calls).isEqualTo(10);   // at once, not after the whole plan
    }

    @Test
    void failsClearlyWhenNoTargetIsReachable() {
        SimulatedDevice slow = new SimulatedDevice(clock, CAPACITY, WRITE_WEIGHT, 8_000);
        assertThatThrownBy(() -> new Calibrator(CalibrationPlan.standard().withPrecondition(false), recorder, clock).run(slow, "slow", "slow"))
                .isInstanceOf(CalibrationException.class)
                .hasMessageContaining("no p95 target");
    }

    @Test
    void stopsWhenInterrupted() {
        device.interruptOnCall = 6;   // the end of the third probe (a warm-up and a measurement per step)
        assertThatThrownBy(() -> run(CalibrationPlan.standard())).isInstanceOf(InterruptedIOException.class);
        assertThat(device.calls).isEqualTo(6);
    }

    @Test
    void rejectsABlankModelNameBeforeMeasuring() {
        assertThatThrownBy(() -> new Calibrator(CalibrationPlan.quick(), recorder, clock).run(device, " ", "d"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(device.calls).isZero();
    }
}

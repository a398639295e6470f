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
import java.util.List;
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
        assertThat(c.points()).hasSize(29);
        assertThat(recorder.measured).hasSize(3 + 29).containsAll(c.points()).containsAll(c.capacities());
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
        // The header's points are the measured ones (the format the committed models have, so the same tools read both).
        CommittedModel header = CommittedModel.parse(c.yaml());
        assertThat(header.points()).hasSize(c.points().size());
        for (int i = 0; i < c.points().size(); i++) {
            assertThat(header.points().get(i).readP95Micros()).isEqualTo(c.points().get(i).readP95Micros());
            assertThat(header.points().get(i).iops()).isCloseTo(c.points().get(i).iops(), within(1.0));
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
        // point at 0.525 still serves, 0.55 saturates: the refinement stops there)
        assertThat(readOnly.subList(0, 8)).extracting(LoadPoint::offeredIops).isSorted();
        assertThat(readOnly.size()).isBetween(9, 8 + CalibrationPlan.REFINE_POINTS);
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

        assertThat(c.points()).hasSize(9);
        assertThat(c.writeWeight()).isCloseTo(WRITE_WEIGHT, within(0.25 * WRITE_WEIGHT));
        assertThat(c.model().tokenLimits()).isNotEmpty();
        recorder.assertMonotoneToOne();
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

package io.reflex.devmodels.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TokenLimit;
import io.reflex.devmodels.calibration.ModelFit.XY;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelFitTest {
    private static final Path VIRTIO = Path.of("models/virtio-vm.yaml");

    /**
     * The committed model's points (fitted by the retired bench/lib/calib.py: w = 16.2 from 18 overlap points at a 1.3x
     * rise): the read-only rates are reproduced exactly (they do not depend on w); w now comes from the capacity probes
     * (8.94, 10.18; the 9 overlap points at a clear rise give 5.5, lower), and the mixed rates follow from it.
     */
    @Test
    void fitsTheCommittedVirtioPoints() throws Exception {
        CommittedModel data = CommittedModel.read(VIRTIO);
        DeviceModel committed = DeviceModels.load(VIRTIO);
        assertThat(data.points()).hasSize(11 + 9 + 9);
        assertThat(data.capacities()).hasSize(3);

        ModelFit.Fit fit = ModelFit.fit(data.points(), data.capacities(), CalibrationPlan.STANDARD_TARGETS);

        assertThat(fit.writeWeight().fromCapacity()).hasSize(2)
                .satisfies(w -> assertThat(w.get(0)).isCloseTo(8.94, within(0.01)))   // by read percent: 75%, then 90%
                .satisfies(w -> assertThat(w.get(1)).isCloseTo(10.18, within(0.01)));
        assertThat(fit.writeWeight().overlapPoints()).isEqualTo(9);
        assertThat(fit.writeWeight().value()).isCloseTo((8.94 + 10.18) / 2, within(0.01));
        assertThat(fit.writeWeight().how()).startsWith("capacity ratio").contains("curve overlap: 5.48 from 9 points, lower");
        assertThat(fit.writeCost4k()).isEqualTo(956);
        assertThat(fit.tokenLimits()).hasSameSizeAs(committed.tokenLimits());
        for (int i = 0; i < fit.tokenLimits().size(); i++) {
            TokenLimit got = fit.tokenLimits().get(i), want = committed.tokenLimits().get(i);
            assertThat(got.p95Micros()).isEqualTo(want.p95Micros());
            assertThat(got.readOnlyTokensPerSec()).as("read-only at %d µs", want.p95Micros())
                    .isCloseTo(want.readOnlyTokensPerSec(), within(0.02 * want.readOnlyTokensPerSec()));
            assertThat(got.mixedTokensPerSec()).isLessThanOrEqualTo(got.readOnlyTokensPerSec());
        }
        assertThat(fit.skippedTargets()).isEmpty();
    }

    /** Three calibrations of a virtio disk without a knee (2026-12-06 14:47-14:57): the probes agree, the overlap did not. */
    @Test
    void aFlatCurveTakesTheWeightFromTheProbes() throws Exception {
        LoadPoint ro = new LoadPoint(100, 0, 192832, 0, 0, 0, 0, 0, 3);
        List<LoadPoint> caps = List.of(ro, new LoadPoint(90, 0, 125279, 13907, 0, 0, 0, 0, 3), new LoadPoint(50, 0, 44347, 44280, 0, 0, 0, 0, 3));
        List<LoadPoint> points = new java.util.ArrayList<>();
        long[][] roPts = {{9674, 77}, {19320, 88}, {38385, 80}, {57936, 86}, {77273, 83}, {96564, 106}, {115812, 101}, {134967, 107},
                {154305, 132}, {173589, 192}, {192637, 541}};
        for (long[] p : roPts) points.add(new LoadPoint(100, p[0], p[0], 0, 0, p[1], 0, 0, 5));
        long[][] mix90 = {{2771, 281, 84}, {6930, 697, 77}, {13828, 1391, 102}, {20897, 2101, 196}, {27744, 2747, 100}, {41757, 4154, 117},
                {62639, 6306, 126}, {83647, 8364, 136}, {111102, 11092, 200}};
        for (long[] p : mix90) points.add(new LoadPoint(90, p[0], p[0] - p[1], p[1], 0, p[2], 0, 0, 5));
        ModelFit.WriteWeight w = ModelFit.writeWeight(points, caps);
        assertThat(w.value()).isBetween(3.3, 4.9);
        assertThat(w.how()).startsWith("capacity ratio");
    }

    /** Saturated points (served far below what was offered) stay out of the curve: the budget ends at the heaviest load served. */
    @Test
    void saturatedPointsDoNotPullTheBudgetDown() throws Exception {
        List<LoadPoint> points = new java.util.ArrayList<>();
        long[][] served = {{7063, 111}, {14182, 134}, {28397, 168}, {42425, 257}, {56347, 275}, {70693, 355}, {84512, 445}};
        for (long[] p : served) points.add(new LoadPoint(100, p[0], p[0], 0, 0, p[1], 0, 0, 5));
        points.add(new LoadPoint(100, 98_882, 54_847, 0, 0, 5_007_999, 0, 0, 5));   // offered 98.9K, served 54.8K
        points.add(new LoadPoint(100, 113_008, 41_651, 0, 0, 6_186_598, 0, 0, 5));
        points.add(new LoadPoint(90, 2600, 2340, 260, 0, 95, 0, 0, 5));
        points.add(new LoadPoint(90, 52_000, 46_800, 5200, 0, 342, 0, 0, 5));
        List<LoadPoint> caps = List.of(new LoadPoint(100, 0, 140_000, 0, 0, 0, 0, 0, 3), new LoadPoint(90, 0, 90_000, 10_000, 0, 0, 0, 0, 3));
        assertThat(ModelFit.tokenLimits(points, 1, List.of(1000L)).getFirst().readOnlyTokensPerSec()).isCloseTo(100.0 * 84_512, within(1000.0));
        // What they served is a capacity seen, though: the lowest (41,651/s) caps the model at 90% of it.
        ModelFit.Fit fit = ModelFit.fit(points, caps, List.of(1000L));
        assertThat(fit.ceiling().iops()).isEqualTo(41_651);
        assertThat(fit.tokenLimits().getFirst().readOnlyTokensPerSec()).isEqualTo(ModelFit.roundDown(0.9 * 100 * 41_651));
    }

    /** A read-only curve crossing 1 ms between 40K (800 µs) and 50K (1.5 ms) reads/s: 37.5K... 47.1K depending on repeats. */
    private static List<LoadPoint> knee(LoadPoint... more) {
        List<LoadPoint> points = new java.util.ArrayList<>(List.of(ro(10_000, 100), ro(20_000, 200), ro(30_000, 400), ro(40_000, 800), ro(50_000, 1500)));
        points.addAll(List.of(more));
        return points;
    }

    private static double readOnlyAt1ms(List<LoadPoint> points) {
        return ModelFit.tokenLimits(points, 1, List.of(1000L)).getFirst().readOnlyTokensPerSec();
    }

    @Test
    void aRateCountsWithItsWorseMeasurementInEitherOrder() {
        assertThat(readOnlyAt1ms(knee())).isEqualTo(ModelFit.roundDown(100 * (40_000 + 10_000 * 200 / 700.0)));
        // Measured again at 1.2 ms: the curve crosses 1 ms before 40K.
        LoadPoint slower = new LoadPoint(100, 40_000, 40_000, 0, 0, 1200, 0, 0, 5);
        assertThat(readOnlyAt1ms(knee(slower))).isEqualTo(100 * (30_000 + 10_000 * 600 / 800.0));
        List<LoadPoint> repeatFirst = knee();
        repeatFirst.add(0, slower);
        assertThat(readOnlyAt1ms(repeatFirst)).isEqualTo(readOnlyAt1ms(knee(slower)));
        // Measured again faster: changes nothing.
        assertThat(readOnlyAt1ms(knee(new LoadPoint(100, 40_000, 40_000, 0, 0, 300, 0, 0, 5)))).isEqualTo(readOnlyAt1ms(knee()));
        // Serving less at the same p95: the point sits at the lower rate.
        assertThat(readOnlyAt1ms(knee(new LoadPoint(100, 40_000, 38_000, 0, 0, 800, 0, 0, 5))))
                .isEqualTo(ModelFit.roundDown(100 * (38_000 + 12_000 * 200 / 700.0)));
    }

    @Test
    void aWorseMeasurementThatAHeavierLoadContradictsIsAStallAndTheBetterCounts() {
        // 20K measured at 4.3 ms once and 200 µs again, while 30K and 40K kept up within 1 ms: the curve cannot rise and
        // come back down with load, so the 4.3 ms was the host (a stall), not 20K reads/s.
        LoadPoint stall = new LoadPoint(100, 20_000, 20_000, 0, 100, 4300, 0, 0, 5);
        assertThat(readOnlyAt1ms(knee(stall))).isEqualTo(readOnlyAt1ms(knee()));
        assertThat(ModelFit.rates(knee(stall), 10_000).get(100).get(1).stall()).isTrue();
        // Measured once, the isotonic fit pools it with its heavier neighbours instead: no repeat, no verdict.
        List<LoadPoint> once = new java.util.ArrayList<>(knee());
        once.set(1, stall);
        assertThat(readOnlyAt1ms(once)).isLessThan(readOnlyAt1ms(knee()));
        // A heavier load past saturation (p95 over 10 ms) is no evidence: its p95 measures how long its queue grew.
        List<LoadPoint> cliff = new java.util.ArrayList<>(List.of(ro(10_000, 100), ro(20_000, 200), ro(30_000, 12_000), stall));
        assertThat(ModelFit.rates(cliff, 10_000).get(100).get(1).stall()).isFalse();
        assertThat(ModelFit.rates(cliff, 10_000).get(100).get(1).point().readP95Micros()).isEqualTo(4300);
        // Nor is a heavier load above a rate that fell behind when measured again (the curve already ends below it).
        LoadPoint behind = new LoadPoint(100, 30_000, 15_000, 0, 1_000_000, 3_000_000, 0, 0, 5);
        List<LoadPoint> ended = new java.util.ArrayList<>(List.of(ro(10_000, 100), ro(20_000, 200), ro(30_000, 250), ro(40_000, 300), stall, behind));
        assertThat(ModelFit.rates(ended, 10_000).get(100).get(1).stall()).isFalse();
    }

    @Test
    void aKeptUpPointPastSaturationThatAHeavierLoadContradictsIsNoCapacity() {
        // 00:40 run, calibration 1: 10.5K reads/s kept up at p95 22 ms, 20.9K at 6.4 ms: the first was a stall of the
        // host, not the node's capacity (it served more, faster); counted, it capped the model at 0.94M tokens/s.
        List<LoadPoint> points = new java.util.ArrayList<>(List.of(ro(5_000, 300), ro(10_470, 22_299), ro(20_940, 6_398), ro(31_410, 50_364)));
        List<LoadPoint> caps = List.of(cap(100, 100_000, 0), cap(90, 60_000, 6000));
        ModelFit.Ceiling c = ModelFit.ceiling(points, caps, 4, 10_000);
        assertThat(c.from().offeredIops()).isEqualTo(31_410); // kept up past saturation, and nothing heavier kept up within it
        // Without the heavier clean point, 10.5K is what the node served with full queues: a capacity.
        assertThat(ModelFit.ceiling(List.of(ro(5_000, 300), ro(10_470, 22_299), ro(31_410, 50_364)), caps, 4, 10_000).iops())
                .isEqualTo(10_470);
        // A point that fell behind is capacity whatever heavier points did.
        LoadPoint behind = new LoadPoint(100, 12_000, 8_000, 0, 1_000_000, 2_000_000, 0, 0, 5);
        assertThat(ModelFit.ceiling(List.of(ro(5_000, 300), behind, ro(20_940, 6_398)), caps, 4, 10_000).iops()).isEqualTo(8_000);
    }

    @Test
    void aRateThatFellBehindWhenMeasuredAgainEndsTheCurve() {
        LoadPoint stalled = new LoadPoint(100, 40_000, 20_000, 0, 1_000_000, 3_000_000, 0, 0, 5);
        // Left out like any saturated point, the interpolation would reach past it (30K -> 50K: 40.9K).
        assertThat(readOnlyAt1ms(knee(stalled))).isEqualTo(100 * 30_000.0);
        // Measured once, a saturated point is still only left out (one alone may be a hiccup of the host).
        List<LoadPoint> once = new java.util.ArrayList<>(knee());
        once.set(3, stalled);
        assertThat(readOnlyAt1ms(once)).isEqualTo(ModelFit.roundDown(100 * (30_000 + 20_000 * 600 / 1100.0)));
    }

    @Test
    void aMixWithoutAPointThatKeptUpFailsTheFitInsteadOfDroppingOutOfTheMixedBudget() {
        List<LoadPoint> caps = List.of(cap(100, 60_000, 0), cap(90, 20_000, 2000));
        LoadPoint light = mixed(90, 900, 100, 300);
        List<LoadPoint> points = knee(light, new LoadPoint(90, 1000, 400, 50, 0, 2_000_000, 0, 0, 5));
        assertThat(ModelFit.tokenLimits(points, 10, List.of(1000L))).isEmpty();
        assertThatThrownBy(() -> ModelFit.fit(points, caps, CalibrationPlan.STANDARD_TARGETS))
                .isInstanceOf(CalibrationException.class).hasMessageStartingWith("no p95 target is reachable at 90% reads");
    }

    /**
     * The lowest load a saturated point of any mix served, in read-equivalent IOPS, caps every rate at 90% of it: the
     * read-only curve reaches 1 ms at 42.9K, but a 90%-read point fell behind serving 30K reads + 3K writes (w = 2: 36K).
     */
    @Test
    void theLowestCapacitySeenByAnyMixCapsEveryRate() throws Exception {
        List<LoadPoint> caps = List.of(cap(100, 60_000, 0), cap(90, 40_000, 10_000));   // w = 2
        LoadPoint behind = new LoadPoint(90, 45_000, 30_000, 3000, 500_000, 2_000_000, 2_000_000, 0, 5);
        List<LoadPoint> points = knee(mixed(90, 9000, 1000, 150), mixed(90, 27_000, 3000, 400), behind);
        ModelFit.Fit fit = ModelFit.fit(points, caps, List.of(300L, 1000L, 5000L));
        assertThat(fit.writeWeight().value()).isEqualTo(2);
        assertThat(fit.ceiling().iops()).isEqualTo(36_000);
        assertThat(fit.ceiling().from()).isEqualTo(behind);
        assertThat(fit.ceiling().tokens()).isEqualTo(0.9 * 100 * 36_000);
        // 300 µs: below the cap, as fitted (read-only 20K + 10K x 100/200; mixed 11K + 22K x 150/250 tokens)
        assertThat(fit.tokenLimits().get(0)).isEqualTo(new TokenLimit(300, 2_420_000, 2_500_000));
        // 1 ms and looser: the cap, read-only and mixed alike (uncapped: 4.28M read-only)
        assertThat(fit.tokenLimits().get(1)).isEqualTo(new TokenLimit(1000, 3_240_000, 3_240_000));
        assertThat(fit.tokenLimits().get(2)).isEqualTo(new TokenLimit(5000, 3_240_000, 3_240_000));
        assertThat(ModelFit.tokenLimits(points, 2, List.of(1000L)).getFirst().readOnlyTokensPerSec()).isEqualTo(4_285_000);
    }

    @Test
    void aPointOverTheSaturationLatencyCountsAsACapacitySeenEvenIfItKeptUp() {
        // 41.9K offered, 41.5K served (kept up) at p95 207 ms: the node was saturated at that load.
        LoadPoint slow = new LoadPoint(100, 41_919, 41_452, 0, 81_330, 207_225, 0, 0, 5);
        LoadPoint fine = ro(37_261, 253);
        ModelFit.Ceiling c = ModelFit.ceiling(List.of(fine, slow), List.of(cap(100, 139_732, 0)), 3, 10_000);
        assertThat(c.iops()).isEqualTo(41_452);
        // Below the saturation latency, or only a probe: the probe's capacity is the ceiling; nothing at all: none.
        assertThat(ModelFit.ceiling(List.of(fine, ro(41_919, 9000)), List.of(cap(100, 139_732, 0)), 3, 10_000).iops()).isEqualTo(139_732);
        assertThat(ModelFit.ceiling(List.of(fine), List.of(), 3, 10_000)).isNull();
    }

    @Test
    void confirmsTheDecidingPointsLightestFirstThenTheLowerOnesAfterAFailure() {
        List<LoadPoint> points = knee(ro(60_000, 9_000_000));
        // 1 ms falls between 40K and 50K: 40K first, then 50K, then nothing.
        assertThat(ModelFit.toConfirm(points, 100, 1000, 10_000)).hasValueSatisfying(p -> assertThat(p.offeredIops()).isEqualTo(40_000));
        points.add(ro(40_000, 820));
        assertThat(ModelFit.toConfirm(points, 100, 1000, 10_000)).hasValueSatisfying(p -> assertThat(p.offeredIops()).isEqualTo(50_000));
        points.add(ro(50_000, 1400));
        assertThat(ModelFit.toConfirm(points, 100, 1000, 10_000)).isEmpty();
        // At 50 ms, 50K (confirmed) and 60K decide; 60K is saturated (p95 beyond the limit): a repeat could only confirm that.
        assertThat(ModelFit.toConfirm(points, 100, 50_000, 10_000)).isEmpty();
        // 40K falls behind when measured again: the curve ends at 30K, which now decides 1 ms (and every looser target).
        List<LoadPoint> failed = knee(new LoadPoint(100, 40_000, 20_000, 0, 1_000_000, 3_000_000, 0, 0, 5));
        assertThat(ModelFit.toConfirm(failed, 100, 1000, 10_000)).hasValueSatisfying(p -> assertThat(p.offeredIops()).isEqualTo(30_000));
        // Stricter than the lightest load, or a mix not measured: nothing decides it.
        assertThat(ModelFit.toConfirm(points, 100, 50, 10_000)).isEmpty();
        assertThat(ModelFit.toConfirm(points, 90, 1000, 10_000)).isEmpty();
    }

    @Test
    void worseKeepsTheFellBehindMeasurementOrTheLowerServedRateWithTheHigherLatencies() {
        LoadPoint a = new LoadPoint(90, 1000, 880, 100, 50, 300, 900, 0, 5), b = new LoadPoint(90, 1000, 900, 90, 60, 250, 1000, 0, 5);
        assertThat(ModelFit.worse(a, b)).isEqualTo(ModelFit.worse(b, a)).isEqualTo(new LoadPoint(90, 1000, 880, 100, 60, 300, 1000, 0, 5));
        LoadPoint behind = new LoadPoint(90, 1000, 500, 50, 9000, 90_000, 90_000, 0, 5);
        assertThat(ModelFit.worse(a, behind)).isEqualTo(ModelFit.worse(behind, a)).isEqualTo(behind);
    }

    @Test
    void isotonicPoolsAdjacentViolators() {
        // The 100% read curve of virtio-vm: one early outlier (4358 µs) is pooled with its neighbours, not carried forward.
        List<XY> fit = ModelFit.isotonic(List.of(new XY(1, 70), new XY(2, 106), new XY(3, 4358), new XY(4, 1466), new XY(5, 2966)));
        assertThat(fit).extracting(XY::y).containsExactly(70.0, 106.0, 2912.0, 2912.0, 2966.0);
    }

    @Test
    void xAtInterpolatesAndNeverExtrapolates() {
        List<XY> curve = List.of(new XY(1000, 100), new XY(2000, 200), new XY(3000, 1000));
        assertThat(ModelFit.xAt(curve, 50)).isEmpty();
        assertThat(ModelFit.xAt(curve, 100)).hasValue(1000);
        assertThat(ModelFit.xAt(curve, 150)).hasValue(1500);
        assertThat(ModelFit.xAt(curve, 600)).hasValue(2500);
        assertThat(ModelFit.xAt(curve, 1_000_000)).hasValue(3000);
    }

    @Test
    void fallsBackToTheCapacityRatioWithTooFewOverlapPoints() throws Exception {
        List<LoadPoint> points = List.of(ro(1000, 100), ro(2000, 120), ro(3000, 400), mixed(90, 500, 50, 110));
        List<LoadPoint> caps = List.of(cap(100, 10_000, 0), cap(90, 3600, 400));
        ModelFit.WriteWeight w = ModelFit.writeWeight(points, caps);
        assertThat(w.value()).isCloseTo(16, within(1e-9));
        assertThat(w.how()).contains("capacity ratio");
    }

    @Test
    void writeWeightIsAtLeastOne() throws Exception {
        List<LoadPoint> caps = List.of(cap(100, 10_000, 0), cap(50, 6000, 6000));
        assertThat(ModelFit.writeWeight(List.of(ro(1000, 100)), caps).value()).isEqualTo(1);
    }

    @Test
    void skipsTargetsStricterThanTheLightestLoadAndFailsWhenNoneIsReachable() throws Exception {
        List<LoadPoint> caps = List.of(cap(100, 10_000, 0), cap(90, 4000, 400));
        List<LoadPoint> points = List.of(ro(1000, 600), ro(5000, 900), ro(9000, 4000), mixed(90, 900, 100, 700), mixed(90, 2700, 300, 2000));
        ModelFit.Fit fit = ModelFit.fit(points, caps, CalibrationPlan.STANDARD_TARGETS);
        assertThat(fit.skippedTargets()).containsExactly(250L, 500L);
        assertThat(fit.tokenLimits()).extracting(TokenLimit::p95Micros).first().isEqualTo(750L);

        List<LoadPoint> slow = List.of(ro(1000, 6000), ro(2000, 9000), mixed(90, 900, 100, 7000));
        assertThatThrownBy(() -> ModelFit.fit(slow, caps, CalibrationPlan.STANDARD_TARGETS))
                .isInstanceOf(CalibrationException.class)
                .hasMessageContaining("no p95 target")
                .hasMessageContaining("6000 µs");
    }

    @Test
    void roundsDownToWholeThousands() {
        assertThat(ModelFit.roundDown(4_740_037.9)).isEqualTo(4_740_000);
        assertThat(ModelFit.roundDown(999.7)).isEqualTo(999);
        assertThat(ModelFit.roundDown(0.2)).isEqualTo(1);
    }

    static LoadPoint ro(double iops, long p95) {
        return new LoadPoint(100, iops, iops, 0, p95 / 2, p95, 0, 0, 5);
    }

    static LoadPoint mixed(int readPercent, double rd, double wr, long p95) {
        return new LoadPoint(readPercent, rd + wr, rd, wr, p95 / 2, p95, 2 * p95, 0, 5);
    }

    static LoadPoint cap(int readPercent, double rd, double wr) {
        return new LoadPoint(readPercent, 0, rd, wr, 0, 0, 0, 0, 3);
    }
}

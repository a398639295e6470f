package io.reflex.devmodels.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.reflex.devmodels.TokenLimit;
import io.reflex.devmodels.calibration.ModelFit.XY;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;

/** Properties of the fit over random (noisy, non-monotone, saturated...) measurements. */
class ModelFitProperties {

    @Property(tries = 500)
    void isotonicFitIsNonDecreasingInXAndKeepsTheMean(@ForAll("curves") List<XY> points) {
        List<XY> fit = ModelFit.isotonic(points);
        assertThat(fit).hasSameSizeAs(points);
        for (int i = 1; i < fit.size(); i++) {
            assertThat(fit.get(i).x()).isGreaterThanOrEqualTo(fit.get(i - 1).x());
            assertThat(fit.get(i).y()).isGreaterThanOrEqualTo(fit.get(i - 1).y() - 1e-9 * Math.abs(fit.get(i - 1).y()));
        }
        double sum = points.stream().mapToDouble(XY::y).sum();
        assertThat(fit.stream().mapToDouble(XY::y).sum()).isCloseTo(sum, within(1e-9 * Math.max(1, Math.abs(sum))));
    }

    /** Least squares: no other non-decreasing fit (running max, the constant mean) is closer to the data. */
    @Property(tries = 500)
    void isotonicFitIsTheLeastSquaresMonotoneFit(@ForAll("curves") List<XY> points) {
        List<XY> fit = ModelFit.isotonic(points);
        List<XY> sorted = points.stream().sorted(java.util.Comparator.comparingDouble(XY::x).thenComparingDouble(XY::y)).toList();
        double[] y = sorted.stream().mapToDouble(XY::y).toArray();
        double[] runningMax = y.clone();
        for (int i = 1; i < y.length; i++) runningMax[i] = Math.max(runningMax[i - 1], y[i]);
        double mean = java.util.Arrays.stream(y).average().orElse(0);
        double[] constant = java.util.Arrays.stream(y).map(v -> mean).toArray();
        double sse = sse(y, fit.stream().mapToDouble(XY::y).toArray());
        double slack = 1e-9 * Math.max(1, sse);
        assertThat(sse).isLessThanOrEqualTo(sse(y, runningMax) + slack).isLessThanOrEqualTo(sse(y, constant) + slack);
    }

    @Property(tries = 200)
    void isotonicFitOfMonotoneDataIsTheData(@ForAll("curves") List<XY> points) {
        List<XY> monotone = ModelFit.isotonic(points);
        assertThat(ModelFit.isotonic(monotone)).isEqualTo(monotone);
    }

    @Property(tries = 500)
    void tokenRatesAreNonDecreasingInTheTargetAndNeverBeyondWhatWasMeasured(@ForAll("devices") List<LoadPoint> points,
                                                                             @ForAll @DoubleRange(min = 1, max = 40) double w) {
        List<TokenLimit> limits = ModelFit.tokenLimits(points, w, CalibrationPlan.STANDARD_TARGETS);
        double maxReadOnly = points.stream().filter(p -> p.readPercent() == 100).mapToDouble(LoadPoint::readIops).max().orElse(0);
        for (int i = 0; i < limits.size(); i++) {
            TokenLimit t = limits.get(i);
            assertThat(t.readOnlyTokensPerSec()).isLessThanOrEqualTo(Math.max(1, ModelFit.READ_COST * maxReadOnly));
            assertThat(t.mixedTokensPerSec()).isLessThanOrEqualTo(t.readOnlyTokensPerSec());
            if (i > 0) {
                assertThat(t.p95Micros()).isGreaterThan(limits.get(i - 1).p95Micros());
                assertThat(t.readOnlyTokensPerSec()).isGreaterThanOrEqualTo(limits.get(i - 1).readOnlyTokensPerSec());
                assertThat(t.mixedTokensPerSec()).isGreaterThanOrEqualTo(limits.get(i - 1).mixedTokensPerSec());
            }
        }
    }

    /** A ceiling only lowers rates, to at most itself, and keeps them non-decreasing in the target. */
    @Property(tries = 500)
    void aCeilingOnlyLowersRatesAndKeepsThemMonotone(@ForAll("devices") List<LoadPoint> points, @ForAll @DoubleRange(min = 1, max = 40) double w,
                                                     @ForAll @DoubleRange(min = 1000, max = 2e7) double maxTokens) {
        List<TokenLimit> free = ModelFit.tokenLimits(points, w, CalibrationPlan.STANDARD_TARGETS);
        List<TokenLimit> capped = ModelFit.tokenLimits(points, w, CalibrationPlan.STANDARD_TARGETS, ModelFit.roundDown(maxTokens));
        assertThat(capped).extracting(TokenLimit::p95Micros).isEqualTo(free.stream().map(TokenLimit::p95Micros).toList());
        for (int i = 0; i < capped.size(); i++) {
            TokenLimit t = capped.get(i), f = free.get(i);
            assertThat(t.readOnlyTokensPerSec()).isEqualTo(Math.min(f.readOnlyTokensPerSec(), ModelFit.roundDown(maxTokens)));
            assertThat(t.mixedTokensPerSec()).isLessThanOrEqualTo(Math.min(f.mixedTokensPerSec(), t.readOnlyTokensPerSec()));
            if (i > 0) assertThat(t.mixedTokensPerSec()).isGreaterThanOrEqualTo(capped.get(i - 1).mixedTokensPerSec());
        }
    }

    /**
     * Measuring a rate again (a confirmation) never raises a token rate: the fit takes the worse of the two, and a repeat
     * that falls behind ends the curve below it. (A repeat serving 5-10% less without falling behind may reorder it
     * with a point that close, and the least-squares pooling may then move the curve either way; unsaturated points
     * serve 99-100% of their rate, and the calibrator's rates are at least 5% apart.)
     */
    @Property(tries = 500)
    void aRepeatNeverRaisesATokenRate(@ForAll("devices") List<LoadPoint> points, @ForAll @DoubleRange(min = 1, max = 40) double w,
                                      @ForAll @DoubleRange(min = 0, max = 1) double which, @ForAll @DoubleRange(min = 1, max = 5) double slower,
                                      @ForAll @DoubleRange(min = 0, max = 1) double less, @ForAll boolean fellBehind) {
        LoadPoint p = points.get((int) Math.min(points.size() - 1, which * points.size()));
        double served = fellBehind ? 0.3 + 0.5 * less : 1 - 0.05 * less;
        LoadPoint again = new LoadPoint(p.readPercent(), p.offeredIops(), served * p.readIops(), served * p.writeIops(), p.readP50Micros(),
                Math.round(slower * p.readP95Micros()), p.writeP95Micros(), 0, p.seconds());
        List<LoadPoint> repeated = new ArrayList<>(points);
        repeated.add(again);
        List<TokenLimit> before = ModelFit.tokenLimits(points, w, CalibrationPlan.STANDARD_TARGETS);
        for (TokenLimit t : ModelFit.tokenLimits(repeated, w, CalibrationPlan.STANDARD_TARGETS)) {
            TokenLimit b = before.stream().filter(x -> x.p95Micros() == t.p95Micros()).findFirst().orElse(null);
            if (b == null) continue;
            assertThat(t.readOnlyTokensPerSec()).as("read-only at %d µs", t.p95Micros()).isLessThanOrEqualTo(b.readOnlyTokensPerSec());
            assertThat(t.mixedTokensPerSec()).as("mixed at %d µs", t.p95Micros()).isLessThanOrEqualTo(b.mixedTokensPerSec());
        }
    }

    @Property(tries = 500)
    void writeCostIsAtLeastTheReadCost(@ForAll("devices") List<LoadPoint> points,
                                       @ForAll @DoubleRange(min = 0.1, max = 2) double probeWriteShare) throws CalibrationException {
        double roCap = points.stream().filter(p -> p.readPercent() == 100).mapToDouble(LoadPoint::readIops).max().orElse(1);
        // A mixed probe that may even claim writes are cheaper than reads: the weight is still clamped to >= 1.
        List<LoadPoint> caps = List.of(ModelFitTest.cap(100, roCap, 0), ModelFitTest.cap(90, roCap * 0.9, roCap * 0.1 * probeWriteShare));
        ModelFit.WriteWeight w = ModelFit.writeWeight(points, caps);
        assertThat(w.value()).isGreaterThanOrEqualTo(1);
        assertThat(Math.round(ModelFit.READ_COST * w.value())).isGreaterThanOrEqualTo(ModelFit.READ_COST);
        try {
            assertThat(ModelFit.fit(points, caps, CalibrationPlan.STANDARD_TARGETS).writeCost4k()).isGreaterThanOrEqualTo(ModelFit.READ_COST);
        } catch (CalibrationException noTargetReachable) {
            assertThat(noTargetReachable).hasMessageContaining("no p95 target");
        }
    }

    @Provide
    Arbitrary<List<XY>> curves() {
        Arbitrary<XY> xy = Combinators.combine(Arbitraries.integers().between(0, 30).map(i -> i * 1000.0),
                Arbitraries.doubles().between(10, 20_000)).as(XY::new);
        return xy.list().ofMinSize(1).ofMaxSize(30);
    }

    /** A read-only sweep and one or two mixed sweeps, each latency rising with load, plus noise and outliers. */
    @Provide
    Arbitrary<List<LoadPoint>> devices() {
        Arbitrary<List<LoadPoint>> readOnly = sweep(100);
        Arbitrary<List<LoadPoint>> mixed90 = sweep(90);
        Arbitrary<List<LoadPoint>> mixed50 = sweep(50).list().ofMaxSize(1).map(l -> l.isEmpty() ? List.of() : l.getFirst());
        return Combinators.combine(readOnly, mixed90, mixed50).as((a, b, c) -> {
            List<LoadPoint> all = new ArrayList<>(a);
            all.addAll(b);
            all.addAll(c);
            return all;
        });
    }

    private static Arbitrary<List<LoadPoint>> sweep(int readPercent) {
        Arbitrary<Double> capacity = Arbitraries.doubles().between(500, 500_000);
        Arbitrary<Double> base = Arbitraries.doubles().between(20, 2_000);
        Arbitrary<List<Double>> noise = Arbitraries.doubles().between(0.5, 3).list().ofMinSize(1).ofMaxSize(12);
        return Combinators.combine(capacity, base, noise).as((cap, b, n) -> {
            List<LoadPoint> points = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                double load = (i + 1.0) / n.size();
                double iops = cap * Math.min(load, 0.97);
                double p95 = b * (1 + load / Math.max(0.03, 1 - load)) * n.get(i);
                double rd = iops * readPercent / 100, wr = iops - rd;
                points.add(new LoadPoint(readPercent, iops, rd, wr, (long) (p95 / 2), Math.round(p95), 0, 0, 5));
            }
            return points;
        });
    }

    private static double sse(double[] y, double[] fit) {
        double s = 0;
        for (int i = 0; i < y.length; i++) s += (y[i] - fit[i]) * (y[i] - fit[i]);
        return s;
    }
}

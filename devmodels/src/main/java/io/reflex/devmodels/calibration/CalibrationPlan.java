package io.reflex.devmodels.calibration;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * What a calibration measures.
 *
 * @param readPercents      mixes swept, 100 first (e.g. 100, 90, 50); the others 1..99 (latency is the reads' p95)
 * @param perPoint          measured time per open-loop point
 * @param warmup            unmeasured time before each probe and point (zero: none)
 * @param probe             time of each closed-loop capacity probe
 * @param probeQueueDepth   queue depth of the capacity probes
 * @param readOnlyFractions open-loop rates of the read-only sweep, as fractions of its probed capacity, ascending
 * @param mixedFractions    open-loop rates of the mixed sweeps, as fractions of their probed capacity, ascending
 * @param targetsMicros     p95 limits the model gets token rates for, ascending
 * @param confirmMicros     the p95 limit whose deciding points are measured again after all sweeps (the SLO that matters most)
 * @param precondition      write the span once before measuring
 */
public record CalibrationPlan(List<Integer> readPercents, Duration perPoint, Duration warmup, Duration probe, int probeQueueDepth,
                             List<Double> readOnlyFractions, List<Double> mixedFractions, List<Long> targetsMicros,
                             long confirmMicros, boolean precondition) {
    /** Closed-loop queue depth of the capacity probes (as bench/calibrate.sh). */
    public static final int PROBE_QUEUE_DEPTH = 32;
    public static final List<Long> STANDARD_TARGETS = List.of(250L, 500L, 750L, 1000L, 1500L, 2000L, 3000L, 5000L);
    /** The p95 limit confirmed by default: 1 ms, the SLO of the QoS bench and of the usual latency-critical tenant. */
    public static final long STANDARD_CONFIRM_MICROS = 1000;
    private static final double MAX_FRACTION = 1.5;

    public CalibrationPlan {
        readPercents = List.copyOf(Objects.requireNonNull(readPercents, "readPercents"));
        readOnlyFractions = List.copyOf(Objects.requireNonNull(readOnlyFractions, "readOnlyFractions"));
        mixedFractions = List.copyOf(Objects.requireNonNull(mixedFractions, "mixedFractions"));
        targetsMicros = List.copyOf(Objects.requireNonNull(targetsMicros, "targetsMicros"));
        Objects.requireNonNull(perPoint, "perPoint");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(probe, "probe");
        if (readPercents.isEmpty() || readPercents.getFirst() != 100) {
            throw new IllegalArgumentException("readPercents must start with 100 (the read-only sweep the mixes are compared with), got " + readPercents);
        }
        if (readPercents.size() < 2) {
            throw new IllegalArgumentException("readPercents needs at least one mixed ratio after 100: the write cost comes from the mixed sweeps");
        }
        for (int r : readPercents.subList(1, readPercents.size())) {
            if (r < 1 || r > 99) {
                throw new IllegalArgumentException("mixed readPercents must be 1..99 (latency is the p95 of the reads), got " + r);
            }
        }
        if (new HashSet<>(readPercents).size() != readPercents.size()) {
            throw new IllegalArgumentException("readPercents has duplicates: " + readPercents);
        }
        positive("perPoint", perPoint);
        positive("probe", probe);
        if (warmup.isNegative()) throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
        if (probeQueueDepth < 1) throw new IllegalArgumentException("probeQueueDepth must be >= 1, got " + probeQueueDepth);
        fractions("readOnlyFractions", readOnlyFractions);
        fractions("mixedFractions", mixedFractions);
        if (targetsMicros.isEmpty()) throw new IllegalArgumentException("targetsMicros is empty");
        for (int i = 0; i < targetsMicros.size(); i++) {
            if (targetsMicros.get(i) <= 0 || (i > 0 && targetsMicros.get(i) <= targetsMicros.get(i - 1))) {
                throw new IllegalArgumentException("targetsMicros must be > 0 and strictly ascending, got " + targetsMicros);
            }
        }
        if (confirmMicros <= 0) throw new IllegalArgumentException("confirmMicros must be > 0, got " + confirmMicros);
    }

    /**
     * The default: 3 probes, 11 + 2 x 9 sweep points, up to 2 knee points and 2 confirmations per mix, each point 5 s
     * (+1 s warm-up, 3 s for a mix's first): 4 min 30 s at most, so a calibration fits in 5 minutes with
     * preconditioning and the drivers' overrun (6-9% measured). Mixed latency rises much earlier than read-only
     * (synchronous writes), so the mixed sweeps are denser at low load (as bench/calibrate.sh).
     */
    public static CalibrationPlan standard() {
        return new CalibrationPlan(List.of(100, 90, 50), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(3),
                PROBE_QUEUE_DEPTH, List.of(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
                List.of(0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8), STANDARD_TARGETS, STANDARD_CONFIRM_MICROS, true);
    }

    /** The quick plan's targets reach 50 ms: its points are too short for a trustworthy tail, but it must give a model. */
    static final List<Long> QUICK_TARGETS = List.of(250L, 500L, 750L, 1000L, 1500L, 2000L, 3000L, 5000L, 10_000L, 50_000L);

    /** For tests: 3 points per mix of 150 ms (+50 ms warm-up), 200 ms probes, no preconditioning: 5.6 s at most. */
    public static CalibrationPlan quick() {
        return new CalibrationPlan(List.of(100, 90, 50), Duration.ofMillis(150), Duration.ofMillis(50), Duration.ofMillis(200),
                PROBE_QUEUE_DEPTH, List.of(0.05, 0.3, 0.8), List.of(0.02, 0.1, 0.4), QUICK_TARGETS, STANDARD_CONFIRM_MICROS, false);
    }

    public CalibrationPlan withPerPoint(Duration d) {
        return new CalibrationPlan(readPercents, d, warmup, probe, probeQueueDepth, readOnlyFractions, mixedFractions,
                targetsMicros, confirmMicros, precondition);
    }

    public CalibrationPlan withPrecondition(boolean p) {
        return new CalibrationPlan(readPercents, perPoint, warmup, probe, probeQueueDepth, readOnlyFractions, mixedFractions,
                targetsMicros, confirmMicros, p);
    }

    /** Open-loop points planned: the read-only sweep plus one sweep per mix (early stops may skip some). */
    public int pointCount() {
        return readOnlyFractions.size() + (readPercents.size() - 1) * mixedFractions.size();
    }

    /**
     * Extra points per mix between its last unsaturated rate and the first saturated one: the knee, where the token
     * rates at the strict targets come from, is rarely on the coarse grid (through a dataplane on this VM: p95 175 µs
     * at 28.7K reads/s, 329 ms at 40.4K; a model that stops at 28.7K understates the budget ~30%). Two split a
     * 10%-of-capacity bracket into thirds (three did into quarters): the third one's time went to the confirmations.
     */
    public static final int REFINE_POINTS = 2;

    /**
     * Points per mix measured a second time after all sweeps, the ones that decide its rate at {@link #confirmMicros}
     * (through a dataplane on this VM the rate a point serves within 1 ms changes from one moment to the next: a budget
     * must hold in the node's bad moments too, so the fit takes each rate's worse measurement).
     */
    public static final int CONFIRM_POINTS = 2;

    /** Planned time of one capacity probe, warm-up included. */
    public Duration probeStep() {
        return probe.plus(warmup);
    }

    /** Planned time of one open-loop point, warm-up included. */
    public Duration pointStep() {
        return perPoint.plus(warmup);
    }

    /** Warm-up before the first point of each mix: three times the others (it follows the heaviest load). */
    public Duration firstPointWarmup() {
        return warmup.multipliedBy(3);
    }

    /** Planned time of a mix's first open-loop point, its longer warm-up included. */
    public Duration firstPointStep() {
        return perPoint.plus(firstPointWarmup());
    }

    /** Planned time of the {@code k}-th (0-based) confirmation of a mix: the first follows another mix's load, so warms up longer. */
    public Duration confirmStep(int k) {
        return k == 0 ? firstPointStep() : pointStep();
    }

    /** Planned time of a mix's confirmations, all of them. */
    public Duration confirmSteps() {
        return firstPointStep().plus(pointStep().multipliedBy(CONFIRM_POINTS - 1));
    }

    /** Expected wall time at most, every knee and confirmation point included (without preconditioning, whose time depends on the device). */
    public Duration estimate() {
        int mixes = readPercents.size();
        return probeStep().multipliedBy(mixes).plus(pointStep().multipliedBy(pointCount() + REFINE_POINTS * mixes))
                .plus(firstPointWarmup().minus(warmup).multipliedBy(mixes))
                .plus(confirmSteps().multipliedBy(mixes));
    }

    private static void positive(String name, Duration d) {
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " must be > 0, got " + d);
    }

    private static void fractions(String name, List<Double> fractions) {
        if (fractions.isEmpty()) throw new IllegalArgumentException(name + " is empty");
        for (int i = 0; i < fractions.size(); i++) {
            double f = fractions.get(i);
            if (!(f > 0 && f <= MAX_FRACTION)) {
                throw new IllegalArgumentException(name + " must be in (0, " + MAX_FRACTION + "] of the probed capacity, got " + f);
            }
            // Ascending, because a sweep stops early once the device saturates: later points would only be heavier.
            if (i > 0 && f <= fractions.get(i - 1)) {
                throw new IllegalArgumentException(name + " must be strictly ascending, got " + fractions);
            }
        }
    }
}

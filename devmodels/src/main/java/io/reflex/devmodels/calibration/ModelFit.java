package io.reflex.devmodels.calibration;

import io.reflex.devmodels.TokenLimit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Fits a device model to measured load points (ReFlex's method; ported from the retired bench/lib/calib.py): pure functions.
 *
 * <p>Read-only latency (read p95) is fitted against read IOPS, R(p95) its inverse. Each mixed point with the same read
 * p95 as R*(p95) read-only IOPS says a write costs w = (R* - reads) / writes reads; w is the median over the points on
 * the rising part of the curves. Token rates at a p95 target: read-only 100 x R(target); mixed the lowest, over the
 * mixes, of 100 x the weighted IOPS (reads + w x writes) whose fitted p95 stays within the target. A rate measured
 * more than once (a confirmation) counts with its worse measurement (unless a heavier load kept up at a lower p95: then
 * the worse was a stall of the host, see {@link #rates}); one that fell behind on a repeat ends its mix's curve below it.
 * Every rate is then capped at {@link #CEILING_SHARE} of the {@link Ceiling}: the lowest load, in read-equivalent IOPS
 * (reads + w x writes), that any capacity probe or saturated measurement (sweep, knee or repeat, any mix) served, a
 * stall excepted: a budget must hold in the node's worst moment the calibration saw, not in its best.
 */
public final class ModelFit {
    /** Tokens per 4 KiB read: the unit everything else is relative to. */
    public static final long READ_COST = 100;
    /**
     * Fewer overlap points than this and the write weight comes from the capacity probes instead. calib.py used 3 and a
     * 1.3x rise; on a disk without a knee (p95 77-190 µs up to its capacity) the points just above that are noise that
     * maps to the ends of flat stretches: w came out 9.7, 3.7, 9.7 in three runs while the probes said 3-5 every time.
     */
    static final int MIN_OVERLAP_POINTS = 5;
    /** Below this many times the lightest load's p95 the curves are flat and say nothing about cost. */
    static final double RISING = 2.0;
    /**
     * Share of the {@link Ceiling} a rate may reach. The ceiling is what the node served while it could not keep up (a
     * moment of full queues), so the rate itself has no latency to spare there; 0.9 leaves the headroom a single
     * server of that capacity needs for a p95 within 1 ms at these rates (M/M/1 at 40-50K/s and 90% busy: p95 ~0.7 ms of
     * queueing), and matches what this VM showed: through the dataplane, 37.2K reads/s passed twice at p95 253 µs in
     * the same calibration in which 41.9K offered was served as 41.5K at p95 207 ms (0.90 of it).
     */
    static final double CEILING_SHARE = 0.9;

    private ModelFit() {}

    /** A point of a latency curve: x load (IOPS), y read p95 (µs). */
    public record XY(double x, double y) {}

    /** How heavy a write is, relative to a read. */
    public record WriteWeight(double value, String how, int overlapPoints, List<Double> fromCapacity) {}

    /**
     * The fitted model's numbers.
     *
     * @param writeWeight    w (>= 1), write cost = round(100 w)
     * @param tokenLimits    one per reachable target, rates non-decreasing in the target
     * @param skippedTargets targets stricter than the lightest measured load achieves
     * @param ceiling        the lowest capacity seen, which caps every rate (null when none was seen)
     */
    public record Fit(WriteWeight writeWeight, long writeCost4k, List<TokenLimit> tokenLimits, List<Long> skippedTargets,
                      Ceiling ceiling) {}

    /**
     * The lowest capacity the calibration saw: the least load, in read-equivalent IOPS (reads + w x writes), that a
     * capacity probe or a saturated open-loop measurement served. A saturated point (fell behind its offered rate, or
     * read p95 beyond {@code saturatedP95}) ran with full queues, so what it served is what the node could do at that
     * moment; the write weight, fitted so that the probes' loads are equal at saturation, makes the mixes comparable.
     * Through a dataplane on this VM the node served 80K reads/s at p95 452 µs in one minute and fell behind at 67K
     * offered (serving 56K) a few minutes later: a budget from the good minute breaks the SLO in the bad one.
     *
     * @param iops  the lowest load served, read-equivalent IOPS
     * @param from  the measurement that served it
     * @param share the share of it token rates may reach ({@link #CEILING_SHARE})
     */
    public record Ceiling(double iops, LoadPoint from, double share) {
        /** The highest token rate a model may promise: share x 100 x iops, rounded down. */
        public double tokens() {
            return roundDown(share * READ_COST * iops);
        }
    }

    /** The {@link Ceiling} of the measurements (null without a probe or saturated point: no capacity was seen). */
    static Ceiling ceiling(List<LoadPoint> points, List<LoadPoint> capacities, double writeWeight, double saturatedP95) {
        LoadPoint lowest = null;
        double least = Double.POSITIVE_INFINITY;
        for (LoadPoint p : capacities) {
            double x = p.readIops() + writeWeight * p.writeIops();
            if (x > 0 && x < least) { least = x; lowest = p; }
        }
        // Every measurement that fell behind (capacity, however often its rate was measured), and each rate's counted
        // one past the saturation p95 -- unless a heavier rate of its mix kept up within it: then that p95 was a stall of
        // the host (the load did not need it: more load was served faster), not a capacity. A stall overturned by the
        // rate's own repeat is not one either. On this VM a host stall put a read-only point at 10.5K reads/s to p95
        // 22 ms (kept up) with 20.9K at 6.4 ms next to it: counted, it capped the model at 0.94M tokens/s.
        List<LoadPoint> saturated = new ArrayList<>(points.stream().filter(LoadPoint::fellBehind).toList());
        rates(points, saturatedP95).values().forEach(rs -> rs.forEach(r -> {
            if (r.point().readP95Micros() > saturatedP95 && !r.contradicted()) saturated.add(r.point());
        }));
        for (LoadPoint p : saturated) {
            double x = p.readIops() + writeWeight * p.writeIops();
            if (x > 0 && x < least) { least = x; lowest = p; }
        }
        return lowest == null ? null : new Ceiling(least, lowest, CEILING_SHARE);
    }

    /** The whole fit; {@code points} are the open-loop sweeps (read-only and mixed), {@code capacities} the probes. */
    public static Fit fit(List<LoadPoint> points, List<LoadPoint> capacities, List<Long> targetsMicros) throws CalibrationException {
        double saturatedP95 = saturatedP95(targetsMicros);
        Map<Integer, List<LoadPoint>> mixes = byMix(points, saturatedP95);
        if (!mixes.containsKey(100)) throw new CalibrationException("no read-only sweep point with completed reads to fit");
        for (int r : swept(points)) {
            if (!mixes.containsKey(r)) {
                throw new CalibrationException("no p95 target is reachable at " + r + "% reads: no point of that sweep kept up with its"
                        + " offered rate (or each is at or above one that fell behind when measured again); the device (or the path to it)"
                        + " is slower than every target there");
            }
        }
        WriteWeight w = writeWeight(points, capacities, saturatedP95);
        Ceiling ceiling = ceiling(points, capacities, w.value(), saturatedP95);
        List<TokenLimit> limits = tokenLimits(points, w.value(), targetsMicros,
                ceiling == null ? Double.POSITIVE_INFINITY : ceiling.tokens());
        if (limits.isEmpty()) {
            throw new CalibrationException(String.format(Locale.ROOT,
                    "no p95 target in %s µs is reachable: the lightest read-only load's p95 is %.0f µs%s; the device (or the path to it) is slower than every target",
                    targetsMicros, isotonic(curve(mixes.get(100), 0)).getFirst().y(), lightestMixed(mixes)));
        }
        List<Long> skipped = targetsMicros.stream()
                .filter(t -> limits.stream().noneMatch(l -> l.p95Micros() == t)).toList();
        return new Fit(w, Math.round(READ_COST * w.value()), limits, skipped, ceiling);
    }

    /**
     * Write weight from the capacity probes (at saturation reads + w x writes = the read-only capacity), raised to the
     * curve-overlap estimate when at least {@value #MIN_OVERLAP_POINTS} points sit where the read-only curve clearly
     * rises and their median is higher. At least 1: a write never costs less than a read.
     */
    public static WriteWeight writeWeight(List<LoadPoint> points, List<LoadPoint> capacities) throws CalibrationException {
        return writeWeight(points, capacities, saturatedP95(CalibrationPlan.STANDARD_TARGETS));
    }

    static WriteWeight writeWeight(List<LoadPoint> points, List<LoadPoint> capacities, double saturatedP95) throws CalibrationException {
        Map<Integer, List<LoadPoint>> mixes = byMix(points, saturatedP95);
        List<Double> overlap = new ArrayList<>();
        List<LoadPoint> readOnly = mixes.get(100);
        if (readOnly != null) {
            List<XY> ro = isotonic(curve(readOnly, 0));
            double base = ro.getFirst().y(), max = ro.getLast().y();
            for (var e : mixes.entrySet()) {
                if (e.getKey() == 100) continue;
                for (LoadPoint p : e.getValue()) {
                    if (p.writeIops() <= 0 || p.readP95Micros() < RISING * base || p.readP95Micros() > max) continue;
                    OptionalDouble rStar = xAt(ro, p.readP95Micros());
                    if (rStar.isPresent()) overlap.add((rStar.getAsDouble() - p.readIops()) / p.writeIops());
                }
            }
        }
        List<Double> fromCapacity = capacityWeights(capacities);
        double w;
        String how;
        if (!fromCapacity.isEmpty()) {
            // The probes measure what a write costs where reads and writes compete for all of the device's work, which is
            // what a token budget divides; they agreed within ±25% run to run where the overlap did not. Overlap
            // points, when enough sit where the read curve clearly rises, can only raise w (writes that hurt read
            // latency before the device saturates are priced by that harm).
            w = median(fromCapacity);
            how = "capacity ratio of the closed-loop probes";
            if (overlap.size() >= MIN_OVERLAP_POINTS && median(overlap) > w) {
                w = median(overlap);
                how = "median of " + overlap.size() + " curve-overlap points, above the probes' capacity ratio";
            } else {
                how += overlap.size() >= MIN_OVERLAP_POINTS
                        ? String.format(java.util.Locale.ROOT, " (curve overlap: %.2f from %d points, lower)", median(overlap), overlap.size())
                        : " (" + overlap.size() + " curve-overlap points where the read curve clearly rises: too few to use)";
            }
        } else if (overlap.size() >= MIN_OVERLAP_POINTS) {
            w = median(overlap);
            how = "median of " + overlap.size() + " curve-overlap points (no mixed capacity probe with writes)";
        } else {
            throw new CalibrationException("cannot determine the write weight: " + overlap.size()
                    + " curve-overlap points on the rising part of the curves and no usable capacity probe (mixed probe without writes)");
        }
        return new WriteWeight(Math.max(1.0, w), how, overlap.size(), fromCapacity);
    }

    /** (read-only capacity - reads) / writes of each mixed probe with writes. */
    static List<Double> capacityWeights(List<LoadPoint> capacities) {
        LoadPoint ro = capacities.stream().filter(c -> c.readPercent() == 100).findFirst().orElse(null);
        if (ro == null) return List.of();
        return capacities.stream().filter(c -> c.readPercent() != 100 && c.writeIops() > 0)
                .sorted(Comparator.comparingInt(LoadPoint::readPercent))
                .map(c -> (ro.readIops() - c.readIops()) / c.writeIops()).toList();
    }

    /**
     * Token rates at each target: read-only 100 x R(t); mixed the lowest over the mixes of the weighted IOPS reaching
     * t, capped by read-only (mixing in writes never makes reads faster). A target stricter than the lightest load of
     * any curve is skipped. Rates are rounded down to 1000 tokens/s and made non-decreasing in the target.
     */
    public static List<TokenLimit> tokenLimits(List<LoadPoint> points, double writeWeight, List<Long> targetsMicros) {
        return tokenLimits(points, writeWeight, targetsMicros, Double.POSITIVE_INFINITY);
    }

    /**
     * As {@link #tokenLimits(List, double, List)}, every rate at most {@code maxTokens} ({@link Ceiling#tokens()}). A cap
     * only moves a rate down its own fitted curve, so its fitted p95 stays within the target: still monotone, still
     * never past a measured load.
     */
    public static List<TokenLimit> tokenLimits(List<LoadPoint> points, double writeWeight, List<Long> targetsMicros, double maxTokens) {
        Map<Integer, List<LoadPoint>> mixes = byMix(points, saturatedP95(targetsMicros));
        List<LoadPoint> readOnly = mixes.get(100);
        // A mix measured but without a point to fit reaches no target: leaving it out would let the others' rates stand.
        if (readOnly == null || !mixes.keySet().containsAll(swept(points))) return List.of();
        List<XY> ro = isotonic(curve(readOnly, 0));
        List<List<XY>> mixed = mixes.entrySet().stream().filter(e -> e.getKey() != 100)
                .map(e -> isotonic(curve(e.getValue(), writeWeight))).toList();
        List<TokenLimit> limits = new ArrayList<>();
        double lastMixed = 0, lastReadOnly = 0;
        for (long t : targetsMicros) {
            OptionalDouble roX = xAt(ro, t);
            if (roX.isEmpty()) continue;
            double mx = Double.POSITIVE_INFINITY;
            boolean everyMixReaches = true;
            for (List<XY> c : mixed) {
                OptionalDouble x = xAt(c, t);
                if (x.isPresent()) mx = Math.min(mx, x.getAsDouble());
                else everyMixReaches = false;
            }
            if (!everyMixReaches) continue;
            double roTokens = Math.min(READ_COST * roX.getAsDouble(), maxTokens);
            double mxTokens = Math.min(READ_COST * mx, roTokens);
            lastReadOnly = Math.max(lastReadOnly, roundDown(roTokens));
            lastMixed = Math.max(lastMixed, roundDown(mxTokens));
            limits.add(new TokenLimit(t, lastMixed, lastReadOnly));
        }
        return List.copyOf(limits);
    }

    /**
     * The isotonic (non-decreasing, least-squares; pool-adjacent-violators) fit of y, sorted by x: a latency curve
     * that never improves with load, and that one noisy early point cannot lift as a running max would.
     */
    public static List<XY> isotonic(List<XY> points) {
        List<XY> sorted = points.stream().sorted(Comparator.comparingDouble(XY::x).thenComparingDouble(XY::y)).toList();
        double[] sum = new double[sorted.size()];
        int[] count = new int[sorted.size()];
        int blocks = 0;
        for (XY p : sorted) {
            sum[blocks] = p.y();
            count[blocks++] = 1;
            while (blocks > 1 && sum[blocks - 2] / count[blocks - 2] > sum[blocks - 1] / count[blocks - 1]) {
                sum[blocks - 2] += sum[blocks - 1];
                count[blocks - 2] += count[blocks - 1];
                blocks--;
            }
        }
        List<XY> fitted = new ArrayList<>(sorted.size());
        for (int b = 0, i = 0; b < blocks; b++) {
            double mean = sum[b] / count[b];
            for (int k = 0; k < count[b]; k++) fitted.add(new XY(sorted.get(i++).x(), mean));
        }
        return List.copyOf(fitted);
    }

    /**
     * Inverse of a monotone curve: the largest x whose y stays within {@code y} (interpolated linearly); empty when y is
     * stricter than the lightest point, and the last (highest) x when y is above the whole curve: never extrapolates.
     */
    public static OptionalDouble xAt(List<XY> curve, double y) {
        if (curve.isEmpty() || y < curve.getFirst().y()) return OptionalDouble.empty();
        double best = curve.getFirst().x();
        for (int i = 1; i < curve.size(); i++) {
            XY a = curve.get(i - 1), b = curve.get(i);
            if (y >= b.y()) {
                best = b.x();
            } else if (a.y() <= y) {
                best = a.x() + (b.x() - a.x()) * (y - a.y()) / (b.y() - a.y());
                break;
            }
        }
        return OptionalDouble.of(best);
    }

    /** Read p95 against reads + w x writes (w = 0: read IOPS, for the read-only curve). */
    static List<XY> curve(List<LoadPoint> points, double writeWeight) {
        return points.stream().map(p -> new XY(p.readIops() + writeWeight * p.writeIops(), p.readP95Micros())).toList();
    }

    /**
     * Points by read percentage, one per offered rate ({@link #rates}). Left out: points without completed reads (their
     * read latency is unknown); saturated open-loop points (served < 90% of the offered rate): their achieved rate is
     * below the load that caused their latency, so they would sit on the curve below lighter, fast points and pull the
     * budget down to them (through a dataplane here: 84.5K reads/s at p95 445 µs, then 98.9K offered served as 54.8K
     * at 5 s, which made 1 ms fall at 28K); and every rate at or above one that fell behind when measured again: a
     * confirmed failure is a ceiling that heavier points, measured once, do not outvote (left in, they would also move
     * the interpolation past the failed rate). The curve ends at the heaviest load served, which the fit never goes past.
     */
    static Map<Integer, List<LoadPoint>> byMix(List<LoadPoint> points, double saturatedP95) {
        Map<Integer, List<LoadPoint>> mixes = new TreeMap<>();
        rates(points, saturatedP95).forEach((r, rates) -> {
            List<LoadPoint> fitted = fitted(rates);
            if (!fitted.isEmpty()) mixes.put(r, fitted);
        });
        return mixes;
    }

    /** A mix's points the fit uses (see {@link #byMix}), in measured order. */
    private static List<LoadPoint> fitted(List<Rate> rates) {
        double ceiling = rates.stream().filter(x -> x.times() > 1 && x.point().fellBehind())
                .mapToDouble(x -> x.point().offeredIops()).min().orElse(Double.POSITIVE_INFINITY);
        return rates.stream().map(Rate::point)
                .filter(p -> p.readIops() > 0 && !p.fellBehind() && p.offeredIops() < ceiling).toList();
    }

    /**
     * An offered rate of a mix: the measurement the fit counts and how often the rate was measured.
     *
     * @param stall        a repeated rate whose worse measurement a heavier load of the mix contradicted (see {@link #rates})
     * @param contradicted the counted measurement kept up, and a heavier rate of the mix kept up within saturation at a
     *                     lower p95 (below any rate that fell behind when repeated): its p95 is no point of the curve
     */
    record Rate(LoadPoint point, int times, boolean stall, boolean contradicted) {}

    /**
     * The points by read percentage and offered rate, in the order first measured. A rate measured again counts with its
     * {@link #worse} measurement, unless that one kept up with a read p95 above a heavier rate's of the same mix that kept
     * up too (below any rate that fell behind when repeated): a latency curve cannot rise and come back down with load,
     * so that p95 was a stall of the host, not the load's. The heavier rate's p95 must be within {@code saturatedP95}: past
     * it a point's p95 says how long its queue grew, not where the curve is. On this VM one 5-s window at 24.8K reads/s
     * measured p95 4.3 ms, its repeat 200 µs, and 37.2K measured 337 µs. Then the rate counts with its best measurement. A stall is
     * load-independent, no budget can keep an SLO through it, and kept as the worse it set where the 1 ms point fell (the
     * 22:17 run's budgets 1.68M / 1.51M / 3.51M). A repeat that falls behind still always counts: that is capacity.
     */
    static Map<Integer, List<Rate>> rates(List<LoadPoint> points, double saturatedP95) {
        Map<Integer, Map<Double, List<LoadPoint>>> byRate = new TreeMap<>();
        for (LoadPoint p : points) {
            byRate.computeIfAbsent(p.readPercent(), r -> new LinkedHashMap<>()).computeIfAbsent(p.offeredIops(), o -> new ArrayList<>()).add(p);
        }
        Map<Integer, List<Rate>> rates = new TreeMap<>();
        byRate.forEach((r, m) -> {
            double failed = m.values().stream().filter(ms -> ms.size() > 1 && worst(ms).fellBehind())
                    .mapToDouble(ms -> ms.getFirst().offeredIops()).min().orElse(Double.POSITIVE_INFINITY);
            Map<Double, Rate> counted = new java.util.HashMap<>();
            long heavierP95 = Long.MAX_VALUE; // the lowest p95 a heavier rate kept up at
            for (double offered : m.keySet().stream().sorted(Comparator.reverseOrder()).toList()) {
                List<LoadPoint> ms = m.get(offered);
                LoadPoint c = worst(ms);
                boolean stall = ms.size() > 1 && !c.fellBehind() && c.readP95Micros() > heavierP95;
                if (stall) c = ms.stream().min(Comparator.comparingLong(LoadPoint::readP95Micros)).orElseThrow();
                boolean contradicted = !c.fellBehind() && c.readP95Micros() > heavierP95;
                if (offered < failed && !c.fellBehind() && c.readIops() > 0 && c.readP95Micros() <= saturatedP95) {
                    heavierP95 = Math.min(heavierP95, c.readP95Micros());
                }
                counted.put(offered, new Rate(c, ms.size(), stall, contradicted));
            }
            rates.put(r, m.keySet().stream().map(counted::get).toList());
        });
        return rates;
    }

    private static LoadPoint worst(List<LoadPoint> measurements) {
        return measurements.stream().reduce(ModelFit::worse).orElseThrow();
    }

    /**
     * Two measurements of one offered rate as the one a budget must hold through: the one that fell behind if either
     * did, else the lower served rate with the higher latencies.
     */
    static LoadPoint worse(LoadPoint a, LoadPoint b) {
        if (a.fellBehind() != b.fellBehind()) return a.fellBehind() ? a : b;
        LoadPoint slower = a.iops() <= b.iops() ? a : b;
        return new LoadPoint(a.readPercent(), a.offeredIops(), slower.readIops(), slower.writeIops(),
                Math.max(a.readP50Micros(), b.readP50Micros()), Math.max(a.readP95Micros(), b.readP95Micros()),
                Math.max(a.writeP95Micros(), b.writeP95Micros()), a.errors() + b.errors(), slower.seconds());
    }

    /**
     * The next point of mix {@code readPercent} worth measuring again: of the points that decide the mix's rate at
     * {@code targetMicros} (as {@link #xAt} reads the fitted curve: the heaviest within the target, and the next
     * heavier one when there is one), the lightest that was measured only once and is not saturated (p95 within
     * {@code saturatedP95}; a repeat of a saturated point could only confirm it). Empty when they are all confirmed or
     * the target is stricter than the mix's lightest load. After a repeat that fails, the deciding points are lower ones.
     */
    static Optional<LoadPoint> toConfirm(List<LoadPoint> points, int readPercent, double targetMicros, double saturatedP95) {
        List<Rate> rates = rates(points, saturatedP95).getOrDefault(readPercent, List.of());
        List<LoadPoint> fitted = fitted(rates).stream()
                .sorted(Comparator.comparingDouble(LoadPoint::iops).thenComparingLong(LoadPoint::readP95Micros)).toList();
        List<XY> curve = isotonic(fitted.stream().map(p -> new XY(p.iops(), p.readP95Micros())).toList());
        int within = -1;
        while (within + 1 < curve.size() && curve.get(within + 1).y() <= targetMicros) within++;
        if (within < 0) return Optional.empty();
        for (int i = within; i <= Math.min(within + 1, fitted.size() - 1); i++) {
            LoadPoint p = fitted.get(i);
            boolean once = rates.stream().anyMatch(x -> x.point().equals(p) && x.times() == 1);
            if (once && p.readP95Micros() <= saturatedP95) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** The read p95 past which a point is saturated, as the calibrator's sweeps stop on it. */
    static double saturatedP95(List<Long> targetsMicros) {
        return Calibrator.SATURATED_P95 * targetsMicros.getLast();
    }

    /** The read percentages measured. */
    private static java.util.Set<Integer> swept(List<LoadPoint> points) {
        return points.stream().map(LoadPoint::readPercent).collect(Collectors.toSet());
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** Whole thousands of tokens/s, rounded down so that rounding never promises more than was measured. */
    static double roundDown(double tokens) {
        if (tokens >= 1000) return Math.floor(tokens / 1000) * 1000;
        return Math.max(1, Math.floor(tokens));
    }

    private static String lightestMixed(Map<Integer, List<LoadPoint>> mixes) {
        String mixed = mixes.entrySet().stream().filter(e -> e.getKey() != 100)
                .map(e -> String.format(Locale.ROOT, "%d%% reads %.0f µs", e.getKey(), isotonic(curve(e.getValue(), 0)).getFirst().y()))
                .collect(Collectors.joining(", "));
        return mixed.isEmpty() ? "" : " (mixed: " + mixed + ")";
    }
}

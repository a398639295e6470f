package io.reflex.devmodels.calibration;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.TokenLimit;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A calibrated model in the format of devmodels/models/*.yaml (as the committed models): a comment header
 * with when, what, how and every measured point, so a reader can judge the fit without the raw data; then the model.
 */
final class CalibrationYaml {
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);
    /** Scalars written unquoted; anything else is double-quoted so YAML never reads it as null, a number or a key. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z][A-Za-z0-9 ._/()+,'=;-]*(?<! )");
    private static final Set<String> RESERVED = Set.of("null", "true", "false", "yes", "no", "on", "off", "y", "n");

    /** What the header says about the run besides the fit. */
    record Run(CalibrationPlan plan, String driver, Instant at, List<LoadPoint> capacities, List<LoadPoint> points,
               List<String> notes) {}

    private CalibrationYaml() {}

    static String render(DeviceModel model, ModelFit.Fit fit, Run run) {
        CalibrationPlan plan = run.plan();
        List<String> l = new ArrayList<>();
        l.add("# Calibrated by the ReFlex calibrator on " + WHEN.format(run.at()));
        l.add("# through " + oneLine(run.driver()) + ".");
        l.add("# Method (ReFlex's, simplified): closed-loop QD" + plan.probeQueueDepth() + " capacity probes per mix, then open-loop sweeps");
        l.add("# (Poisson arrivals) of 4 KiB random I/O at fractions of each mix's capacity, " + seconds(plan.perPoint())
                + " per point after " + seconds(plan.warmup()) + " warm-up;");
        l.add("# latency = p95 of reads; a sweep stops after " + Calibrator.SATURATED_RUN + " saturated points in a row; up to "
                + CalibrationPlan.REFINE_POINTS + " more points refine each knee.");
        l.add("# The points deciding each mix's rate at " + plan.confirmMicros() + " µs are measured again after all sweeps; a rate counts with its");
        l.add("# worse measurement, and one that fell behind when measured again ends its mix's curve below it.");
        l.add("# Mixed rate at a target = the lowest over the mixes of the weighted IOPS (Rd + w*Wr) reaching it (isotonic fits);");
        l.add("# read-only rate = 100 x the read IOPS reaching it; never beyond the highest load measured; every rate at most");
        l.add("# " + Math.round(100 * ModelFit.CEILING_SHARE) + "% of the lowest capacity seen (the least load, Rd + w*Wr, a probe or a saturated point served).");
        ModelFit.WriteWeight w = fit.writeWeight();
        l.add(String.format(Locale.ROOT, "# Write weight w = %.2f (%s); QD%d capacity check gives w = %s.", w.value(), w.how(),
                plan.probeQueueDepth(), w.fromCapacity().isEmpty() ? "n/a"
                        : w.fromCapacity().stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).collect(Collectors.joining(", "))));
        l.add("# " + capacities(run.capacities(), plan.probeQueueDepth()) + ".");
        if (fit.ceiling() != null) {
            ModelFit.Ceiling c = fit.ceiling();
            LoadPoint from = c.from();
            String which = from.offeredIops() > 0
                    ? String.format(Locale.ROOT, "%d%% reads offered %,.0f IOPS, served IOPS->p95 µs %s", from.readPercent(), from.offeredIops(), point(from))
                    : String.format(Locale.ROOT, "the %d%% read capacity probe", from.readPercent());
            l.add(String.format(Locale.ROOT, "# Lowest capacity seen: %,.0f read-equivalent IOPS (%s); token rates capped at %.0f%% of it: %.0f tokens/s.",
                    c.iops(), which, 100 * c.share(), c.tokens()));
        }
        if (!fit.skippedTargets().isEmpty()) {
            l.add("# Targets stricter than the lightest load's p95 (no token rate): " + fit.skippedTargets() + " µs.");
        }
        for (String note : run.notes()) l.add("# " + oneLine(note));
        l.add("# Sweep points (achieved IOPS -> read p95 µs; in measured order, knee points and repeats last):");
        for (int r : plan.readPercents()) {
            String pts = run.points().stream().filter(p -> p.readPercent() == r).map(CalibrationYaml::point)
                    .collect(Collectors.joining(", "));
            if (!pts.isEmpty()) l.add("#   " + r + "% read: " + pts);
        }
        l.add("name: " + scalar(model.name()));
        l.add("description: " + scalar(model.description() == null ? "" : model.description()));
        l.add("readCost4k: " + model.readCost4k());
        l.add("writeCost4k: " + model.writeCost4k());
        l.add("tokenLimits:   # p95 read latency limit (µs) -> token rate (mixed) and read-only token rate; interpolated linearly");
        for (TokenLimit t : model.tokenLimits()) {
            l.add(String.format(Locale.ROOT, "  - { p95Micros: %d, mixedTokensPerSec: %.0f, readOnlyTokensPerSec: %.0f }",
                    t.p95Micros(), t.mixedTokensPerSec(), t.readOnlyTokensPerSec()));
        }
        return String.join("\n", l) + "\n";
    }

    /** "7464->70" or "1517 (154 wr)->117". */
    static String point(LoadPoint p) {
        String wr = p.writeIops() > 0 ? String.format(Locale.ROOT, " (%.0f wr)", p.writeIops()) : "";
        return String.format(Locale.ROOT, "%.0f%s->%d", p.iops(), wr, p.readP95Micros());
    }

    private static String capacities(List<LoadPoint> caps, int queueDepth) {
        return caps.stream().map(c -> c.readPercent() == 100
                        ? String.format(Locale.ROOT, "Read-only QD%d capacity %.0f IOPS", queueDepth, c.readIops())
                        : String.format(Locale.ROOT, "%d%% read QD%d: %.0f rd + %.0f wr IOPS", c.readPercent(), queueDepth,
                        c.readIops(), c.writeIops()))
                .collect(Collectors.joining("; "));
    }

    /** A YAML scalar: plain when unambiguous, else double-quoted with escapes. */
    static String scalar(String s) {
        if (PLAIN.matcher(s).matches() && !RESERVED.contains(s.toLowerCase(Locale.ROOT))) return s;
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n]+", " ");
    }

    private static String seconds(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}

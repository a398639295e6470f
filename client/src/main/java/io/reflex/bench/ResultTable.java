package io.reflex.bench;

import java.util.Locale;

/**
 * The original IX client's table, one row per rate, all latencies in µs:
 * {@code RqIOPS IOPS Avg 10th 20th 30th 40th 50th 60th 70th 80th 90th 95th 99th max missed}, followed by two
 * columns the original lacked, {@code 99.9th} and {@code errors} (appended so the original's column positions hold).
 * Closed-loop rows show {@code -} for RqIOPS.
 */
final class ResultTable {
    private static final String[] COLUMNS = {"RqIOPS", "IOPS", "Avg", "10th", "20th", "30th", "40th", "50th", "60th",
            "70th", "80th", "90th", "95th", "99th", "max", "missed", "99.9th", "errors"};
    private static final int WIDTH = 9;

    private ResultTable() {}

    static String header() {
        StringBuilder b = new StringBuilder();
        for (String c : COLUMNS) b.append(pad(c));
        return b.toString().stripTrailing();
    }

    static String row(RowResult r) {
        LatencySummary l = r.latency();
        StringBuilder b = new StringBuilder();
        b.append(pad(r.targetIops() > 0 ? Long.toString(Math.round(r.targetIops())) : "-"));
        b.append(pad(Long.toString(Math.round(r.iops()))));
        b.append(pad(String.format(Locale.ROOT, "%.1f", l.meanUs())));
        for (int i = 0; i < LatencySummary.PERCENTILES.length - 1; i++) b.append(pad(us(l.percentilesUs()[i]))); // up to 99th
        b.append(pad(us(l.maxUs())));
        b.append(pad(Long.toString(r.missed())));
        b.append(pad(us(l.percentile(99.9))));
        b.append(pad(Long.toString(r.errors())));
        return b.toString().stripTrailing();
    }

    private static String us(double v) {
        return Long.toString(Math.round(v));
    }

    private static String pad(String s) {
        return s.length() >= WIDTH ? s + " " : " ".repeat(WIDTH - s.length()) + s;
    }
}

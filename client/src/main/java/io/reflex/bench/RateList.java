package io.reflex.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The open-loop rates of a {@code --sweep}: comma-separated items, each a rate or an inclusive range
 * {@code start:end:step}; rates take an optional k/m suffix. Example: {@code 1000,5k:20k:5k} is
 * 1000, 5000, 10000, 15000, 20000.
 */
final class RateList {
    private static final int MAX_ROWS = 10_000;

    private RateList() {}

    static List<Double> parse(String spec) {
        List<Double> rates = new ArrayList<>();
        for (String item : spec.split(",")) {
            String s = item.strip();
            if (s.isEmpty()) continue;
            String[] p = s.split(":");
            if (p.length == 1) {
                rates.add(rate(p[0], spec));
            } else if (p.length == 3) {
                double start = rate(p[0], spec), end = rate(p[1], spec), step = rate(p[2], spec);
                if (end < start) throw new IllegalArgumentException("sweep range '" + s + "': end is below start");
                for (int i = 0; start + i * step <= end * (1 + 1e-9); i++) {
                    rates.add(start + i * step);
                    if (rates.size() > MAX_ROWS) throw new IllegalArgumentException("sweep '" + spec + "' has more than " + MAX_ROWS + " rates");
                }
            } else {
                throw new IllegalArgumentException("sweep item '" + s + "' is neither RATE nor START:END:STEP");
            }
        }
        if (rates.isEmpty()) throw new IllegalArgumentException("sweep '" + spec + "' lists no rates");
        return rates;
    }

    /** A positive rate like 5000, 2.5k or 1m. */
    static double rate(String s, String context) {
        String t = s.strip().toLowerCase();
        double mult = 1;
        if (t.endsWith("k")) { mult = 1e3; t = t.substring(0, t.length() - 1); }
        else if (t.endsWith("m")) { mult = 1e6; t = t.substring(0, t.length() - 1); }
        double v;
        try {
            v = Double.parseDouble(t) * mult;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' in '" + context + "' is not a rate (e.g. 5000, 2.5k, 1m)");
        }
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException("rate '" + s + "' must be positive");
        return v;
    }
}

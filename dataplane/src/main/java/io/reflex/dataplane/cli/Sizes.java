package io.reflex.dataplane.cli;

/** Parses sizes like 4096, 512Mi, 4Gi, 1G (Kubernetes quantity suffixes, binary and decimal). */
public final class Sizes {
    private Sizes() {}

    public static long parse(String s) {
        String t = s.trim();
        long mult = 1;
        String[][] suffixes = {{"Ki", "1024"}, {"Mi", "1048576"}, {"Gi", "1073741824"}, {"Ti", "1099511627776"},
                {"K", "1000"}, {"M", "1000000"}, {"G", "1000000000"}, {"T", "1000000000000"}};
        for (String[] sf : suffixes) {
            if (t.endsWith(sf[0])) {
                mult = Long.parseLong(sf[1]);
                t = t.substring(0, t.length() - sf[0].length());
                break;
            }
        }
        try {
            long v = Long.parseLong(t);
            if (v < 0) throw new NumberFormatException();
            return Math.multiplyExact(v, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("invalid size '" + s + "': use bytes or a suffix Ki, Mi, Gi, Ti");
        }
    }
}

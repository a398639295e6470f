package io.reflex.dataplane.calibrate;

import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.LoadPoint;

import java.io.PrintStream;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** The summary table the CLI prints after a calibration: capacity probes, then every open-loop point, repeats marked. */
final class PointTable {
    private static final String HEADER = String.format(Locale.ROOT, "%-6s %10s %10s %10s %9s %9s %9s %6s",
            "reads", "offered", "read/s", "write/s", "rd p50µs", "rd p95µs", "wr p95µs", "errors");

    private PointTable() {}

    static String row(LoadPoint p) {
        return String.format(Locale.ROOT, "%5d%% %10s %10.0f %10.0f %9d %9d %9s %6d", p.readPercent(),
                p.offeredIops() > 0 ? String.format(Locale.ROOT, "%.0f", p.offeredIops()) : "closed", p.readIops(), p.writeIops(),
                p.readP50Micros(), p.readP95Micros(), p.writeIops() > 0 ? Long.toString(p.writeP95Micros()) : "-", p.errors());
    }

    static void print(Calibration c, PrintStream out) {
        out.println("capacity probes (closed loop):");
        out.println("  " + HEADER);
        for (LoadPoint p : c.capacities()) out.println("  " + row(p));
        out.println("open-loop points (p95 coordinated-omission corrected):");
        out.println("  " + HEADER);
        // A rate measured again (a confirmation): the fit takes the worse of its measurements.
        Set<String> seen = new HashSet<>();
        for (LoadPoint p : c.points()) {
            boolean again = !seen.add(p.readPercent() + "@" + p.offeredIops());
            out.println("  " + row(p) + (again ? "  again" : ""));
        }
        out.printf(Locale.ROOT, "write cost %.2f reads (%s)%n", c.writeWeight(), c.method());
    }
}

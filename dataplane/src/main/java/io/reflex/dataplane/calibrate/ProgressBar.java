package io.reflex.dataplane.calibrate;

import io.reflex.devmodels.calibration.CalibrationListener;
import io.reflex.devmodels.calibration.LoadPoint;

import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Locale;

/**
 * The CLI's progress on stderr: on a terminal one line redrawn in place (bar, percent, time left, what runs now);
 * otherwise (a log, CI) a line each time the step changes and one per measured point.
 */
final class ProgressBar implements CalibrationListener {
    private static final int BAR = 24;

    private final PrintStream err;
    private final boolean tty;
    private final int columns;
    private String lastStep = "";
    private long lastLineNanos;
    private boolean drawn;

    ProgressBar(PrintStream err, boolean tty) {
        this.err = err;
        this.tty = tty;
        int c = 100;
        try {
            c = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100").trim());
        } catch (NumberFormatException ignored) {
            // keep 100
        }
        this.columns = Math.max(40, c);
    }

    /** Whether stderr is a terminal (System.console() only knows about stdin and stdout). */
    static boolean stderrIsTerminal() {
        try {
            Linker linker = Linker.nativeLinker();
            var isatty = linker.downcallHandle(linker.defaultLookup().find("isatty").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) isatty.invokeExact(2) == 1;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public synchronized void progress(double fractionDone, Duration timeLeft, String current) {
        double f = Math.max(0, Math.min(1, fractionDone));
        String status = String.format(Locale.ROOT, "%3d%%  %s left  %s", Math.round(f * 100), time(timeLeft), current);
        if (tty) {
            int filled = (int) Math.round(f * BAR);
            String line = "[" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] " + status;
            if (line.length() > columns - 1) line = line.substring(0, columns - 1);
            err.print("\r" + line + "\033[K");
            err.flush();
            drawn = true;
            return;
        }
        long now = System.nanoTime();
        // A line per step, but steps whose text changes on every call (a percentage) at most one a second, and a
        // long step (preconditioning a big device) still shows it is alive every 10 s.
        long since = now - lastLineNanos;
        boolean newStep = !current.equals(lastStep);
        if ((newStep && since >= 1_000_000_000L) || since >= 10_000_000_000L || (f >= 1 && newStep) || lastLineNanos == 0) {
            lastStep = current;
            lastLineNanos = now;
            err.println(status);
        }
    }

    @Override
    public synchronized void measured(LoadPoint p) {
        String line = "  measured: " + PointTable.row(p).strip();
        if (tty) {
            err.print("\r\033[K" + line + "\n");
            drawn = false;
        } else {
            err.println(line);
        }
        err.flush();
    }

    /** Ends the redrawn line, so what follows starts on its own. */
    synchronized void finish() {
        if (tty && drawn) err.println();
        drawn = false;
    }

    static String time(Duration d) {
        long s = Math.max(0, (d == null ? Duration.ZERO : d).toSeconds());
        if (s >= 3600) return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
        if (s >= 60) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return s + "s";
    }
}

package io.reflex.dataplane.calibrate;

import io.reflex.dataplane.cli.Sizes;
import io.reflex.dataplane.storage.Engines;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationException;
import io.reflex.devmodels.calibration.CalibrationPlan;
import io.reflex.devmodels.calibration.Calibrator;
import io.reflex.devmodels.calibration.LoadDriver;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code reflex-calibrate}: measure a device and write its cost model (devmodels/models/*.yaml format). */
@Command(name = "reflex-calibrate", mixinStandardHelpOptions = true, version = "reflex-calibrate 0.1.0", sortOptions = false,
        description = {"Measure a flash device (or file) with open-loop 4 KiB random I/O at several read ratios and write its"
                + " device model: write cost and token rate per p95 read latency.",
                "WARNING: it writes the span it measures (preconditioning and the mixed sweeps): never run it on a device holding data."})
public final class CalibrateCommand implements Callable<Integer> {
    @Option(names = "--device", required = true, paramLabel = "PATH", description = "File or block device to measure (opened O_DIRECT; its data is overwritten)")
    Path device;

    @Option(names = "--engine", defaultValue = "auto", paramLabel = "uring|file",
            description = "Storage engine: uring, file, or auto = uring where io_uring works (default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--duration-per-point", paramLabel = "S", description = "Measured seconds per open-loop point (default: the plan's)")
    Double durationPerPoint;

    @Option(names = "--out", paramLabel = "MODEL.yaml", description = "Where to write the model (default: stdout)")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", description = "Model name (default: from --out's file name, else the device's)")
    String name;

    @Option(names = "--span", paramLabel = "SIZE", defaultValue = "0",
            description = "Bytes at the start of the device to load, e.g. 4Gi (multiple of 4 KiB); 0 = the whole device (default: ${DEFAULT-VALUE})")
    String span;

    @Option(names = "--skip-precondition", description = "Do not write the span first (say so only when it is already written)")
    boolean skipPrecondition;

    @Option(names = "--sync-writes", defaultValue = "true", arity = "1", paramLabel = "true|false",
            description = "Writes durable before they complete, as the dataplane's --sync-writes; calibrate with the setting it will serve with (default: ${DEFAULT-VALUE})")
    boolean syncWrites;

    @Option(names = "--through-dataplane", description = "Measure through a dataplane started in this process over TCP on 127.0.0.1 (network cost included)")
    boolean throughDataplane;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Also plot the measured p95 per mix and the fitted curve (PNG)")
    Path plot;

    @Option(names = "--quick", description = "A few short points (seconds in all): for tests, not for a model you rely on")
    boolean quick;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream stdout;
    private final PrintStream stderr;

    public CalibrateCommand() {
        this(System.out, System.err);
    }

    CalibrateCommand(PrintStream stdout, PrintStream stderr) {
        this.stdout = stdout;
        this.stderr = stderr;
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!Files.exists(device)) throw new IOException("device " + device + " does not exist");
        long spanBytes;
        try {
            spanBytes = Sizes.parse(span);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--span: " + e.getMessage());
        }
        String eng = engine.trim().toLowerCase(Locale.ROOT);
        if (eng.equals("auto")) eng = Engines.uringAvailable() ? "uring" : "file";
        else if (!eng.equals("uring") && !eng.equals("file")) throw new CommandLine.ParameterException(cl, "--engine must be uring, file or auto, got '" + engine + "'");
        if (durationPerPoint != null && !(durationPerPoint > 0 && durationPerPoint <= 3600)) {
            throw new CommandLine.ParameterException(cl, "--duration-per-point must be in (0, 3600] seconds, got " + durationPerPoint);
        }
        String modelName = name != null ? name : defaultName();
        if (!modelName.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new CommandLine.ParameterException(cl, "--name must be letters, digits, '.', '_' or '-', got '" + modelName + "'");
        }
        CalibrationPlan plan = quick ? CalibrationPlan.quick() : CalibrationPlan.standard();
        if (durationPerPoint != null) plan = plan.withPerPoint(Duration.ofNanos(Math.round(durationPerPoint * 1e9)));
        if (skipPrecondition) plan = plan.withPrecondition(false);
        // The model goes to stdout without --out, so everything else goes to stderr then.
        PrintStream info = out == null ? stderr : stdout;
        try (LoadDriver driver = throughDataplane ? DataplaneLoadDriver.open(device, eng, spanBytes, syncWrites)
                : EngineLoadDriver.open(device, eng, spanBytes, syncWrites)) {
            info.println("reflex-calibrate: " + describe(plan));
            info.println("reflex-calibrate: measuring through " + driver.describe());
            info.flush();
            ProgressBar bar = new ProgressBar(stderr, ProgressBar.stderrIsTerminal());
            Calibration c;
            try {
                c = new Calibrator(plan, bar).run(driver, modelName, description());
            } finally {
                bar.finish();
            }
            PointTable.print(c, info);
            if (out == null) {
                stdout.print(c.yaml());
                stdout.flush();
            } else {
                Path parent = out.toAbsolutePath().getParent();
                if (parent != null) Files.createDirectories(parent);
                Files.writeString(out, c.yaml());
                info.println("reflex-calibrate: wrote " + out);
            }
            if (plot != null) {
                CalibrationPlot.write(c, plot);
                info.println("reflex-calibrate: plotted " + plot);
            }
            return 0;
        }
    }

    private String describe(CalibrationPlan p) {
        int ro = p.readPercents().contains(100) ? p.readOnlyFractions().size() : 0;
        int points = ro + (p.readPercents().size() - (ro > 0 ? 1 : 0)) * p.mixedFractions().size();
        return String.format(Locale.ROOT, "%s plan: reads %s%%, %d open-loop points of %s (+%s warm-up) and per mix up to %d at its knee"
                        + " and %d measured again at %d µs, %d capacity probes of %s at QD %d, p95 targets %s µs; at most %s%s",
                quick ? "quick" : "standard",
                p.readPercents().stream().map(String::valueOf).collect(Collectors.joining("/")), points, secs(p.perPoint()),
                secs(p.warmup()), CalibrationPlan.REFINE_POINTS, CalibrationPlan.CONFIRM_POINTS, p.confirmMicros(),
                p.readPercents().size(), secs(p.probe()), p.probeQueueDepth(),
                p.targetsMicros().stream().map(String::valueOf).collect(Collectors.joining(",")), ProgressBar.time(p.estimate()),
                p.precondition() ? " plus preconditioning (writes the whole span once)" : ", no preconditioning");
    }

    private static String secs(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private String defaultName() {
        Path from = out != null ? out.getFileName() : device.getFileName();
        String n = from == null ? "calibrated" : from.toString().replaceFirst("\\.(ya?ml|img|raw)$", "").replaceAll("[^A-Za-z0-9._-]", "-");
        return n.isEmpty() || !Character.isLetterOrDigit(n.charAt(0)) ? "calibrated" + n : n;
    }

    private String description() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "this host";
        }
        return device + " on " + host + ", calibrated " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + " by reflex-calibrate"
                + (quick ? " --quick (a test run, not a model to rely on)" : "");
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; user errors are one line on stderr and a non-zero exit, never a stack trace. */
    static int run(String[] args, PrintStream stdout, PrintStream stderr) {
        CommandLine cl = new CommandLine(new CalibrateCommand(stdout, stderr));
        cl.setOut(new java.io.PrintWriter(stdout, true));
        cl.setErr(new java.io.PrintWriter(stderr, true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            stderr.println("reflex-calibrate: " + switch (e) {
                case InterruptedIOException x -> "interrupted";
                case CalibrationException x -> "calibration failed: " + x.getMessage();
                case IOException x -> x.getMessage();
                case IllegalArgumentException x -> x.getMessage();
                default -> e.toString();
            });
            return e instanceof InterruptedIOException ? 130 : 1;
        });
        Thread main = Thread.currentThread();
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        // Ctrl-C: stop the measurement between requests so the driver waits for its I/O and closes the device cleanly.
        Thread hook = new Thread(() -> {
            main.interrupt();
            try {
                done.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // exiting anyway
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return cl.execute(args);
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
    }
}

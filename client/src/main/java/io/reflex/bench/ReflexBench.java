package io.reflex.bench;

import io.reflex.client.HostCpus;
import io.reflex.client.cpu.Affinity;
import io.reflex.client.PollMode;
import io.reflex.protocol.ReflexHeader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code reflex-bench}: open- and closed-loop load generator for ReFlex servers, after the original IX client. */
@Command(name = "reflex-bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
        description = "Load generator for ReFlex servers (legacy or extended protocol). Prints the original IX client's"
                + " table, one row per rate, latencies in microseconds.",
        footer = {"",
                "Modes: open loop (the default when --iops or --sweep is given) sends at fixed intervals, rate/threads per"
                        + " thread; latency is measured from each request's intended send time (coordinated-omission"
                        + " corrected; the uncorrected numbers are in --json). Closed loop keeps --qd requests outstanding"
                        + " on every connection.",
                "Sweep: comma-separated rates and inclusive START:END:STEP ranges, k/m suffixes allowed, e.g."
                        + " --sweep 1000,5k:20k:5k runs 1000, 5000, 10000, 15000, 20000 IOPS, each with its own warm-up.",
                "Columns: RqIOPS IOPS Avg 10th 20th 30th 40th 50th 60th 70th 80th 90th 95th 99th max missed 99.9th errors."
                        + " missed = measured sends more than 1.05 intervals after the previous one (as the original).",
                "The legacy protocol has no size query: --lba-range defaults to 1 GiB (2097152 sectors); set it to the"
                        + " tenant's capacity.",
                "Poll: busy spins on non-blocking reads (best latency, one core per thread); yield spins but gives the CPU"
                        + " to any runnable thread on every empty pass; adaptive spins ~100 us after activity then blocks;"
                        + " block always blocks in select (ms timer: open loop oversleeps). auto (default) samples the CPUs"
                        + " for 150 ms at start and picks: busy on isolated CPUs; yield in a VM (blocking pays the halted"
                        + " vCPU's wake-up per reply) when other work, niced work not counted, uses under 3/4 of them and"
                        + " the load threads leave a CPU free; else adaptive. Printed as 'client layout:' with the reasons.",
                "Exit codes: 0 ok, 1 cannot connect/authenticate or I/O failure, 2 bad arguments, 3 more failed requests"
                        + " than --max-errors."})
public final class ReflexBench implements Callable<Integer> {
    static final int EXIT_CONNECT = 1;
    static final int EXIT_ERRORS = 3;
    static final long DEFAULT_LBA_RANGE = (1L << 30) / ReflexHeader.SECTOR_SIZE;

    @Spec CommandSpec spec;

    @Option(names = "--server", required = true, split = ",", paramLabel = "HOST:PORT",
            description = "Server(s); repeat or comma-separate. Connections are spread round-robin.")
    List<String> servers;

    @Option(names = "--mode", paramLabel = "open|closed", description = "Default: open if --iops/--sweep is given, else closed.")
    String mode;

    @Option(names = "--iops", paramLabel = "N", description = "Open-loop target rate (total over all threads), e.g. 50000 or 50k.")
    String iops;

    @Option(names = "--sweep", paramLabel = "RATES", description = "Open loop over several rates (see below).")
    String sweep;

    @Option(names = "--qd", paramLabel = "N", defaultValue = "1", description = "Closed loop: outstanding requests per connection (default: ${DEFAULT-VALUE}).")
    int qd;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "10", description = "Measured time per row (default: ${DEFAULT-VALUE}).")
    double duration;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "1", description = "Unmeasured load before each row (default: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--read-pct", paramLabel = "P", defaultValue = "100", description = "Percent of requests that are reads (default: ${DEFAULT-VALUE}).")
    int readPct;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "4096", description = "Request size, a multiple of 512 up to 1 MiB (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--pattern", paramLabel = "rand|seq", defaultValue = "rand", description = "LBA pattern (default: ${DEFAULT-VALUE}).")
    String pattern;

    @Option(names = "--connections", paramLabel = "N", description = "TCP connections in total (default: one per thread).")
    Integer connections;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "Load threads, each driving its share of the connections (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--lba-range", paramLabel = "SECTORS", description = "LBAs used: [0, SECTORS) in 512-byte sectors (default: 2097152 = 1 GiB).")
    Long lbaRange;

    @Option(names = "--token", paramLabel = "T", description = "Tenant token: use the extended protocol and send it in HELLO.")
    String token;

    @Option(names = "--extended", description = "Use the extended protocol (HELLO, statuses) even without a token.")
    boolean extended;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results and the configuration as JSON.")
    Path json;

    @Option(names = "--poll", paramLabel = "auto|busy|yield|adaptive|block", defaultValue = "auto",
            description = "Idle strategy of the load threads; auto: chosen for this machine, see below (default: ${DEFAULT-VALUE}).")
    String poll;

    @Option(names = "--cpus", paramLabel = "LIST", description = "Pin load thread i to the i-th CPU of LIST (e.g. 1 or 2-3,"
            + " round robin) and keep the JVM's JIT compiler threads off them, as the dataplane's --cpus does (default: unpinned).")
    String cpus;

    @Option(names = "--max-errors", paramLabel = "N", defaultValue = "0", description = "Failed requests tolerated before the exit code says so (default: ${DEFAULT-VALUE}).")
    long maxErrors;

    @Option(names = "--drain", paramLabel = "SECONDS", defaultValue = "5", description = "How long to wait for outstanding replies after each row (default: ${DEFAULT-VALUE}); the rest count as errors.")
    double drain;

    @Option(names = "--transport", paramLabel = "tcp|udp", defaultValue = "tcp",
            description = "tcp, or udp for servers on the DPDK engine: one datagram per request, retried after --udp-timeout (default: ${DEFAULT-VALUE}).")
    String transport;

    @Option(names = "--udp-timeout", paramLabel = "MS", defaultValue = "50",
            description = "UDP: first retry after this many ms without a reply, doubling up to 16x (default: ${DEFAULT-VALUE}).")
    double udpTimeoutMs;

    @Option(names = "--udp-retries", paramLabel = "N", defaultValue = "6", description = "UDP: retries before a request fails (default: ${DEFAULT-VALUE}).")
    int udpRetries;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Random seed for LBAs and read/write choice (default: ${DEFAULT-VALUE}).")
    long seed;

    private final PrintStream out;
    private final PrintStream err;

    ReflexBench(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /** Runs the command with these streams; returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return new CommandLine(new ReflexBench(out, err))
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args);
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        BenchConfig config = config();
        err.println("reflex-bench: " + describe(config));
        List<RowResult> rows;
        try (BenchRunner runner = connect(config)) {
            if (runner == null) return EXIT_CONNECT;
            out.println(ResultTable.header());
            rows = runner.run(r -> out.println(ResultTable.row(r)));
            if (runner.udpStats() != null) err.println("reflex-bench: " + runner.udpStats());
        }
        if (json != null) JsonReport.write(json, config, rows);
        long errors = rows.stream().mapToLong(RowResult::errors).sum();
        if (errors > maxErrors) {
            err.println("reflex-bench: " + errors + " request(s) failed, more than --max-errors " + maxErrors);
            return EXIT_ERRORS;
        }
        return 0;
    }

    private BenchRunner connect(BenchConfig config) {
        try {
            return BenchRunner.connect(config, err);
        } catch (IOException e) {
            err.println("reflex-bench: " + e.getMessage());
            return null;
        }
    }

    private BenchConfig config() {
        List<ServerAddress> addresses;
        try {
            addresses = servers.stream().filter(s -> !s.isBlank()).map(ServerAddress::parse).toList();
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (addresses.isEmpty()) throw usage("--server needs at least one HOST:PORT");
        if (iops != null && sweep != null) throw usage("give --iops or --sweep, not both");
        BenchConfig.Mode m = switch (mode == null ? (iops != null || sweep != null ? "open" : "closed") : mode.toLowerCase(Locale.ROOT)) {
            case "open" -> BenchConfig.Mode.OPEN;
            case "closed" -> BenchConfig.Mode.CLOSED;
            default -> throw usage("--mode must be open or closed, not '" + mode + "'");
        };
        List<Double> rates = List.of();
        if (m == BenchConfig.Mode.OPEN) {
            if (iops == null && sweep == null) throw usage("open loop needs --iops N or --sweep RATES");
            try {
                rates = sweep != null ? RateList.parse(sweep) : List.of(RateList.rate(iops, "--iops"));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        } else if (iops != null || sweep != null) {
            throw usage("--iops/--sweep are for the open loop; the closed loop is sized by --qd");
        }
        if (qd < 1 || qd > 65_536) throw usage("--qd must be 1..65536");
        if (!(duration > 0)) throw usage("--duration must be > 0 seconds");
        if (!(warmup >= 0)) throw usage("--warmup must be >= 0 seconds");
        if (!(drain >= 0)) throw usage("--drain must be >= 0 seconds");
        if (readPct < 0 || readPct > 100) throw usage("--read-pct must be 0..100");
        if (size < ReflexHeader.SECTOR_SIZE || size > ReflexHeader.MAX_BYTES || size % ReflexHeader.SECTOR_SIZE != 0) {
            throw usage("--size must be a multiple of 512 between 512 and 1048576 bytes, not " + size);
        }
        boolean sequential = switch (pattern.toLowerCase(Locale.ROOT)) {
            case "rand", "random" -> false;
            case "seq", "sequential" -> true;
            default -> throw usage("--pattern must be rand or seq, not '" + pattern + "'");
        };
        PollMode requestedPoll;
        try {
            requestedPoll = ClientLayout.parsePoll(poll);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (threads < 1) throw usage("--threads must be >= 1");
        int conns = connections == null ? threads : connections;
        if (conns < 1 || conns > 4096) throw usage("--connections must be 1..4096");
        int threadCount = threads;
        if (threadCount > conns) {
            err.println("reflex-bench: only " + conns + " connection(s): using " + conns + " thread(s), not " + threads);
            threadCount = conns;
        }
        long range = lbaRange == null ? DEFAULT_LBA_RANGE : lbaRange;
        if (range < size / ReflexHeader.SECTOR_SIZE) throw usage("--lba-range " + range + " is smaller than one request");
        boolean udp = switch (transport.toLowerCase(Locale.ROOT)) {
            case "tcp" -> false;
            case "udp" -> true;
            default -> throw usage("--transport must be tcp or udp, not '" + transport + "'");
        };
        List<Integer> pinTo = List.of();
        if (cpus != null) {
            try {
                pinTo = HostCpus.parseCpus(cpus);
            } catch (IllegalArgumentException e) {
                throw usage("--cpus: " + e.getMessage());
            }
            if (pinTo.isEmpty()) throw usage("--cpus names no CPU");
            try {
                HostCpus.requireAllowed(pinTo, Affinity.allowed());
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        ClientLayout layout = ClientLayout.choose(requestedPoll, threadCount, requestedPoll == null ? HostCpus.probe(pinTo) : null);
        err.println("reflex-bench: client layout: " + layout.why());
        PollMode pollMode = layout.poll();
        try {
            var udpOptions = new io.reflex.client.UdpOptions(java.time.Duration.ofNanos((long) (udpTimeoutMs * 1e6)), udpRetries,
                    io.reflex.protocol.UdpFraming.JUMBO_PAYLOAD);
            if (udp && size + ReflexHeader.LENGTH > udpOptions.maxDatagram()) throw usage("--size " + size + " does not fit one UDP datagram");
            return new BenchConfig(addresses, m, rates, qd, duration, warmup, readPct, size, sequential, conns, threadCount,
                    range, token, extended, pollMode, seed, drain, udp, udpOptions, pinTo);
        } catch (IllegalArgumentException e) { // e.g. a token over 256 bytes, from ClientOptions
            throw usage(e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private static String describe(BenchConfig c) {
        String load = c.mode() == BenchConfig.Mode.OPEN
                ? "open loop at " + c.rates().stream().map(r -> Long.toString(Math.round(r))).toList() + " IOPS"
                : "closed loop, qd " + c.qd() + " per connection";
        return String.format(Locale.ROOT, "%s; %d B, %d%% reads, %s over %d sectors; %d connection(s) to %s on %d thread(s);"
                        + " %.1f s warm-up + %.1f s per row; poll=%s; %s protocol%s", load, c.sizeBytes(), c.readPct(),
                c.sequential() ? "seq" : "rand", c.lbaRange(), c.connections(), c.servers(), c.threads(),
                c.warmupSeconds(), c.durationSeconds(), c.poll().name().toLowerCase(Locale.ROOT),
                c.udp() ? "udp" : c.clientOptions().extended() ? "extended" : "legacy", c.udp() ? " (udp)" : "")
                + (c.cpus().isEmpty() ? "" : "; load threads on CPUs " + HostCpus.formatCpus(c.cpus()));
    }
}

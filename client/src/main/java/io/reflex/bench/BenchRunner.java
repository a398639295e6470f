package io.reflex.bench;

import io.reflex.client.BlockTransport;
import io.reflex.client.ReflexConnection;
import io.reflex.client.UdpConnection;
import io.reflex.client.cpu.Housekeeping;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Opens the connections, spreads them over worker threads and runs one row per rate (or the closed-loop row). */
final class BenchRunner implements AutoCloseable {
    /** Head start so every worker thread is up before the first send. */
    private static final long START_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final BenchConfig config;
    private final List<BlockTransport> connections = new ArrayList<>();
    private final List<LoadWorker> workers = new ArrayList<>();
    private final PrintStream err;
    private boolean housekept;

    private BenchRunner(BenchConfig config, PrintStream err) {
        this.config = config;
        this.err = err;
    }

    /** Connects everything up front, so an unreachable server fails before any load is sent. */
    static BenchRunner connect(BenchConfig config, PrintStream err) throws IOException {
        BenchRunner r = new BenchRunner(config, err);
        try {
            for (int i = 0; i < config.connections(); i++) {
                ServerAddress s = config.servers().get(i % config.servers().size());
                r.connections.add(config.udp() ? UdpConnection.open(s.host(), s.port(), config.clientOptions(), config.udpOptions())
                        : ReflexConnection.open(s.host(), s.port(), config.clientOptions()));
            }
            for (int t = 0; t < config.threads(); t++) {
                List<BlockTransport> mine = new ArrayList<>();
                for (int i = t; i < r.connections.size(); i += config.threads()) mine.add(r.connections.get(i));
                r.workers.add(new LoadWorker(config, mine, t, err));
            }
            return r;
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** Runs every row, handing each result to {@code onRow} as soon as it is measured. */
    List<RowResult> run(Consumer<RowResult> onRow) throws InterruptedException {
        List<RowResult> rows = new ArrayList<>();
        List<Double> rates = config.mode() == BenchConfig.Mode.OPEN ? config.rates() : List.of(0.0);
        for (int i = 0; i < rates.size(); i++) {
            RowResult row = runRow(i, rates.get(i));
            rows.add(row);
            onRow.accept(row);
            if (connections.stream().noneMatch(BlockTransport::isOpen)) break; // nothing left to measure with
        }
        return rows;
    }

    private RowResult runRow(int index, double rate) throws InterruptedException {
        long start = System.nanoTime() + START_DELAY_NANOS;
        long measureStart = start + seconds(config.warmupSeconds());
        long end = measureStart + seconds(config.durationSeconds());
        long drainDeadline = end + seconds(config.drainSeconds());
        double perThread = rate / workers.size();
        List<Thread> threads = new ArrayList<>();
        List<Integer> cpus = config.cpus();
        for (int t = 0; t < workers.size(); t++) {
            LoadWorker w = workers.get(t);
            int cpu = cpus.isEmpty() ? -1 : cpus.get(t % cpus.size());
            threads.add(Thread.ofPlatform().name("reflex-bench-" + t).start(() -> {
                if (cpu >= 0 && !Housekeeping.pinLoopThread(cpu)) err.println("reflex-bench: cannot pin to CPU " + cpu + "; running unpinned");
                try {
                    w.runRow(index, perThread, start, measureStart, end, drainDeadline);
                } finally {
                    if (cpu >= 0) Housekeeping.loopEnded();
                }
            }));
        }
        if (!cpus.isEmpty() && !housekept) { // once: threads the JVM starts later inherit the moved masks
            housekept = true;
            err.println("reflex-bench: " + Housekeeping.apply(cpus));
        }
        for (Thread t : threads) t.join();
        Recorder total = new Recorder();
        for (LoadWorker w : workers) total.add(w.recorder);
        double iops = total.completedInWindow / config.durationSeconds();
        return new RowResult(rate, iops, total.reads, total.writes, total.errors, total.missed, total.unfinished,
                LatencySummary.of(total.corrected), LatencySummary.of(total.uncorrected));
    }

    /** UDP: requests resent after a timeout, duplicate replies ignored, requests out of retries (null for TCP). */
    String udpStats() {
        if (!config.udp()) return null;
        long retransmits = 0, stale = 0, timeouts = 0;
        for (BlockTransport c : connections) {
            if (c instanceof UdpConnection u) {
                retransmits += u.retransmits();
                stale += u.staleReplies();
                timeouts += u.timeouts();
            }
        }
        return "udp retransmits=" + retransmits + " duplicate_replies=" + stale + " timeouts=" + timeouts;
    }

    private static long seconds(double s) {
        return (long) (s * 1e9);
    }

    @Override
    public void close() {
        workers.forEach(LoadWorker::close);
        connections.forEach(BlockTransport::close);
    }
}

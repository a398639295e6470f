package io.reflex.bench;

import io.reflex.client.CompletionListener;
import io.reflex.client.IdleStrategy;
import io.reflex.client.BlockTransport;
import io.reflex.protocol.Status;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Drives a fixed set of connections from one thread, one row at a time (open or closed loop). Lives across the
 * rows of a sweep so that a late reply from an earlier row still finds its request bookkeeping (and is ignored).
 * The per-request path allocates nothing: requests are tracked in arrays indexed by the connection's user tag.
 */
final class LoadWorker implements CompletionListener, AutoCloseable {
    private final BenchConfig config;
    private final BlockTransport[] connections;
    private final boolean[] reportedClosed;
    private final int[] outstandingOn;
    private final IdleStrategy idle;
    private final Workload workload;
    private final ByteBuffer writeData;
    private final PrintStream err;
    final Recorder recorder = new Recorder();

    // request bookkeeping by tag
    private final int[] freeTags;
    private int freeCount;
    private final long[] intendedAt;
    private final long[] sentAt;
    private final int[] connectionOf;
    private final int[] rowOf;
    private final boolean[] isRead;

    // current row
    private int row = -1;
    private int rowOutstanding;
    private long measureStart;
    private long end;
    private int nextConnection;

    LoadWorker(BenchConfig config, List<BlockTransport> connections, int index, PrintStream err) {
        this.config = config;
        this.connections = connections.toArray(BlockTransport[]::new);
        this.reportedClosed = new boolean[this.connections.length];
        this.outstandingOn = new int[this.connections.length];
        this.err = err;
        this.idle = new IdleStrategy(config.poll());
        for (BlockTransport c : this.connections) idle.register(c);
        long streamStart = config.lbaRange() / config.sectors() / config.threads() * index;
        this.workload = new Workload(config.lbaRange(), config.sectors(), config.readPct(), config.sequential(),
                config.seed() + 0x9E3779B97F4A7C15L * (index + 1), streamStart);
        this.writeData = ByteBuffer.allocateDirect(config.sizeBytes());
        for (int i = 0; i < config.sizeBytes(); i++) writeData.put(i, (byte) (i * 31 + index));
        int tags = this.connections.length * config.maxInFlight();
        this.freeTags = new int[tags];
        for (int i = 0; i < tags; i++) freeTags[i] = tags - 1 - i;
        this.freeCount = tags;
        this.intendedAt = new long[tags];
        this.sentAt = new long[tags];
        this.connectionOf = new int[tags];
        this.rowOf = new int[tags];
        this.isRead = new boolean[tags];
    }

    /**
     * Runs one row on the calling thread: sends from {@code start} (warm-up until {@code measureStart}) until
     * {@code end}, then waits for replies until {@code drainDeadline}.
     *
     * @param ratePerThread open-loop requests per second for this thread; ignored in closed loop
     */
    void runRow(int rowIndex, double ratePerThread, long start, long measureStart, long end, long drainDeadline) {
        recorder.reset();
        this.row = rowIndex;
        this.rowOutstanding = 0;
        this.measureStart = measureStart;
        this.end = end;
        while (System.nanoTime() < start) Thread.onSpinWait();
        if (config.mode() == BenchConfig.Mode.OPEN) openLoop(ratePerThread, start);
        else closedLoop();
        drain(drainDeadline);
        recorder.unfinished = rowOutstanding;
        recorder.errors += rowOutstanding;
    }

    /** Sends on a fixed schedule; when behind, catches up without moving the schedule (latency counts from it). */
    private void openLoop(double rate, long start) {
        double interval = 1e9 / rate;
        double nextSend = start;
        long lastSent = 0;
        long lateGap = (long) (1.05 * interval);
        while (true) {
            long now = System.nanoTime();
            if (now >= end || !anyOpen()) return;
            int work = 0;
            while (nextSend <= now && nextSend < end) {
                long intended = (long) nextSend;
                if (!sendOnAnyConnection(intended, now)) break; // all full: stay behind schedule
                if (intended >= measureStart && lastSent != 0 && now - lastSent > lateGap) recorder.missed++;
                lastSent = now;
                nextSend += interval;
                work++;
            }
            work += pollAll();
            idle.idle(work, Math.min(Math.min((long) nextSend, end), retransmitDeadline(now)));
        }
    }

    /** Keeps qd requests outstanding on every open connection. */
    private void closedLoop() {
        while (true) {
            long now = System.nanoTime();
            if (now >= end || !anyOpen()) return;
            int work = 0;
            for (int c = 0; c < connections.length; c++) {
                while (outstandingOn[c] < config.qd() && connections[c].isOpen() && submit(c, now, now)) work++;
            }
            work += pollAll();
            idle.idle(work, Math.min(end, retransmitDeadline(now)));
        }
    }

    private void drain(long deadline) {
        while (rowOutstanding > 0 && anyOpen()) {
            long now = System.nanoTime();
            if (now >= deadline) return;
            idle.idle(pollAll(), Math.min(deadline, retransmitDeadline(now)));
        }
        pollAll(); // report requests failed by a closed connection
    }

    private boolean sendOnAnyConnection(long intended, long now) {
        for (int i = 0; i < connections.length; i++) {
            int c = nextConnection;
            nextConnection = c + 1 == connections.length ? 0 : c + 1;
            if (connections[c].isOpen() && submit(c, intended, now)) return true;
        }
        return false;
    }

    private boolean submit(int c, long intended, long now) {
        if (freeCount == 0) return false;
        int tag = freeTags[--freeCount];
        boolean read = workload.nextIsRead();
        long lba = workload.nextLba();
        BlockTransport conn = connections[c];
        boolean queued = read ? conn.submitRead(lba, config.sectors(), null, tag) : conn.submitWrite(lba, writeData, tag);
        if (!queued) {
            freeTags[freeCount++] = tag;
            return false;
        }
        intendedAt[tag] = intended;
        sentAt[tag] = now;
        connectionOf[tag] = c;
        rowOf[tag] = row;
        isRead[tag] = read;
        outstandingOn[c]++;
        rowOutstanding++;
        return true;
    }

    private int pollAll() {
        int n = 0;
        for (int c = 0; c < connections.length; c++) {
            BlockTransport conn = connections[c];
            conn.flushSends();
            n += conn.poll(this);
            if (!conn.isOpen() && !reportedClosed[c]) {
                reportedClosed[c] = true;
                err.println("reflex-bench: lost connection to " + conn.peer() + ": " + conn.closeCause().getMessage());
            }
        }
        return n;
    }

    /** The earliest UDP retransmit timer (TCP: never), so an idle wait does not delay a retry. */
    private long retransmitDeadline(long now) {
        long left = Long.MAX_VALUE;
        for (BlockTransport c : connections) left = Math.min(left, c.nanosUntilDeadline(now));
        return left == Long.MAX_VALUE ? Long.MAX_VALUE : now + left;
    }

    private boolean anyOpen() {
        for (BlockTransport c : connections) if (c.isOpen()) return true;
        return false;
    }

    @Override
    public void onComplete(long userTag, int status, ByteBuffer data) {
        int tag = (int) userTag;
        long now = System.nanoTime();
        outstandingOn[connectionOf[tag]]--;
        freeTags[freeCount++] = tag;
        if (rowOf[tag] != row) return; // a straggler from an earlier row
        rowOutstanding--;
        if (status != Status.OK) {
            recorder.errors++;
            return;
        }
        if (now >= measureStart && now < end) recorder.completedInWindow++;
        long intended = intendedAt[tag];
        if (intended >= measureStart && intended < end) {
            recorder.record(now - intended, now - sentAt[tag]);
            if (isRead[tag]) recorder.reads++;
            else recorder.writes++;
        }
    }

    @Override
    public void close() {
        idle.close();
    }
}

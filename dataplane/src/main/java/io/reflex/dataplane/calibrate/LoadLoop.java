package io.reflex.dataplane.calibrate;

import io.reflex.devmodels.calibration.LoadDriver;
import io.reflex.devmodels.calibration.LoadPoint;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.DoubleConsumer;

/**
 * The request loop both drivers share, run on the caller's thread like a dataplane loop: issue what is due, submit
 * the batch once per pass, reap, repeat. Subclasses only say how to issue, submit and reap; the arrival schedule,
 * the slots and the measurement live here. Per request nothing is allocated and nothing locked: a request is a tag
 * that indexes preallocated arrays.
 *
 * <p>Open loop: Poisson arrivals at the offered rate whatever the device does. When all {@link #depth} slots are busy,
 * a due request waits for one, and its latency still counts from when it was due (coordinated omission corrected).
 * After the window, requests due in it are still sent and awaited for as long as the window lasted (1 to 5 s); any
 * left then count with their latency so far (a lower bound), so a saturated device shows as such instead of dropping
 * its worst, and an overloaded point does not take forever.
 */
abstract class LoadLoop implements LoadDriver {
    static final int BLOCK = 4096;
    static final int CHUNK = 1 << 20;
    static final int PRECONDITION_DEPTH = 8;
    private static final long MAX_NANOS = 60_000_000_000L;
    private static final long MIN_DRAIN_NANOS = 1_000_000_000L;
    private static final long MAX_DRAIN_NANOS = 5_000_000_000L;
    private static final long QUIESCE_NANOS = 30_000_000_000L;
    /** With nothing in flight, an arrival further off than this is waited for with a short sleep... */
    private static final long SLEEP_ABOVE_NANOS = 1_000_000;
    /** ...that ends this long before it, since timer slack and wake-up would otherwise make the request late (and count it). */
    private static final long SLEEP_MARGIN_NANOS = 300_000;
    private static final long YIELD_ABOVE_NANOS = 20_000;

    private final int depth;
    private final long spanBytes;
    private final long blocks;
    private final SplittableRandom random;
    private final Histogram readLatency = new Histogram(MAX_NANOS, 3);
    private final Histogram writeLatency = new Histogram(MAX_NANOS, 3);
    private final long[] due;
    private final boolean[] isRead;
    private final boolean[] busy;
    private final int[] freeTags;
    private int free;
    /** None by default: the Calibrator runs its own unmeasured warm-up point before each measured one. */
    private Duration warmup = Duration.ZERO;

    // The point being measured.
    private boolean recording;
    private long measureStart;
    private long measureEnd;
    private long reads;
    private long writes;
    private long errors;

    LoadLoop(long spanBytes, int depth, long seed) {
        this.depth = depth;
        this.spanBytes = spanBytes;
        this.blocks = spanBytes / BLOCK;
        this.random = new SplittableRandom(seed);
        this.due = new long[depth];
        this.isRead = new boolean[depth];
        this.busy = new boolean[depth];
        this.freeTags = new int[depth];
        for (int i = 0; i < depth; i++) freeTags[i] = depth - 1 - i;
        this.free = depth;
    }

    /** Queues a 4 KiB read at {@code offset}; false when the target has no room now (retried on a later pass). */
    protected abstract boolean issueRead(int tag, long offset);

    /**
     * Queues a write of {@code length} non-zero bytes (4 KiB, or up to {@link #CHUNK} when preconditioning). The data
     * may come from one buffer shared by all writes in flight: the device only reads it.
     */
    protected abstract boolean issueWrite(int tag, long offset, int length);

    /** Hands everything issued since the last call to the target in one batch. */
    protected abstract void submit() throws IOException;

    /** Delivers ready completions to {@link #completed} without blocking; returns how many. */
    protected abstract int reap() throws IOException;

    /** Unmeasured time before each point: queues fill, caches and the JIT settle. */
    public final void warmup(Duration d) {
        if (d.isNegative()) throw new IllegalArgumentException("warm-up must not be negative, got " + d);
        warmup = d;
    }

    public final long spanBytes() {
        return spanBytes;
    }

    /** Slots, i.e. the most requests in flight (the open loop's queue depth cap). */
    public final int depth() {
        return depth;
    }

    protected final void completed(int tag, boolean ok) {
        long now = System.nanoTime();
        busy[tag] = false;
        freeTags[free++] = tag;
        if (!ok) {
            errors++;
            return;
        }
        if (!recording) return;
        long d = due[tag];
        if (d >= measureStart && d < measureEnd) {
            record(isRead[tag], now - d);
        }
        if (now >= measureStart && now < measureEnd) {
            if (isRead[tag]) reads++;
            else writes++;
        }
    }

    @Override
    public final LoadPoint openLoop(int readPercent, double iops, Duration duration) throws IOException {
        checkMix(readPercent);
        if (!(iops > 0) || iops > 1e8) throw new IllegalArgumentException("open-loop rate must be in (0, 1e8] IOPS, got " + iops);
        long start = begin(duration);
        double meanGap = 1e9 / iops;
        double next = start;
        long deadline = measureEnd + drainNanos(duration);
        while (true) {
            long now = System.nanoTime();
            if ((next >= measureEnd && free == depth) || now >= deadline) break;
            boolean issued = false;
            while (next <= now && next < measureEnd && free > 0) {
                boolean read = nextIsRead(readPercent);
                int tag = freeTags[free - 1];
                if (!(read ? issueRead(tag, nextOffset()) : issueWrite(tag, nextOffset(), BLOCK))) break;
                take(tag, (long) next, read);
                next += -meanGap * Math.log(1 - random.nextDouble());
                issued = true;
            }
            if (issued) submit();
            int reaped = reap();
            checkInterrupted();
            if (!issued && reaped == 0) idle(next < measureEnd ? (long) next - now : Long.MAX_VALUE);
        }
        long now = System.nanoTime();
        for (; next < measureEnd; next += -meanGap * Math.log(1 - random.nextDouble())) {
            if (next >= measureStart) record(nextIsRead(readPercent), now - (long) next);
        }
        return finish(readPercent, iops, duration, now);
    }

    @Override
    public final LoadPoint closedLoop(int readPercent, int queueDepth, Duration duration) throws IOException {
        checkMix(readPercent);
        if (queueDepth < 1 || queueDepth > depth) throw new IllegalArgumentException("queue depth must be in 1.." + depth + ", got " + queueDepth);
        begin(duration);
        while (true) {
            long now = System.nanoTime();
            if (now >= measureEnd) break;
            boolean issued = false;
            while (depth - free < queueDepth) {
                boolean read = nextIsRead(readPercent);
                int tag = freeTags[free - 1];
                if (!(read ? issueRead(tag, nextOffset()) : issueWrite(tag, nextOffset(), BLOCK))) break;
                take(tag, now, read);
                issued = true;
            }
            if (issued) submit();
            int reaped = reap();
            checkInterrupted();
            if (!issued && reaped == 0) idle(Long.MAX_VALUE);
        }
        long deadline = System.nanoTime() + drainNanos(duration);
        while (free < depth && System.nanoTime() < deadline) {
            if (reap() == 0) idle(Long.MAX_VALUE);
            checkInterrupted();
        }
        return finish(readPercent, 0, duration, System.nanoTime());
    }

    /** Sequential {@link #CHUNK} writes over the span at queue depth {@link #PRECONDITION_DEPTH}. */
    @Override
    public final void precondition(DoubleConsumer progress) throws IOException {
        recording = false;
        errors = 0;
        long nextOffset = 0, chunksDone = 0;
        int reported = -1;
        progress.accept(0);
        while (nextOffset < spanBytes || free < depth) {
            boolean issued = false;
            while (nextOffset < spanBytes && depth - free < PRECONDITION_DEPTH) {
                int tag = freeTags[free - 1];
                int length = (int) Math.min(CHUNK, spanBytes - nextOffset);
                if (!issueWrite(tag, nextOffset, length)) break;
                take(tag, 0, false);
                nextOffset += length;
                issued = true;
            }
            if (issued) submit();
            int reaped = reap();
            checkInterrupted();
            if (errors > 0) {
                quiesce();
                throw new IOException("preconditioning failed: a write to the span was not completed (I/O error)");
            }
            if (reaped == 0) {
                idle(Long.MAX_VALUE);
                continue;
            }
            chunksDone += reaped;
            long done = Math.min(spanBytes, chunksDone * CHUNK);
            int percent = (int) (done * 100 / spanBytes);
            if (percent != reported) {
                reported = percent;
                progress.accept(done / (double) spanBytes);
            }
        }
        if (reported != 100) progress.accept(1);
    }

    private long begin(Duration duration) throws IOException {
        if (duration.isNegative() || duration.isZero()) throw new IllegalArgumentException("duration must be positive, got " + duration);
        quiesce();
        readLatency.reset();
        writeLatency.reset();
        reads = writes = errors = 0;
        long start = System.nanoTime();
        measureStart = start + warmup.toNanos();
        measureEnd = measureStart + duration.toNanos();
        recording = true;
        return start;
    }

    /** Counts requests still in flight with their latency so far, then waits for them unrecorded. */
    private LoadPoint finish(int readPercent, double offered, Duration duration, long now) throws IOException {
        for (int t = 0; t < depth; t++) {
            if (busy[t] && due[t] >= measureStart && due[t] < measureEnd) {
                record(isRead[t], now - due[t]);
            }
        }
        recording = false;
        long errorsOfPoint = errors;
        quiesce();
        double seconds = duration.toNanos() / 1e9;
        return new LoadPoint(readPercent, offered, reads / seconds, writes / seconds, micros(readLatency, 50),
                micros(readLatency, 95), micros(writeLatency, 95), errorsOfPoint, seconds);
    }

    /** Waits until nothing is in flight (buffers stay owned by the target until then). */
    final void quiesce() throws IOException {
        boolean wasRecording = recording;
        recording = false;
        long deadline = System.nanoTime() + QUIESCE_NANOS;
        while (free < depth) {
            if (System.nanoTime() > deadline) {
                throw new IOException((depth - free) + " requests still not completed after " + QUIESCE_NANOS / 1_000_000_000L + " s");
            }
            if (reap() == 0) idle(Long.MAX_VALUE);
        }
        recording = wasRecording;
    }

    private static long drainNanos(Duration window) {
        return Math.clamp(window.toNanos(), MIN_DRAIN_NANOS, MAX_DRAIN_NANOS);
    }

    private void take(int tag, long dueAt, boolean read) {
        free--;
        due[tag] = dueAt;
        isRead[tag] = read;
        busy[tag] = true;
    }

    private void idle(long nanosToNextArrival) {
        if (free == depth && nanosToNextArrival > SLEEP_ABOVE_NANOS) {
            LockSupport.parkNanos(Math.min(nanosToNextArrival - SLEEP_MARGIN_NANOS, 1_000_000));
        } else if (nanosToNextArrival > YIELD_ABOVE_NANOS) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    private void checkInterrupted() throws IOException {
        if (Thread.interrupted()) {
            quiesce();
            throw new InterruptedIOException("calibration interrupted");
        }
    }

    private boolean nextIsRead(int readPercent) {
        return readPercent >= 100 || (readPercent > 0 && random.nextInt(100) < readPercent);
    }

    private long nextOffset() {
        return random.nextLong(blocks) * BLOCK;
    }

    private void record(boolean read, long nanos) {
        (read ? readLatency : writeLatency).recordValue(Math.clamp(nanos, 0, MAX_NANOS));
    }

    private static long micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : Math.round(h.getValueAtPercentile(percentile) / 1000.0);
    }

    /**
     * The span to load: {@code requested}, or the device rounded down to 4 KiB when 0.
     *
     * @throws IllegalArgumentException if it is not a positive multiple of 4096 within the device
     */
    static long resolveSpan(long requested, long capacity, Object device) {
        if (requested < 0 || requested % BLOCK != 0) {
            throw new IllegalArgumentException("span " + requested + " bytes is not a multiple of 4096 (4 KiB)");
        }
        long span = requested == 0 ? capacity / BLOCK * BLOCK : requested;
        if (span > capacity) {
            throw new IllegalArgumentException("span " + human(span) + " is larger than " + device + " (" + human(capacity) + ")");
        }
        if (span < BLOCK) throw new IllegalArgumentException(device + " is smaller than 4 KiB");
        return span;
    }

    /** 64 GiB, 512 MiB, 4096 bytes: exact, for descriptions. */
    static String human(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (u < units.length - 1 && bytes >= 1024 && bytes % 1024 == 0) {
            bytes /= 1024;
            u++;
        }
        return bytes + " " + units[u];
    }

    private static void checkMix(int readPercent) {
        if (readPercent < 0 || readPercent > 100) throw new IllegalArgumentException("read percent must be 0..100, got " + readPercent);
    }
}

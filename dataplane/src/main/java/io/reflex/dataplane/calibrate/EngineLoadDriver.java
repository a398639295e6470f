package io.reflex.dataplane.calibrate;

import io.reflex.dataplane.storage.CompletionHandler;
import io.reflex.dataplane.storage.EngineOptions;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.dataplane.storage.StorageEngine;
import io.reflex.dataplane.storage.StorageException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Loads a device directly through the dataplane's own storage engine (io_uring or the file engine, O_DIRECT, the
 * dataplane's write durability), one thread, run to completion: what the device costs without the network. Not
 * thread-safe; use it from one thread.
 */
public final class EngineLoadDriver extends LoadLoop {
    /** The open loop's queue depth cap: the dataplane's default --queue-depth. */
    public static final int QUEUE_DEPTH = 256;

    private final StorageEngine engine;
    private final IoQueue queue;
    private final Path device;
    private final boolean syncWrites;
    private final MemorySegment[] readBuffers;
    private final MemorySegment writeBlock;
    private final MemorySegment chunk;
    private final CompletionHandler onComplete = (tag, result) -> completed((int) tag, result >= 0);
    private boolean closed;

    private EngineLoadDriver(StorageEngine engine, IoQueue queue, Path device, long span, boolean syncWrites) {
        super(span, QUEUE_DEPTH, System.nanoTime());
        this.engine = engine;
        this.queue = queue;
        this.device = device;
        this.syncWrites = syncWrites;
        MemorySegment all = queue.allocateBuffer((long) QUEUE_DEPTH * BLOCK);
        this.readBuffers = new MemorySegment[QUEUE_DEPTH];
        for (int i = 0; i < QUEUE_DEPTH; i++) readBuffers[i] = all.asSlice((long) i * BLOCK, BLOCK);
        this.writeBlock = randomFill(queue.allocateBuffer(BLOCK));
        this.chunk = randomFill(queue.allocateBuffer(CHUNK));
    }

    /**
     * Opens {@code device} for calibration.
     *
     * @param engine     uring or file
     * @param spanBytes  bytes at the start of the device to load, a multiple of 4096; 0 = the whole device
     * @param syncWrites writes durable before they complete (RWF_DSYNC / O_DSYNC), as the dataplane's default
     *                   --sync-writes true; false: plain O_DIRECT writes, as --sync-writes false
     * @throws IllegalArgumentException for an unknown engine or a span that is not a multiple of 4096 or exceeds the device
     * @throws IOException when the device cannot be opened (missing, in use, no O_DIRECT, ...); the message says why
     */
    public static EngineLoadDriver open(Path device, String engine, long spanBytes, boolean syncWrites) throws IOException {
        String name = checkEngine(engine);
        if (device == null || !Files.exists(device)) throw new IOException("device " + device + " does not exist");
        StorageEngine e;
        try {
            e = Engines.open(name, device, new EngineOptions(syncWrites, 0));
        } catch (StorageException x) {
            throw new IOException(x.getMessage(), x);
        }
        try {
            long span = resolveSpan(spanBytes, e.capacityBytes(), device);
            return new EngineLoadDriver(e, e.openQueue(QUEUE_DEPTH), device, span, syncWrites);
        } catch (StorageException x) {
            e.close();
            throw new IOException(x.getMessage(), x);
        } catch (RuntimeException x) {
            e.close();
            throw x;
        }
    }

    static String checkEngine(String engine) {
        String name = engine == null ? "" : engine.trim().toLowerCase(Locale.ROOT);
        if (!name.equals("uring") && !name.equals("file")) {
            throw new IllegalArgumentException("engine must be uring or file, got '" + engine + "'");
        }
        return name;
    }

    @Override
    public String describe() {
        String how = engine.name().equals("uring") ? "io_uring O_DIRECT" : "pread/pwrite O_DIRECT (file engine)";
        String writes = !syncWrites ? "writes not synced (--sync-writes false)"
                : engine.name().equals("uring") ? "writes RWF_DSYNC" : "writes O_DSYNC";
        return how + " on " + device + ", " + human(spanBytes()) + " span of " + human(engine.capacityBytes()) + ", " + writes
                + ", queue depth " + QUEUE_DEPTH;
    }

    @Override
    protected boolean issueRead(int tag, long offset) {
        return queue.prepRead(tag, offset, readBuffers[tag], BLOCK);
    }

    @Override
    protected boolean issueWrite(int tag, long offset, int length) {
        return queue.prepWrite(tag, offset, length == BLOCK ? writeBlock : chunk, length);
    }

    @Override
    protected void submit() {
        queue.submit();
    }

    @Override
    protected int reap() {
        return queue.reap(onComplete, QUEUE_DEPTH);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            queue.close();
        } finally {
            engine.close();
        }
    }

    /** Incompressible, never-zero data, so neither the device nor a thin layer can shortcut the writes. */
    static MemorySegment randomFill(MemorySegment segment) {
        SplittableRandom r = new SplittableRandom();
        for (long i = 0; i + 8 <= segment.byteSize(); i += 8) segment.set(ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong() | 1);
        return segment;
    }
}

package io.reflex.dataplane.storage;

import io.reflex.dataplane.storage.nativeio.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What every engine's queue shares: request slots, validation, buffers and the delivery of requests that failed
 * validation (completed with a negative errno at the next reap, never handed to the device).
 *
 * <p>Validation: offset and length multiples of 512, length &gt; 0, buffer native, alive, 512-aligned and at least
 * {@code length} long → else {@code -EINVAL}; the range must lie within the device → else {@code -ERANGE}.
 */
abstract class AbstractIoQueue implements IoQueue {
    static final int SECTOR = 512;
    static final long BUFFER_ALIGNMENT = 4096;

    protected final RequestSlots slots;
    protected final long capacityBytes;
    private final AbstractStorageEngine engine;
    private final Arena buffers = Arena.ofShared();
    /** Slots that failed validation, FIFO; size is a power of two ≥ depth. */
    private final int[] failed;
    private int failedHead;
    private int failedTail;
    private boolean closed;

    AbstractIoQueue(AbstractStorageEngine engine, int depth) {
        this.engine = engine;
        this.capacityBytes = engine.capacityBytes();
        this.slots = new RequestSlots(depth);
        this.failed = new int[Integer.highestOneBit(Math.max(1, depth - 1)) << 1];
    }

    /** Hands a validated slot to the engine; called only when {@link #hasRoom()} said yes. */
    protected abstract void enqueue(int slot);

    /** Engine-specific room beyond free slots (e.g. SQ ring space). */
    protected boolean hasRoom() {
        return true;
    }

    /** Delivers up to {@code max} device completions. */
    protected abstract int reapDevice(CompletionHandler handler, int max);

    /** Waits for completions of requests handed to the device, if any are outstanding. */
    protected abstract void awaitDevice(long timeoutNanos);

    /** Stops the engine's resources for this queue after waiting for outstanding device requests. */
    protected abstract void closeDevice();

    @Override
    public final boolean prepRead(long userData, long offset, MemorySegment buffer, int length) {
        return prep(RequestSlots.READ, userData, offset, buffer, length);
    }

    @Override
    public final boolean prepWrite(long userData, long offset, MemorySegment buffer, int length) {
        return prep(RequestSlots.WRITE, userData, offset, buffer, length);
    }

    @Override
    public final boolean prepFlush(long userData) {
        ensureOpen();
        if (!slots.hasFree() || !hasRoom()) {
            return false;
        }
        enqueue(slots.acquire(RequestSlots.FLUSH, userData, 0, null, 0));
        return true;
    }

    private boolean prep(byte op, long userData, long offset, MemorySegment buffer, int length) {
        ensureOpen();
        if (!slots.hasFree() || !hasRoom()) {
            return false;
        }
        int error = validate(offset, buffer, length, capacityBytes);
        if (error != 0) {
            failLater(slots.acquire(op, userData, offset, null, length), error);
            return true;
        }
        enqueue(slots.acquire(op, userData, offset, buffer, length));
        return true;
    }

    /** Completes an acquired slot with {@code error} at the next reap, without involving the device. */
    protected final void failLater(int slot, int error) {
        slots.result[slot] = error;
        failed[failedTail++ & (failed.length - 1)] = slot;
    }

    static int validate(long offset, MemorySegment buffer, int length, long capacityBytes) {
        if (length <= 0 || offset < 0 || (length % SECTOR) != 0 || (offset % SECTOR) != 0) {
            return -Errno.EINVAL;
        }
        if (buffer == null || !buffer.isNative() || !buffer.scope().isAlive() || buffer.byteSize() < length
                || (buffer.address() % SECTOR) != 0) {
            return -Errno.EINVAL;
        }
        if (offset > capacityBytes - length) {
            return -Errno.ERANGE;
        }
        return 0;
    }

    @Override
    public final int reap(CompletionHandler handler, int max) {
        ensureOpen();
        int n = 0;
        while (n < max && failedHead != failedTail) {
            int slot = failed[failedHead++ & (failed.length - 1)];
            complete(slot, slots.result[slot], handler);
            n++;
        }
        return n < max ? n + reapDevice(handler, max - n) : n;
    }

    /** Frees the slot before calling back, so the handler may prepare a new request in it. */
    protected final void complete(int slot, int result, CompletionHandler handler) {
        long userData = slots.userData[slot];
        slots.release(slot);
        handler.onComplete(userData, result);
    }

    @Override
    public final void awaitCompletion(long timeoutNanos) {
        ensureOpen();
        if (failedHead == failedTail && timeoutNanos > 0) {
            awaitDevice(timeoutNanos);
        }
    }

    /** Requests the device still owes a completion for (excludes validation failures). */
    protected final int failedPending() {
        return failedTail - failedHead;
    }

    @Override
    public final int inFlight() {
        return slots.inUse();
    }

    @Override
    public final int depth() {
        return slots.capacity();
    }

    @Override
    public final MemorySegment allocateBuffer(long bytes) {
        ensureOpen();
        if (bytes <= 0) {
            throw new IllegalArgumentException("buffer size must be positive, got " + bytes);
        }
        MemorySegment buffer = buffers.allocate(bytes, BUFFER_ALIGNMENT);
        bufferAllocated(buffer);
        return buffer;
    }

    /** Told about every buffer this queue hands out (the io_uring engine registers them with the kernel). */
    protected void bufferAllocated(MemorySegment buffer) {
    }

    protected final boolean isClosed() {
        return closed;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("queue of " + engine.name() + " engine is closed");
        }
    }

    @Override
    public final void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            closeDevice();
        } finally {
            buffers.close();
            engine.queueClosed(this);
        }
    }
}

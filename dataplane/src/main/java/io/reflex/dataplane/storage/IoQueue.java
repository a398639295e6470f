package io.reflex.dataplane.storage;

import java.lang.foreign.MemorySegment;

/**
 * One thread's queue to the device. Not thread-safe: only the owning dataplane thread calls it. No method allocates
 * on the heap per request.
 *
 * <p>Usage per loop iteration: {@code prepRead/prepWrite/prepFlush} any number of requests (each returns false when
 * the queue is full: then {@link #submit()} and reap first), {@link #submit()} once to hand the batch to the kernel
 * in one syscall, and {@link #reap} to collect completions without blocking.
 */
public interface IoQueue extends AutoCloseable {
    /** Queue a read of {@code length} bytes at device {@code offset} into {@code buffer} (4096-aligned). */
    boolean prepRead(long userData, long offset, MemorySegment buffer, int length);

    /** Queue a write of {@code length} bytes from {@code buffer} to device {@code offset}. */
    boolean prepWrite(long userData, long offset, MemorySegment buffer, int length);

    /** Queue a flush (fdatasync) of the device; completes after all writes completed before it are durable. */
    boolean prepFlush(long userData);

    /** Submit everything prepared since the last call in one batch; returns the number submitted. */
    int submit();

    /**
     * Deliver up to {@code max} completions to {@code handler} without blocking; returns how many were delivered.
     * result = bytes transferred (always the full length on success) or a negative errno.
     */
    int reap(CompletionHandler handler, int max);

    /**
     * Block until at least one completion is ready or {@code timeoutNanos} passed (used by an idle loop that has
     * I/O in flight but no network work). Returns immediately when nothing is in flight.
     */
    void awaitCompletion(long timeoutNanos);

    /**
     * Also end {@link #awaitCompletion} as soon as {@code fd} becomes readable — the loop's epoll fd, so requests
     * arriving on the network are not left in the socket while the loop waits for the device. Engines whose wait
     * cannot watch an fd ignore it. Cold path: call once, from the owning thread.
     */
    default void wakeOnReadable(int fd) {}

    /** Requests prepared or submitted and not yet reaped. */
    int inFlight();

    /**
     * Submits and reaps until nothing is in flight or {@code timeoutNanos} passed: a stopping loop lets the requests
     * already at the device (writes above all) finish before the queue and its buffers go away.
     */
    default void finish(CompletionHandler handler, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (inFlight() > 0 && System.nanoTime() < deadline) {
            submit();
            reap(handler, 1024);
            awaitCompletion(1_000_000);
        }
    }

    /** Capacity given at open. */
    int depth();

    /**
     * A buffer suitable for this engine's I/O (4096-aligned native memory), owned by this queue and freed on close.
     * Cold path: allocate buffers at connection setup, never per request.
     */
    MemorySegment allocateBuffer(long bytes);

    @Override
    void close();
}

package io.reflex.dataplane.storage;

import java.lang.foreign.MemorySegment;

/**
 * Preallocated per-request state of one queue, indexed by slot, plus a free list (a stack of slot numbers).
 * Owned by the queue's dataplane thread; engines that hand slots to other threads publish them through a queue
 * with release/acquire semantics.
 */
final class RequestSlots {
    static final byte READ = 0;
    static final byte WRITE = 1;
    static final byte FLUSH = 2;

    final byte[] op;
    final long[] userData;
    final long[] offset;
    final long[] address;
    /** The caller's buffer, held so it stays reachable (and copyable by the memory engine) while in flight. */
    final MemorySegment[] buffer;
    final int[] length;
    /** Bytes transferred so far (short transfers are resubmitted for the rest). */
    final int[] done;
    /** Final result, for engines that complete a slot before reporting it. */
    final int[] result;

    private final int[] free;
    private int freeCount;

    RequestSlots(int depth) {
        op = new byte[depth];
        userData = new long[depth];
        offset = new long[depth];
        address = new long[depth];
        buffer = new MemorySegment[depth];
        length = new int[depth];
        done = new int[depth];
        result = new int[depth];
        free = new int[depth];
        for (int i = 0; i < depth; i++) {
            free[i] = depth - 1 - i; // hand out slot 0 first
        }
        freeCount = depth;
    }

    int capacity() {
        return free.length;
    }

    boolean hasFree() {
        return freeCount > 0;
    }

    int inUse() {
        return free.length - freeCount;
    }

    /** Takes a free slot (the caller checked {@link #hasFree}) and records the request in it. */
    int acquire(byte op, long userData, long offset, MemorySegment buffer, int length) {
        int slot = free[--freeCount];
        this.op[slot] = op;
        this.userData[slot] = userData;
        this.offset[slot] = offset;
        this.buffer[slot] = buffer;
        this.address[slot] = buffer == null ? 0 : buffer.address();
        this.length[slot] = length;
        this.done[slot] = 0;
        this.result[slot] = 0;
        return slot;
    }

    void release(int slot) {
        buffer[slot] = null;
        free[freeCount++] = slot;
    }
}

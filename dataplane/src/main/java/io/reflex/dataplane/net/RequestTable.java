package io.reflex.dataplane.net;

/**
 * A loop's in-flight requests as parallel arrays indexed by request id (struct of arrays: no object per request).
 * The id travels through the scheduler and the storage queue as their opaque long.
 */
final class RequestTable {
    final Session[] connection;
    final int[] opcode;
    final long[] handle;
    /** The lba as the client sent it (tenant-relative), echoed in legacy responses. */
    final long[] lba;
    /** Absolute device byte offset. */
    final long[] deviceOffset;
    final int[] length;
    final int[] buffer;
    final int[] status;
    final int[] tenantSlot;
    final long[] startNanos;
    /** Whether the request counts against its session's tenant's share of the loop ({@link LoopTenant#held}). */
    final boolean[] tenantHeld;
    private final int[] free;
    private int freeCount;

    RequestTable(int capacity) {
        connection = new Session[capacity];
        opcode = new int[capacity];
        handle = new long[capacity];
        lba = new long[capacity];
        deviceOffset = new long[capacity];
        length = new int[capacity];
        buffer = new int[capacity];
        status = new int[capacity];
        tenantSlot = new int[capacity];
        startNanos = new long[capacity];
        tenantHeld = new boolean[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) free[i] = capacity - 1 - i;
        freeCount = capacity;
    }

    /** A free id, or -1 when the loop is at capacity (the caller pauses reading: backpressure). */
    int acquire() {
        return freeCount == 0 ? -1 : free[--freeCount];
    }

    void release(int id) {
        connection[id] = null;
        buffer[id] = -1;
        tenantHeld[id] = false;
        free[freeCount++] = id;
    }

    int inUse() { return free.length - freeCount; }

    int capacity() { return free.length; }
}

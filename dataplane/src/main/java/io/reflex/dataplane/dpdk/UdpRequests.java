package io.reflex.dataplane.dpdk;

import io.reflex.dataplane.metrics.TenantStats;

import java.lang.foreign.MemorySegment;

/**
 * One loop's requests between parse and reply, as parallel arrays indexed by request id (no object per request). Each
 * id owns an I/O buffer for its data (4 KiB-aligned, as O_DIRECT wants) and holds its request's mbuf, in which the
 * reply is built.
 */
final class UdpRequests {
    final long[] mbuf;
    final int[] tenant;
    /** The counters of the tenant the request came for (a tenant removed meanwhile may have handed its slot on). */
    final TenantStats[] stats;
    final int[] opcode;
    final long[] handle;
    final long[] lba;
    final int[] length;
    final long[] deviceOffset;
    final int[] client;
    final int[] clientGen;
    final int[] windowPos;
    final long[] startNanos;
    final MemorySegment[] buffer;
    private final int[] free;
    private int freeCount;

    /** @param buffers one segment holding {@code capacity} buffers of {@code bufferBytes} each */
    UdpRequests(int capacity, MemorySegment buffers, int bufferBytes) {
        mbuf = new long[capacity];
        tenant = new int[capacity];
        stats = new TenantStats[capacity];
        opcode = new int[capacity];
        handle = new long[capacity];
        lba = new long[capacity];
        length = new int[capacity];
        deviceOffset = new long[capacity];
        client = new int[capacity];
        clientGen = new int[capacity];
        windowPos = new int[capacity];
        startNanos = new long[capacity];
        buffer = new MemorySegment[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            buffer[i] = buffers.asSlice((long) i * bufferBytes, bufferBytes);
            free[i] = capacity - 1 - i;
        }
        freeCount = capacity;
    }

    /** A free id, or -1 when all are in use. */
    int acquire() { return freeCount == 0 ? -1 : free[--freeCount]; }

    void release(int id) {
        mbuf[id] = 0;
        stats[id] = null;
        free[freeCount++] = id;
    }

    int inUse() { return free.length - freeCount; }

    int capacity() { return free.length; }
}

package io.reflex.dataplane.net;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.LongFunction;

/**
 * Per-loop pool of 4096-aligned I/O buffers in power-of-two size classes (4 KiB … 1 MiB). Buffers are made lazily
 * from the storage queue's allocator (cold path, until the pool is warm) and then recycled through int free-lists:
 * acquire/release allocate nothing. Each buffer keeps one ByteBuffer view, reused for socket copies.
 */
final class BufferPool {
    static final int MIN_SHIFT = 12;
    static final int MAX_SHIFT = 20;
    private static final int CLASSES = MAX_SHIFT - MIN_SHIFT + 1;

    private final LongFunction<MemorySegment> allocator;
    private final long maxBytes;
    private long allocatedBytes;

    private MemorySegment[] segments = new MemorySegment[256];
    private ByteBuffer[] views = new ByteBuffer[256];
    private int[] classOf = new int[256];
    private int count;
    private final int[][] free = new int[CLASSES][];
    private final int[] freeCount = new int[CLASSES];

    BufferPool(LongFunction<MemorySegment> allocator, long maxBytes) {
        this.allocator = allocator;
        this.maxBytes = maxBytes;
        for (int c = 0; c < CLASSES; c++) free[c] = new int[64];
    }

    /** A buffer of at least {@code bytes} (≤ 1 MiB), or -1 when the pool's memory cap is reached. */
    int acquire(int bytes) {
        int c = sizeClass(bytes);
        if (freeCount[c] > 0) return free[c][--freeCount[c]];
        long size = 1L << (c + MIN_SHIFT);
        if (allocatedBytes + size > maxBytes) return -1;
        return create(c, size);
    }

    void release(int id) {
        int c = classOf[id];
        if (freeCount[c] == free[c].length) free[c] = java.util.Arrays.copyOf(free[c], free[c].length * 2);
        free[c][freeCount[c]++] = id;
    }

    MemorySegment segment(int id) { return segments[id]; }

    /** Size of buffer {@code id} (its size class). */
    int bytes(int id) { return 1 << (classOf[id] + MIN_SHIFT); }

    /** The buffer's reusable view, cleared to [0, length). */
    ByteBuffer view(int id, int length) {
        return views[id].limit(length).position(0);
    }

    long allocatedBytes() { return allocatedBytes; }

    static int sizeClass(int bytes) {
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(bytes, 1 << MIN_SHIFT) - 1);
        if (shift > MAX_SHIFT) throw new IllegalArgumentException("buffer larger than 1 MiB: " + bytes);
        return shift - MIN_SHIFT;
    }

    private int create(int c, long size) {
        if (count == segments.length) {
            segments = java.util.Arrays.copyOf(segments, count * 2);
            views = java.util.Arrays.copyOf(views, count * 2);
            classOf = java.util.Arrays.copyOf(classOf, count * 2);
        }
        MemorySegment seg = allocator.apply(size);
        segments[count] = seg;
        views[count] = seg.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        classOf[count] = c;
        allocatedBytes += size;
        return count++;
    }
}

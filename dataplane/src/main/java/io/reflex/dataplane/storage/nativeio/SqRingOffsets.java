package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_sqring_offsets}, include/uapi/linux/io_uring.h (line 391 in linux-libc-dev 6.1), 40 bytes.
 * Byte offsets, filled by io_uring_setup, of the SQ ring's fields inside the mmap at {@code IORING_OFF_SQ_RING}:
 *
 * <pre>
 *   0 u32 head   4 u32 tail   8 u32 ring_mask   12 u32 ring_entries   16 u32 flags   20 u32 dropped
 *  24 u32 array  28 u32 resv1  32 u64 resv2
 * </pre>
 */
public final class SqRingOffsets {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("head"),
            JAVA_INT.withName("tail"),
            JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("dropped"),
            JAVA_INT.withName("array"),
            JAVA_INT.withName("resv1"),
            JAVA_LONG.withName("resv2"));

    public static final long HEAD_OFFSET = 0;
    public static final long TAIL_OFFSET = 4;
    public static final long RING_MASK_OFFSET = 8;
    public static final long RING_ENTRIES_OFFSET = 12;
    public static final long FLAGS_OFFSET = 16;
    public static final long DROPPED_OFFSET = 20;
    public static final long ARRAY_OFFSET = 24;

    /** sq_ring->flags: the SQPOLL thread sleeps and needs IORING_ENTER_SQ_WAKEUP. */
    public static final int IORING_SQ_NEED_WAKEUP = 1;
    /** sq_ring->flags: the CQ ring overflowed; enter with GETEVENTS to flush. */
    public static final int IORING_SQ_CQ_OVERFLOW = 1 << 1;
    /** Task work is pending (IORING_SETUP_TASKRUN_FLAG): completions appear after an io_uring_enter with GETEVENTS. */
    public static final int IORING_SQ_TASKRUN = 1 << 2;

    private SqRingOffsets() {}

    public static int head(MemorySegment o) {
        return o.get(JAVA_INT, HEAD_OFFSET);
    }

    public static int tail(MemorySegment o) {
        return o.get(JAVA_INT, TAIL_OFFSET);
    }

    public static int ringMask(MemorySegment o) {
        return o.get(JAVA_INT, RING_MASK_OFFSET);
    }

    public static int ringEntries(MemorySegment o) {
        return o.get(JAVA_INT, RING_ENTRIES_OFFSET);
    }

    public static int flags(MemorySegment o) {
        return o.get(JAVA_INT, FLAGS_OFFSET);
    }

    public static int array(MemorySegment o) {
        return o.get(JAVA_INT, ARRAY_OFFSET);
    }
}

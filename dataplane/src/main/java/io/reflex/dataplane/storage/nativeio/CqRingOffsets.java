package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_cqring_offsets}, include/uapi/linux/io_uring.h (line 410 in linux-libc-dev 6.1), 40 bytes.
 * Byte offsets of the CQ ring's fields inside the mmap at {@code IORING_OFF_CQ_RING}:
 *
 * <pre>
 *   0 u32 head   4 u32 tail   8 u32 ring_mask   12 u32 ring_entries   16 u32 overflow   20 u32 cqes
 *  24 u32 flags  28 u32 resv1  32 u64 resv2
 * </pre>
 */
public final class CqRingOffsets {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("head"),
            JAVA_INT.withName("tail"),
            JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"),
            JAVA_INT.withName("overflow"),
            JAVA_INT.withName("cqes"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("resv1"),
            JAVA_LONG.withName("resv2"));

    public static final long HEAD_OFFSET = 0;
    public static final long TAIL_OFFSET = 4;
    public static final long RING_MASK_OFFSET = 8;
    public static final long RING_ENTRIES_OFFSET = 12;
    public static final long OVERFLOW_OFFSET = 16;
    public static final long CQES_OFFSET = 20;
    public static final long FLAGS_OFFSET = 24;

    private CqRingOffsets() {}

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

    public static int overflow(MemorySegment o) {
        return o.get(JAVA_INT, OVERFLOW_OFFSET);
    }

    public static int cqes(MemorySegment o) {
        return o.get(JAVA_INT, CQES_OFFSET);
    }
}

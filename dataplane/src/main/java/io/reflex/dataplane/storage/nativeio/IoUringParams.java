package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_uring_params}, include/uapi/linux/io_uring.h (line 441 in linux-libc-dev 6.1), 120 bytes:
 *
 * <pre>
 *   0 u32 sq_entries    4 u32 cq_entries    8 u32 flags    12 u32 sq_thread_cpu   16 u32 sq_thread_idle
 *  20 u32 features     24 u32 wq_fd        28 u32 resv[3]
 *  40 struct io_sqring_offsets sq_off (40 bytes)     80 struct io_cqring_offsets cq_off (40 bytes)
 * </pre>
 */
public final class IoUringParams {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("sq_entries"),
            JAVA_INT.withName("cq_entries"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("sq_thread_cpu"),
            JAVA_INT.withName("sq_thread_idle"),
            JAVA_INT.withName("features"),
            JAVA_INT.withName("wq_fd"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("resv"),
            SqRingOffsets.LAYOUT.withName("sq_off"),
            CqRingOffsets.LAYOUT.withName("cq_off"));

    public static final long SQ_ENTRIES_OFFSET = 0;
    public static final long CQ_ENTRIES_OFFSET = 4;
    public static final long FLAGS_OFFSET = 8;
    public static final long SQ_THREAD_CPU_OFFSET = 12;
    public static final long SQ_THREAD_IDLE_OFFSET = 16;
    public static final long FEATURES_OFFSET = 20;
    public static final long SQ_OFF_OFFSET = 40;
    public static final long CQ_OFF_OFFSET = 80;

    // io_uring_params.flags (IORING_SETUP_*)
    public static final int IORING_SETUP_SQPOLL = 1 << 1;
    public static final int IORING_SETUP_CQSIZE = 1 << 3;
    public static final int IORING_SETUP_CLAMP = 1 << 4;
    public static final int IORING_SETUP_R_DISABLED = 1 << 6;
    public static final int IORING_SETUP_SUBMIT_ALL = 1 << 7;
    public static final int IORING_SETUP_COOP_TASKRUN = 1 << 8;
    public static final int IORING_SETUP_TASKRUN_FLAG = 1 << 9;
    public static final int IORING_SETUP_SINGLE_ISSUER = 1 << 12;
    public static final int IORING_SETUP_DEFER_TASKRUN = 1 << 13;
    // io_uring_params.features (IORING_FEAT_*)
    public static final int IORING_FEAT_SINGLE_MMAP = 1;
    public static final int IORING_FEAT_NODROP = 1 << 1;
    public static final int IORING_FEAT_EXT_ARG = 1 << 8;
    /** io_uring_getevents_arg.min_wait_usec is honoured (Linux 6.12). */
    public static final int IORING_FEAT_MIN_TIMEOUT = 1 << 15;

    private IoUringParams() {}

    public static int sqEntries(MemorySegment p) {
        return p.get(JAVA_INT, SQ_ENTRIES_OFFSET);
    }

    public static int cqEntries(MemorySegment p) {
        return p.get(JAVA_INT, CQ_ENTRIES_OFFSET);
    }

    public static int flags(MemorySegment p) {
        return p.get(JAVA_INT, FLAGS_OFFSET);
    }

    public static void flags(MemorySegment p, int flags) {
        p.set(JAVA_INT, FLAGS_OFFSET, flags);
    }

    public static void sqThreadIdle(MemorySegment p, int millis) {
        p.set(JAVA_INT, SQ_THREAD_IDLE_OFFSET, millis);
    }

    public static int sqThreadIdle(MemorySegment p) {
        return p.get(JAVA_INT, SQ_THREAD_IDLE_OFFSET);
    }

    public static void cqEntries(MemorySegment p, int entries) {
        p.set(JAVA_INT, CQ_ENTRIES_OFFSET, entries);
    }

    public static int features(MemorySegment p) {
        return p.get(JAVA_INT, FEATURES_OFFSET);
    }

    /** The embedded {@code sq_off}, for {@link SqRingOffsets}' accessors. */
    public static MemorySegment sqOff(MemorySegment p) {
        return p.asSlice(SQ_OFF_OFFSET, SqRingOffsets.LAYOUT);
    }

    /** The embedded {@code cq_off}, for {@link CqRingOffsets}' accessors. */
    public static MemorySegment cqOff(MemorySegment p) {
        return p.asSlice(CQ_OFF_OFFSET, CqRingOffsets.LAYOUT);
    }
}

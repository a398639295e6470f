package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_uring_cqe}, include/uapi/linux/io_uring.h (line 350 in linux-libc-dev 6.1), 16 bytes (no
 * IORING_SETUP_CQE32):
 *
 * <pre>
 *   0 u64 user_data   8 s32 res   12 u32 flags
 * </pre>
 */
public final class IoUringCqe {
    public static final long SIZE = 16;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("user_data"),
            JAVA_INT.withName("res"),
            JAVA_INT.withName("flags"));

    public static final long USER_DATA_OFFSET = 0;
    public static final long RES_OFFSET = 8;
    public static final long FLAGS_OFFSET = 12;

    /** flags: a provided buffer was used; its id is {@code flags >>> IORING_CQE_BUFFER_SHIFT}. */
    public static final int IORING_CQE_F_BUFFER = 1;
    /** flags: a multishot request stays armed (more completions follow). */
    public static final int IORING_CQE_F_MORE = 1 << 1;
    public static final int IORING_CQE_BUFFER_SHIFT = 16;

    private IoUringCqe() {}

    public static long userData(MemorySegment cqes, long base) {
        return cqes.get(JAVA_LONG, base + USER_DATA_OFFSET);
    }

    public static int res(MemorySegment cqes, long base) {
        return cqes.get(JAVA_INT, base + RES_OFFSET);
    }

    public static int flags(MemorySegment cqes, long base) {
        return cqes.get(JAVA_INT, base + FLAGS_OFFSET);
    }

    /** Writer, for tests that fake a completion ring. */
    public static void set(MemorySegment cqes, long base, long userData, int res, int flags) {
        cqes.set(JAVA_LONG, base + USER_DATA_OFFSET, userData);
        cqes.set(JAVA_INT, base + RES_OFFSET, res);
        cqes.set(JAVA_INT, base + FLAGS_OFFSET, flags);
    }
}

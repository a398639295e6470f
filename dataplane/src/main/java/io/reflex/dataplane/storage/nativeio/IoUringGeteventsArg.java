package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_uring_getevents_arg}, include/uapi/linux/io_uring.h (line 657 in linux-libc-dev 6.1), 24 bytes,
 * passed to io_uring_enter with IORING_ENTER_EXT_ARG; {@code ts} points at a {@code struct __kernel_timespec}
 * (linux/time_types.h: s64 tv_sec, long long tv_nsec), which this class lays out right behind it in one segment.
 *
 * <pre>
 *   0 u64 sigmask   8 u32 sigmask_sz   12 u32 min_wait_usec   16 u64 ts      |  24 s64 tv_sec   32 s64 tv_nsec
 * </pre>
 *
 * {@code min_wait_usec} (the former {@code pad}, Linux 6.12, IORING_FEAT_MIN_TIMEOUT): the wait for min_complete
 * completions ends after that long if at least one completion is there; without any it goes on until {@code ts}.
 */
public final class IoUringGeteventsArg {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("sigmask"),
            JAVA_INT.withName("sigmask_sz"),
            JAVA_INT.withName("min_wait_usec"),
            JAVA_LONG.withName("ts"));
    public static final StructLayout KERNEL_TIMESPEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"),
            JAVA_LONG.withName("tv_nsec"));
    /** The argument followed by its timespec. */
    public static final StructLayout WITH_TIMESPEC = MemoryLayout.structLayout(
            LAYOUT.withName("arg"), KERNEL_TIMESPEC.withName("timespec"));

    public static final long SIGMASK_OFFSET = 0;
    public static final long SIGMASK_SZ_OFFSET = 8;
    public static final long MIN_WAIT_USEC_OFFSET = 12;
    public static final long TS_OFFSET = 16;
    public static final long TIMESPEC_OFFSET = 24;
    public static final long TV_SEC_OFFSET = TIMESPEC_OFFSET;
    public static final long TV_NSEC_OFFSET = TIMESPEC_OFFSET + 8;
    /** The size io_uring_enter's {@code argsz} must carry. */
    public static final long ARG_SIZE = 24;

    private IoUringGeteventsArg() {}

    /** Points {@code ts} at the trailing timespec once; later waits only call {@link #timeout}. */
    public static void init(MemorySegment s) {
        s.set(JAVA_LONG, SIGMASK_OFFSET, 0L);
        s.set(JAVA_INT, SIGMASK_SZ_OFFSET, 8); // _NSIG / 8; ignored while sigmask is NULL
        s.set(JAVA_INT, MIN_WAIT_USEC_OFFSET, 0);
        s.set(JAVA_LONG, TS_OFFSET, s.address() + TIMESPEC_OFFSET);
    }

    public static void timeout(MemorySegment s, long nanos) {
        s.set(JAVA_LONG, TV_SEC_OFFSET, nanos / 1_000_000_000L);
        s.set(JAVA_LONG, TV_NSEC_OFFSET, nanos % 1_000_000_000L);
    }

    public static void minWaitUsec(MemorySegment s, int usec) {
        s.set(JAVA_INT, MIN_WAIT_USEC_OFFSET, usec);
    }

    public static long ts(MemorySegment s) {
        return s.get(JAVA_LONG, TS_OFFSET);
    }

    public static long tvSec(MemorySegment s) {
        return s.get(JAVA_LONG, TV_SEC_OFFSET);
    }

    public static long tvNsec(MemorySegment s) {
        return s.get(JAVA_LONG, TV_NSEC_OFFSET);
    }
}

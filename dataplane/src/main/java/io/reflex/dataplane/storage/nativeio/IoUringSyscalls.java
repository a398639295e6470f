package io.reflex.dataplane.storage.nativeio;

import java.lang.foreign.MemorySegment;

/**
 * The three io_uring system calls (x86-64 and arm64 numbers: 425/426/427) via {@link LibC#syscall}; liburing's
 * helpers are header inlines and not callable through FFM. Each returns the kernel's result or {@code -errno}.
 */
public final class IoUringSyscalls {
    public static final long SYS_IO_URING_SETUP = 425;
    public static final long SYS_IO_URING_ENTER = 426;
    public static final long SYS_IO_URING_REGISTER = 427;

    // mmap offsets (IORING_OFF_*)
    public static final long IORING_OFF_SQ_RING = 0L;
    public static final long IORING_OFF_CQ_RING = 0x8000000L;
    public static final long IORING_OFF_SQES = 0x10000000L;

    // io_uring_enter flags
    public static final int IORING_ENTER_GETEVENTS = 1;
    public static final int IORING_ENTER_SQ_WAKEUP = 1 << 1;
    public static final int IORING_ENTER_SQ_WAIT = 1 << 2;
    public static final int IORING_ENTER_EXT_ARG = 1 << 3;

    // io_uring_register opcodes
    public static final int IORING_REGISTER_FILES = 2;
    public static final int IORING_UNREGISTER_FILES = 3;
    public static final int IORING_REGISTER_BUFFERS2 = 15;
    public static final int IORING_REGISTER_BUFFERS_UPDATE = 16;
    public static final int IORING_RSRC_REGISTER_SPARSE = 1;
    public static final int IORING_REGISTER_PROBE = 8;
    public static final int IORING_REGISTER_ENABLE_RINGS = 12;
    public static final int IORING_REGISTER_PBUF_RING = 22;
    public static final int IORING_UNREGISTER_PBUF_RING = 23;

    private IoUringSyscalls() {}

    public static int setup(Errno errno, int entries, MemorySegment params) {
        return result(errno, LibC.syscall(errno, SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0));
    }

    public static int enter(Errno errno, int ringFd, int toSubmit, int minComplete, int flags, long arg,
            long argSize) {
        return result(errno,
                LibC.syscall(errno, SYS_IO_URING_ENTER, ringFd, toSubmit, minComplete, flags, arg, argSize));
    }

    /**
     * io_uring_enter without errno capture, for the dataplane thread's submit and wait: returns the kernel's
     * non-negative result or -1 (errno not captured; see {@link LibC}).
     */
    public static int enterNoErrno(int ringFd, int toSubmit, int minComplete, int flags, long arg, long argSize) {
        long r = LibC.syscall(SYS_IO_URING_ENTER, ringFd, toSubmit, minComplete, flags, arg, argSize);
        return r < 0 ? -1 : (int) r;
    }

    public static int register(Errno errno, int ringFd, int opcode, MemorySegment arg, int count) {
        return result(errno, LibC.syscall(errno, SYS_IO_URING_REGISTER, ringFd, opcode, arg.address(), count, 0, 0));
    }

    private static int result(Errno errno, long r) {
        return r < 0 ? -errno.get() : (int) r;
    }
}

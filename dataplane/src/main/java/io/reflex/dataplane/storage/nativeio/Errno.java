package io.reflex.dataplane.storage.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * errno values (asm-generic/errno-base.h, errno.h; x86-64 and arm64 agree) and the call-state segment that
 * {@link Linker.Option#captureCallState} fills. Allocate one {@code Errno} per thread or queue, never per call.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int ETIME = 62;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOBUFS = 105;
    public static final int ECANCELED = 125;

    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private final MemorySegment state;

    /** Allocates the capture segment in {@code arena} (which must outlive every call that uses it). */
    public Errno(Arena arena) {
        this.state = arena.allocate(CAPTURE_LAYOUT);
    }

    /** Segment to pass as the first argument of a capturing {@link LibC} call. */
    public MemorySegment state() {
        return state;
    }

    /** errno as captured by the most recent call that was given {@link #state()}. */
    public int get() {
        return (int) ERRNO.get(state, 0L);
    }
}

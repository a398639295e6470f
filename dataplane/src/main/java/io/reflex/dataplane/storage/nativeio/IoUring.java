package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance: the ring fd and its mmap'd submission queue, SQE array and completion queue.
 *
 * <p>Memory ordering follows the kernel's contract (io_uring.h / liburing barrier.h): the application writes SQEs
 * with plain stores and publishes them with a store-release of the SQ tail; it reads the CQ tail with a
 * load-acquire before reading CQEs and hands CQEs back with a store-release of the CQ head. Everything else is
 * owned by one thread. Not thread-safe; nothing here allocates after {@link #create}.
 */
public final class IoUring implements AutoCloseable {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final Arena arena = Arena.ofShared();
    private final Errno errno = new Errno(arena);
    private final MemorySegment waitArg = arena.allocate(IoUringGeteventsArg.WITH_TIMESPEC);
    private final int ringFd;
    private final int features;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final boolean singleMmap;
    private final long sqHeadOffset;
    private final long sqTailOffset;
    private final long sqFlagsOffset;
    private final int sqMask;
    private final int sqEntries;
    private final long cqHeadOffset;
    private final long cqTailOffset;
    private final long cqesOffset;
    private final int cqMask;
    private final int cqEntries;
    /** Local SQ tail: SQEs up to here are written; published to the kernel by {@link #submit}. */
    private int sqTail;
    /** Local CQ head, mirrored to the ring by {@link #cqAdvance}. */
    private int cqHead;
    private boolean filesRegistered;
    private boolean closed;
    /**
     * Created IORING_SETUP_R_DISABLED (with SINGLE_ISSUER): enabled by the first io_uring_enter, so the thread that
     * first submits or waits becomes the ring's only issuer ({@link #ensureEnabled}).
     */
    private boolean disabled;
    private final int setupFlags;
    /**
     * With deferred task work a submit also asks for events (min_complete 0: no wait), so the completions pending as
     * task work are posted by the enter that is made anyway instead of costing one more ({@link #runTaskWork}).
     */
    private final int submitFlags;
    /** io_uring_enter calls that submitted (for callers that must know which submit carried an SQE). */
    private long submits;

    private IoUring(int ringFd, MemorySegment params) {
        this.ringFd = ringFd;
        this.setupFlags = IoUringParams.flags(params);
        this.disabled = (setupFlags & IoUringParams.IORING_SETUP_R_DISABLED) != 0;
        this.submitFlags = (setupFlags & IoUringParams.IORING_SETUP_DEFER_TASKRUN) != 0 ? IoUringSyscalls.IORING_ENTER_GETEVENTS : 0;
        this.features = IoUringParams.features(params);
        MemorySegment sqOff = IoUringParams.sqOff(params);
        MemorySegment cqOff = IoUringParams.cqOff(params);
        this.sqEntries = IoUringParams.sqEntries(params);
        this.cqEntries = IoUringParams.cqEntries(params);
        long sqRingSize = SqRingOffsets.array(sqOff) + (long) sqEntries * Integer.BYTES;
        long cqRingSize = CqRingOffsets.cqes(cqOff) + (long) cqEntries * IoUringCqe.SIZE;
        this.singleMmap = (features & IoUringParams.IORING_FEAT_SINGLE_MMAP) != 0;
        int prot = LibC.PROT_READ | LibC.PROT_WRITE;
        int flags = LibC.MAP_SHARED | LibC.MAP_POPULATE;
        MemorySegment sq = null;
        MemorySegment cq = null;
        MemorySegment entries = null;
        try {
            long sqSize = singleMmap ? Math.max(sqRingSize, cqRingSize) : sqRingSize;
            sq = map(sqSize, prot, flags, IoUringSyscalls.IORING_OFF_SQ_RING);
            cq = singleMmap ? sq : map(cqRingSize, prot, flags, IoUringSyscalls.IORING_OFF_CQ_RING);
            entries = map(sqEntries * IoUringSqe.SIZE, prot, flags, IoUringSyscalls.IORING_OFF_SQES);
        } catch (RuntimeException e) {
            unmap(entries);
            if (cq != sq) {
                unmap(cq);
            }
            unmap(sq);
            throw e;
        }
        this.sqRing = sq;
        this.cqRing = cq;
        this.sqes = entries;
        this.sqHeadOffset = SqRingOffsets.head(sqOff);
        this.sqTailOffset = SqRingOffsets.tail(sqOff);
        this.sqFlagsOffset = SqRingOffsets.flags(sqOff);
        this.sqMask = sqRing.get(JAVA_INT, SqRingOffsets.ringMask(sqOff));
        this.cqHeadOffset = CqRingOffsets.head(cqOff);
        this.cqTailOffset = CqRingOffsets.tail(cqOff);
        this.cqesOffset = CqRingOffsets.cqes(cqOff);
        this.cqMask = cqRing.get(JAVA_INT, CqRingOffsets.ringMask(cqOff));
        // SQE i always sits in slot i of the indirection array; set it once.
        long array = SqRingOffsets.array(sqOff);
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(JAVA_INT, array + (long) i * Integer.BYTES, i);
        }
        this.sqTail = (int) U32.getAcquire(sqRing, sqTailOffset);
        this.cqHead = (int) U32.getAcquire(cqRing, cqHeadOffset);
        IoUringGeteventsArg.init(waitArg);
    }

    /** io_uring_setup with at least {@code entries} SQEs (rounded up to a power of two by the kernel). */
    public static IoUring create(int entries, int setupFlags) {
        return create(entries, setupFlags, 0);
    }

    /** As {@link #create(int, int)}, with at least {@code cqEntries} CQEs when positive (IORING_SETUP_CQSIZE). */
    public static IoUring create(int entries, int setupFlags, int cqEntries) {
        try (Arena setup = Arena.ofConfined()) {
            Errno errno = new Errno(setup);
            MemorySegment params = setup.allocate(IoUringParams.LAYOUT);
            if (cqEntries > 0) {
                setupFlags |= IoUringParams.IORING_SETUP_CQSIZE;
                IoUringParams.cqEntries(params, cqEntries);
            }
            IoUringParams.flags(params, setupFlags);
            int fd = IoUringSyscalls.setup(errno, entries, params);
            if (fd < 0) {
                throw new NativeException("io_uring_setup(" + entries + ")", -fd);
            }
            try {
                return new IoUring(fd, params);
            } catch (RuntimeException e) {
                LibC.close(errno, fd);
                throw e;
            }
        }
    }

    /** Whether io_uring_setup works here (kernel ≥ 5.1, not blocked by seccomp or sysctl io_uring_disabled). */
    public static boolean isAvailable() {
        try (IoUring ring = create(2, 0)) {
            return true;
        } catch (NativeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    private MemorySegment map(long size, int prot, int flags, long offset) {
        MemorySegment m = LibC.mmap(errno, size, prot, flags, ringFd, offset);
        if (m.address() == LibC.MAP_FAILED) {
            throw new NativeException("mmap of io_uring ring at offset 0x" + Long.toHexString(offset), errno.get());
        }
        return m.reinterpret(size);
    }

    private void unmap(MemorySegment m) {
        if (m != null) {
            LibC.munmap(errno, m, m.byteSize());
        }
    }

    /** Registers {@code fd} as fixed file 0 (IORING_REGISTER_FILES); returns 0 or -errno. */
    public int registerFile(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocateFrom(JAVA_INT, fd);
            int r = IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_REGISTER_FILES, fds, 1);
            filesRegistered = r == 0;
            return r;
        }
    }

    /**
     * An empty table of {@code n} fixed buffers (IORING_REGISTER_BUFFERS2, IORING_RSRC_REGISTER_SPARSE), filled
     * one by one with {@link #registerBuffer}; returns 0 or -errno.
     */
    public int registerSparseBuffers(int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(32, 8); // struct io_uring_rsrc_register {nr, flags, resv2, data, tags}
            reg.set(JAVA_INT, 0, n);
            reg.set(JAVA_INT, 4, IoUringSyscalls.IORING_RSRC_REGISTER_SPARSE);
            return IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_REGISTER_BUFFERS2, reg, 32);
        }
    }

    /** Pins [address, address + length) as fixed buffer {@code index}; returns 0 or -errno. */
    public int registerBuffer(int index, long address, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = a.allocate(16, 8);
            iov.set(JAVA_LONG, 0, address);
            iov.set(JAVA_LONG, 8, length);
            MemorySegment up = a.allocate(32, 8); // struct io_uring_rsrc_update2 {offset, resv, data, tags, nr, resv2}
            up.set(JAVA_INT, 0, index);
            up.set(JAVA_LONG, 8, iov.address());
            up.set(JAVA_INT, 24, 1);
            int r = IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_REGISTER_BUFFERS_UPDATE, up, 32);
            return r == 1 ? 0 : r < 0 ? r : -Errno.EIO;
        }
    }

    /**
     * Whether the kernel implements opcode {@code op} (IORING_REGISTER_PROBE: {@code struct io_uring_probe}, 16 bytes,
     * then 8 bytes per op {@code {u8 op, u8 resv, u16 flags, u32 resv2}}; flags bit 0 = IO_URING_OP_SUPPORTED).
     */
    public boolean supports(int op) {
        int n = 256;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment probe = a.allocate(16 + 8L * n, 8);
            if (IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_REGISTER_PROBE, probe, n) < 0) {
                return false;
            }
            int lastOp = Byte.toUnsignedInt(probe.get(ValueLayout.JAVA_BYTE, 0));
            if (op > lastOp) {
                return false;
            }
            return (probe.get(ValueLayout.JAVA_SHORT, 16 + 8L * op + 2) & 1) != 0;
        }
    }

    /**
     * Registers a provided-buffer ring (IORING_REGISTER_PBUF_RING, kernel ≥ 5.19): {@code entries} (a power of two)
     * {@code struct io_uring_buf} at page-aligned {@code ringAddress}, group {@code group}. {@code struct
     * io_uring_buf_reg}: 0 u64 ring_addr, 8 u32 ring_entries, 12 u16 bgid, 14 u16 flags, 16 u64 resv[3]. Returns 0
     * or -errno.
     */
    public int registerBufRing(long ringAddress, int entries, int group) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(40, 8);
            reg.set(JAVA_LONG, 0, ringAddress);
            reg.set(JAVA_INT, 8, entries);
            reg.set(ValueLayout.JAVA_SHORT, 12, (short) group);
            return IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_REGISTER_PBUF_RING, reg, 1);
        }
    }

    /** Unregisters provided-buffer group {@code group}; returns 0 or -errno. */
    public int unregisterBufRing(int group) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(40, 8);
            reg.set(ValueLayout.JAVA_SHORT, 12, (short) group);
            return IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_UNREGISTER_PBUF_RING, reg, 1);
        }
    }

    /**
     * Publishes and submits everything pending and waits for at least one completion or {@code timeoutNanos}, in one
     * io_uring_enter (the network path's idle wait). Returns 0, or -1 when the wait ended without a completion.
     */
    public int submitAndWait(long timeoutNanos) {
        return submitAndWait(timeoutNanos, 1, 0);
    }

    /**
     * As {@link #submitAndWait(long)}, but waits for {@code minComplete} completions (counting those already in the CQ)
     * for at most {@code minWaitUsec} µs, then for any one until the timeout (IORING_FEAT_MIN_TIMEOUT, Linux 6.12; a
     * caller checks {@link #hasMinWait()} first, a kernel without it would wait for all {@code minComplete}).
     */
    public int submitAndWait(long timeoutNanos, int minComplete, int minWaitUsec) {
        ensureEnabled();
        U32.setRelease(sqRing, sqTailOffset, sqTail);
        int pending = sqPending();
        if (pending > 0) submits++;
        if ((features & IoUringParams.IORING_FEAT_EXT_ARG) == 0) {
            return Math.min(IoUringSyscalls.enterNoErrno(ringFd, pending, 1, IoUringSyscalls.IORING_ENTER_GETEVENTS, 0, 0), 0);
        }
        IoUringGeteventsArg.timeout(waitArg, timeoutNanos);
        IoUringGeteventsArg.minWaitUsec(waitArg, minWaitUsec);
        int r = IoUringSyscalls.enterNoErrno(ringFd, pending, minComplete,
                IoUringSyscalls.IORING_ENTER_GETEVENTS | IoUringSyscalls.IORING_ENTER_EXT_ARG, waitArg.address(),
                IoUringGeteventsArg.ARG_SIZE);
        return Math.min(r, 0);
    }

    /** Whether waits honour a minimum wait ({@link #submitAndWait(long, int, int)}; Linux 6.12). */
    public boolean hasMinWait() {
        return (features & IoUringParams.IORING_FEAT_MIN_TIMEOUT) != 0;
    }

    /** How many io_uring_enter calls so far submitted SQEs (an SQE prepared after the n-th goes with a later one). */
    public long submits() {
        return submits;
    }

    /** Whether the ring defers task work to its one issuer's waits (IORING_SETUP_DEFER_TASKRUN). */
    public boolean deferTaskRun() {
        return (setupFlags & IoUringParams.IORING_SETUP_DEFER_TASKRUN) != 0;
    }

    /** Whether the kernel posts completions as cooperative task work (COOP_TASKRUN) rather than interrupting. */
    public boolean coopTaskRun() {
        return (setupFlags & IoUringParams.IORING_SETUP_COOP_TASKRUN) != 0;
    }

    /**
     * A ring created disabled (SINGLE_ISSUER) is enabled on its first enter: the calling thread becomes its issuer, the
     * only one that may submit, wait or register from then on (others get EEXIST). Creation and registrations before
     * it may happen on any thread.
     */
    private void ensureEnabled() {
        if (!disabled) return;
        int r = IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_REGISTER_ENABLE_RINGS, MemorySegment.NULL, 0);
        if (r < 0) throw new NativeException("io_uring IORING_REGISTER_ENABLE_RINGS", -r);
        disabled = false;
    }

    public int features() {
        return features;
    }

    public int sqEntries() {
        return sqEntries;
    }

    public int cqEntries() {
        return cqEntries;
    }

    /** The mmap'd SQE array, for {@link IoUringSqe}'s accessors. */
    public MemorySegment sqes() {
        return sqes;
    }

    /** The mmap'd CQ ring, for {@link IoUringCqe}'s accessors. */
    public MemorySegment cqes() {
        return cqRing;
    }

    /** SQEs written but not yet consumed by the kernel. */
    public int sqPending() {
        return sqTail - (int) U32.getAcquire(sqRing, sqHeadOffset);
    }

    /** Byte offset in {@link #sqes()} of the next free SQE, or -1 when the SQ is full. Call {@link #sqAdvance} after filling it. */
    public long nextSqe() {
        if (sqPending() >= sqEntries) {
            return -1;
        }
        return (long) (sqTail & sqMask) * IoUringSqe.SIZE;
    }

    public void sqAdvance() {
        sqTail++;
    }

    /**
     * Publishes the SQ tail and submits everything pending in one io_uring_enter; returns the number the kernel
     * consumed or -errno (unconsumed SQEs stay queued for the next call).
     */
    public int submit() {
        U32.setRelease(sqRing, sqTailOffset, sqTail);
        int pending = sqPending();
        if (pending == 0) {
            return 0;
        }
        ensureEnabled();
        submits++;
        int r = IoUringSyscalls.enterNoErrno(ringFd, pending, 0, submitFlags, 0, 0);
        if (r >= 0) {
            return r;
        }
        // It failed before consuming any SQE (else it returns the count): repeat it, capturing errno this time.
        return IoUringSyscalls.enter(errno, ringFd, pending, 0, submitFlags, 0, 0);
    }

    /** Takes back the SQEs the kernel has not consumed (after a failed submit); returns how many. */
    public int unsubmitAll() {
        int head = (int) U32.getAcquire(sqRing, sqHeadOffset);
        int n = sqTail - head;
        sqTail = head;
        U32.setRelease(sqRing, sqTailOffset, sqTail);
        return n;
    }

    /** Byte offset in {@link #sqes()} of the i-th unconsumed SQE (0 = oldest), for {@link #unsubmitAll} callers. */
    public long pendingSqe(int i) {
        int head = (int) U32.getAcquire(sqRing, sqHeadOffset);
        return (long) ((head + i) & sqMask) * IoUringSqe.SIZE;
    }

    /** Completions ready to read, without a system call. */
    public int cqReady() {
        return (int) U32.getAcquire(cqRing, cqTailOffset) - cqHead;
    }

    /** Byte offset in {@link #cqes()} of the oldest unread CQE (valid while {@link #cqReady()} &gt; 0). */
    public long cqeAtHead() {
        return cqesOffset + (long) (cqHead & cqMask) * IoUringCqe.SIZE;
    }

    /** Hands the CQE at the head back to the kernel. */
    public void cqAdvance() {
        cqHead++;
        U32.setRelease(cqRing, cqHeadOffset, cqHead);
    }

    /** Whether the kernel flagged a CQ overflow (completions held back until the next GETEVENTS enter). */
    public boolean cqOverflowed() {
        return ((int) U32.getAcquire(sqRing, sqFlagsOffset) & SqRingOffsets.IORING_SQ_CQ_OVERFLOW) != 0;
    }

    /**
     * Blocks until a completion is ready or {@code timeoutNanos} passed (IORING_ENTER_EXT_ARG, kernel ≥ 5.11;
     * older kernels wait without a timeout). Returns 0, or -1 when the wait ended without a completion (timeout,
     * signal or error). errno is not captured: this is the idle path of the dataplane thread, where a timeout is
     * the normal outcome, and capturing costs an allocation whenever the JIT does not scalar-replace it.
     */
    public int awaitCompletion(long timeoutNanos) {
        ensureEnabled();
        if ((features & IoUringParams.IORING_FEAT_EXT_ARG) == 0) {
            return Math.min(IoUringSyscalls.enterNoErrno(ringFd, 0, 1, IoUringSyscalls.IORING_ENTER_GETEVENTS, 0, 0),
                    0);
        }
        IoUringGeteventsArg.timeout(waitArg, timeoutNanos);
        IoUringGeteventsArg.minWaitUsec(waitArg, 0);
        int r = IoUringSyscalls.enterNoErrno(ringFd, 0, 1,
                IoUringSyscalls.IORING_ENTER_GETEVENTS | IoUringSyscalls.IORING_ENTER_EXT_ARG, waitArg.address(),
                IoUringGeteventsArg.ARG_SIZE);
        return Math.min(r, 0);
    }

    /**
     * Whether completions wait as task work for an io_uring_enter (rings set up with IORING_SETUP_COOP_TASKRUN |
     * IORING_SETUP_TASKRUN_FLAG: the kernel then does not interrupt the thread to post them).
     */
    public boolean taskWorkPending() {
        return ((int) U32.getAcquire(sqRing, sqFlagsOffset) & SqRingOffsets.IORING_SQ_TASKRUN) != 0;
    }

    /** Runs pending task work, posting its completions (enter with GETEVENTS, min_complete 0; errno not captured). */
    public void runTaskWork() {
        ensureEnabled();
        IoUringSyscalls.enterNoErrno(ringFd, 0, 0, IoUringSyscalls.IORING_ENTER_GETEVENTS, 0, 0);
    }

    /**
     * A ring for a dataplane thread, by {@code -Dreflex.uring.taskrun}:
     * <ul>
     * <li>{@code coop} (default): cooperative task work (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, Linux
     * 5.19) — completions wait until the thread enters the kernel (it checks {@link #taskWorkPending} on every reap)
     * instead of the kernel interrupting it to post them; +60–75% memory-engine IOPS per CPU here (bench/README.md);
     * <li>{@code defer}: one issuer, deferred task work (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
     * TASKRUN_FLAG, Linux 6.1): completions are posted only inside the issuer's own waits (GETEVENTS enters) and the
     * kernel skips the ring's locking; the ring starts disabled and the first thread that enters it becomes its
     * issuer, so it may be created on another thread but must then be used by one thread only;
     * <li>{@code default}: a plain ring.
     * </ul>
     * A kernel that refuses the flags (EINVAL) gets the next weaker setup.
     */
    public static IoUring createForDataplane(int entries, int cqEntries) {
        return createForDataplane(entries, cqEntries, System.getProperty("reflex.uring.taskrun", "coop"));
    }

    /** As {@link #createForDataplane(int, int)} with task-run mode {@code mode}: coop, defer or default. */
    public static IoUring createForDataplane(int entries, int cqEntries, String mode) {
        if (!mode.equals("coop") && !mode.equals("defer") && !mode.equals("default")) {
            throw new IllegalArgumentException("-Dreflex.uring.taskrun must be coop, defer or default, got " + mode);
        }
        if (mode.equals("defer")) {
            IoUring r = createOrNull(entries, cqEntries, IoUringParams.IORING_SETUP_SINGLE_ISSUER
                    | IoUringParams.IORING_SETUP_DEFER_TASKRUN | IoUringParams.IORING_SETUP_TASKRUN_FLAG
                    | IoUringParams.IORING_SETUP_R_DISABLED);
            if (r != null) return r;
        }
        if (!mode.equals("default")) {
            IoUring r = createOrNull(entries, cqEntries,
                    IoUringParams.IORING_SETUP_COOP_TASKRUN | IoUringParams.IORING_SETUP_TASKRUN_FLAG);
            if (r != null) return r;
        }
        return create(entries, 0, cqEntries);
    }

    /** The ring with {@code flags}, or null when the kernel does not know them (EINVAL). */
    private static IoUring createOrNull(int entries, int cqEntries, int flags) {
        try {
            return create(entries, flags, cqEntries);
        } catch (NativeException e) {
            if (e.errno() != Errno.EINVAL) throw e;
            return null;
        }
    }

    /** Flushes overflowed completions into the CQ (enter with GETEVENTS, min_complete 0). */
    public int flushOverflow() {
        ensureEnabled();
        return IoUringSyscalls.enter(errno, ringFd, 0, 0, IoUringSyscalls.IORING_ENTER_GETEVENTS, 0, 0);
    }

    /** Unmaps the rings and closes the ring fd; the kernel cancels what is still in flight. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (filesRegistered) {
            // Drop the ring's file reference now: ring teardown is asynchronous in the kernel and would keep
            // a block device's O_EXCL claim alive after we return.
            IoUringSyscalls.register(errno, ringFd, IoUringSyscalls.IORING_UNREGISTER_FILES, MemorySegment.NULL, 0);
        }
        unmap(sqes);
        if (!singleMmap) {
            unmap(cqRing);
        }
        unmap(sqRing);
        LibC.close(errno, ringFd);
        arena.close();
    }
}

package io.reflex.dataplane.storage;

import io.reflex.dataplane.storage.nativeio.Errno;
import io.reflex.dataplane.storage.nativeio.IoUring;
import io.reflex.dataplane.storage.nativeio.IoUringCqe;
import io.reflex.dataplane.storage.nativeio.IoUringSqe;
import io.reflex.dataplane.storage.nativeio.NativeException;
import io.reflex.dataplane.storage.nativeio.SharedRing;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * io_uring engine: one ring per queue over the shared O_DIRECT device fd, registered as fixed file 0 where the
 * kernel allows. prep* writes SQEs, {@link IoQueue#submit()} is one io_uring_enter for the batch, reap reads the CQ
 * without a system call. The SQE's user_data is the request's slot; the caller's userData stays in the slot.
 *
 * <p>Short transfers are resubmitted for the remainder; a transfer that makes no progress (end of file) completes
 * with -EIO. Writes carry RWF_DSYNC when syncWrites; flush is IORING_OP_FSYNC with IORING_FSYNC_DATASYNC.
 */
final class UringEngine extends AbstractStorageEngine {
    /** How long closing a queue waits for requests the kernel still owns before unmapping their buffers. */
    private static final long CLOSE_DRAIN_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final NativeDevice device;
    private final boolean syncWrites;

    UringEngine(NativeDevice device, boolean syncWrites) {
        super("uring", device.sizeBytes());
        this.device = device;
        this.syncWrites = syncWrites;
    }

    @Override
    protected AbstractIoQueue newQueue(int depth) {
        try {
            return new UringQueue(depth);
        } catch (NativeException e) {
            throw new StorageException("cannot set up io_uring for " + device.path() + ": " + e.getMessage(),
                    e.errno());
        }
    }

    @Override
    protected void closeDevice() {
        device.close();
    }

    /** How many of a uring queue's buffers are registered with the kernel (tests). */
    static int fixedBuffersOf(IoQueue queue) {
        return ((UringQueue) queue).fixedBuffers.size();
    }

    private final class UringQueue extends AbstractIoQueue implements SharedRing {
        private static final int RESUBMITTED = Integer.MIN_VALUE;
        private static final CompletionHandler DISCARD = (userData, result) -> {};
        /** user_data of the wake-up poll on the loop's epoll fd; never a slot (slots are < depth). */
        private static final long WAKE_TAG = -1L;
        /** The kernel's limit on a ring's fixed buffers (IORING_MAX_REG_BUFFERS). */
        private static final int MAX_FIXED_BUFFERS = 1 << 14;

        private final IoUring ring;
        private final int sqeFd;
        private final byte sqeFlags;
        private final int writeFlags;
        /** A short transfer was requeued during reap and awaits an io_uring_enter. */
        private boolean resubmitPending;
        /** Buffers from {@link #allocateBuffer} registered as fixed buffers (none if the kernel refused the table). */
        private final FixedBuffers fixedBuffers = new FixedBuffers();
        private final boolean fixedBufferTable;
        /** fd whose readability also ends a wait (-1: none), and whether a one-shot poll on it is in the ring. */
        private int wakeFd = -1;
        private boolean wakeArmed;
        /** The network path sharing this ring (its completions carry {@link SharedRing#FOREIGN}), or null. */
        private SharedRing.Handler foreign;

        UringQueue(int depth) {
            super(UringEngine.this, depth);
            // A CQ well beyond the SQ: the network path sharing the ring keeps a receive armed per connection.
            ring = IoUring.createForDataplane(depth, Math.max(4096, 2 * depth));
            boolean fixed = ring.registerFile(device.fd()) == 0;
            sqeFd = fixed ? 0 : device.fd();
            sqeFlags = fixed ? IoUringSqe.IOSQE_FIXED_FILE : 0;
            writeFlags = syncWrites ? IoUringSqe.RWF_DSYNC : 0;
            fixedBufferTable = ring.registerSparseBuffers(MAX_FIXED_BUFFERS) == 0;
        }

        /**
         * Registers the buffer so its I/O skips per-request page pinning (a few µs per request at QD1 on the floor
         * reference, bench/floor). Past the table's size, or if the kernel refuses (RLIMIT_MEMLOCK without
         * CAP_IPC_LOCK), the buffer simply stays unregistered and its requests use plain READ/WRITE.
         */
        @Override
        protected void bufferAllocated(MemorySegment buffer) {
            int next = fixedBuffers.size();
            if (!fixedBufferTable || next == MAX_FIXED_BUFFERS) return;
            if (ring.registerBuffer(next, buffer.address(), buffer.byteSize()) == 0) {
                fixedBuffers.add(buffer.address(), buffer.byteSize(), next);
            }
        }

        @Override
        protected boolean hasRoom() {
            return ring.nextSqe() >= 0;
        }

        @Override
        protected void enqueue(int slot) {
            long base = ring.nextSqe(); // hasRoom() held and each slot owns at most one SQE
            int done = slots.done[slot];
            byte op = slots.op[slot];
            if (op == RequestSlots.FLUSH) {
                IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_FSYNC, sqeFlags, sqeFd, 0, 0, 0,
                        IoUringSqe.IORING_FSYNC_DATASYNC, slot);
            } else {
                long address = slots.address[slot] + done;
                int length = slots.length[slot] - done;
                int fixed = fixedBuffers.indexOf(address, length);
                boolean read = op == RequestSlots.READ;
                byte opcode = fixed < 0
                        ? (read ? IoUringSqe.IORING_OP_READ : IoUringSqe.IORING_OP_WRITE)
                        : (read ? IoUringSqe.IORING_OP_READ_FIXED : IoUringSqe.IORING_OP_WRITE_FIXED);
                IoUringSqe.prep(ring.sqes(), base, opcode, sqeFlags, sqeFd, slots.offset[slot] + done, address, length,
                        read ? 0 : writeFlags, slot);
                if (fixed >= 0) IoUringSqe.bufIndex(ring.sqes(), base, fixed);
            }
            ring.sqAdvance();
        }

        @Override
        public int submit() {
            resubmitPending = false;
            int r = ring.submit();
            if (r >= 0) {
                return r;
            }
            if (r == -Errno.EINTR || r == -Errno.EAGAIN || r == -Errno.EBUSY) {
                return 0; // transient: the SQEs stay queued and go with the next submit
            }
            failUnsubmitted(r);
            return 0;
        }

        /** The ring refused the batch outright: complete every unconsumed SQE's request with the error. */
        private void failUnsubmitted(int error) {
            int n = ring.sqPending();
            long[] foreignFailed = null; // rare path: a refused batch
            int foreignCount = 0;
            for (int i = 0; i < n; i++) {
                long userData = IoUringSqe.userData(ring.sqes(), ring.pendingSqe(i));
                if (userData == WAKE_TAG) {
                    wakeArmed = false;
                } else if ((userData & FOREIGN) != 0) {
                    if (foreignFailed == null) {
                        foreignFailed = new long[n];
                    }
                    foreignFailed[foreignCount++] = userData;
                } else {
                    failLater((int) userData, error);
                }
            }
            ring.unsubmitAll();
            for (int i = 0; i < foreignCount; i++) {
                if (foreign != null) {
                    foreign.onCompletion(foreignFailed[i], error, 0);
                }
            }
        }

        @Override
        public IoUring ring() {
            return ring;
        }

        @Override
        public void foreignCompletions(SharedRing.Handler handler) {
            foreign = handler;
        }

        @Override
        protected int reapDevice(CompletionHandler handler, int max) {
            if (ring.cqReady() == 0 && ring.cqOverflowed()) {
                ring.flushOverflow();
            } else if (ring.taskWorkPending()) {
                ring.runTaskWork();
            }
            int n = 0;
            while (n < max && ring.cqReady() > 0) {
                long base = ring.cqeAtHead();
                long userData = IoUringCqe.userData(ring.cqes(), base);
                if (userData == WAKE_TAG) { // the network woke a wait: nothing to deliver
                    ring.cqAdvance();
                    wakeArmed = false;
                    continue;
                }
                if ((userData & FOREIGN) != 0) { // the network path's request: its completion is its own
                    int res = IoUringCqe.res(ring.cqes(), base);
                    int flags = IoUringCqe.flags(ring.cqes(), base);
                    ring.cqAdvance();
                    if (foreign != null) {
                        foreign.onCompletion(userData, res, flags);
                    }
                    continue;
                }
                int slot = (int) userData;
                int res = IoUringCqe.res(ring.cqes(), base);
                ring.cqAdvance();
                int result = outcome(slot, res);
                if (result != RESUBMITTED) {
                    complete(slot, result, handler);
                    n++;
                }
            }
            if (resubmitPending) {
                submit();
            }
            return n;
        }

        /** The request's result, or RESUBMITTED when a short transfer was requeued for its remainder. */
        private int outcome(int slot, int res) {
            if (res < 0 || slots.op[slot] == RequestSlots.FLUSH) {
                return res;
            }
            if (res == 0) {
                return -Errno.EIO; // no progress: past the end of the file or device
            }
            int done = slots.done[slot] + res;
            int length = slots.length[slot];
            if (done == length) {
                return length;
            }
            if (done > length) {
                return -Errno.EIO;
            }
            slots.done[slot] = done;
            enqueue(slot);
            resubmitPending = true;
            return RESUBMITTED;
        }

        @Override
        public void wakeOnReadable(int fd) {
            wakeFd = fd;
        }

        @Override
        protected void awaitDevice(long timeoutNanos) {
            if (ring.cqReady() == 0 && inKernel() > 0) {
                armWake();
                ring.awaitCompletion(timeoutNanos); // a timeout or signal (-1) just ends the wait
            }
        }

        /**
         * One-shot poll on the wake fd, so the wait also ends when the network has work (a multishot one would post
         * a CQE for every network event, waiting or not). It stays armed across waits until it fires; an fd that is
         * readable already completes it at once.
         */
        private void armWake() {
            if (wakeFd < 0 || wakeArmed) return;
            long base = ring.nextSqe();
            if (base < 0) return; // SQ full: wait without it this time
            IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_POLL_ADD, (byte) 0, wakeFd, 0, 0, 0,
                    IoUringSqe.POLLIN, WAKE_TAG);
            ring.sqAdvance();
            wakeArmed = true;
            submit(); // a refused submit keeps the SQE queued for the next one
        }

        private int inKernel() {
            return slots.inUse() - failedPending() - ring.sqPending();
        }

        @Override
        protected void closeDevice() {
            // The kernel may still DMA into our buffers: wait for what it owns before the buffers are freed.
            long deadline = System.nanoTime() + CLOSE_DRAIN_NANOS;
            try {
                failUnsubmitted(-Errno.ECANCELED);
                while (inKernel() > 0 && System.nanoTime() < deadline) {
                    if (ring.cqReady() == 0) {
                        ring.awaitCompletion(TimeUnit.MILLISECONDS.toNanos(100));
                    }
                    reapDevice(DISCARD, Integer.MAX_VALUE);
                    failUnsubmitted(-Errno.ECANCELED);
                }
            } finally {
                ring.close();
            }
        }
    }
}

package io.reflex.dataplane.storage;

import io.reflex.dataplane.storage.nativeio.Errno;
import io.reflex.dataplane.storage.nativeio.LibC;
import java.lang.foreign.Arena;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Portable engine for kernels without io_uring: blocking pread/pwrite/fdatasync on the O_DIRECT fd (O_DSYNC when
 * syncWrites), done by a few worker threads per queue so the dataplane thread never blocks.
 *
 * <p>Slot numbers travel through lock-free array queues ({@link SlotQueue}): the dataplane thread offers to a
 * submission queue that the workers drain, workers offer to a completion queue that reap drains.
 * Slot fields are published by those offers (release) and polls (acquire). Sleeping on either side uses a
 * volatile flag plus a full fence (Dekker), so a wakeup is never lost; parks also time out as a backstop.
 */
final class FileEngine extends AbstractStorageEngine {
    /** Worker threads per queue: each has one blocking request in flight, so this is the effective device depth. */
    static final int MAX_WORKERS = 4;
    private static final long WORKER_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long CLOSE_JOIN_MILLIS = TimeUnit.SECONDS.toMillis(10);

    private final NativeDevice device;
    private final AtomicInteger queueNumber = new AtomicInteger();

    FileEngine(NativeDevice device) {
        super("file", device.sizeBytes());
        this.device = device;
    }

    @Override
    protected AbstractIoQueue newQueue(int depth) {
        return new FileQueue(depth, queueNumber.getAndIncrement());
    }

    @Override
    protected void closeDevice() {
        device.close();
    }

    private final class FileQueue extends AbstractIoQueue {
        private final SlotQueue submissions;
        private final SlotQueue completions;
        /** Prepared since the last submit, in order. */
        private final int[] prepared;
        private int preparedCount;
        /** Handed to workers and not yet reaped (dataplane thread only). */
        private int outstanding;
        private final Worker[] workers;
        private volatile Thread waiter;
        private volatile boolean running = true;

        FileQueue(int depth, int number) {
            super(FileEngine.this, depth);
            submissions = new SlotQueue(depth);
            completions = new SlotQueue(depth);
            prepared = new int[depth];
            workers = new Worker[Math.min(depth, MAX_WORKERS)];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker();
                Thread t = Thread.ofPlatform().daemon().name("reflex-file-q" + number + "-w" + i)
                        .unstarted(workers[i]);
                workers[i].thread = t;
            }
            for (Worker w : workers) {
                w.thread.start();
            }
        }

        @Override
        protected void enqueue(int slot) {
            prepared[preparedCount++] = slot;
        }

        @Override
        public int submit() {
            int n = preparedCount;
            if (n == 0) {
                return 0;
            }
            for (int i = 0; i < n; i++) {
                submissions.offer(prepared[i]); // capacity ≥ depth ≥ slots in use: never full
            }
            preparedCount = 0;
            outstanding += n;
            VarHandle.fullFence(); // our offers before their idle flags (Dekker with Worker.run)
            for (Worker w : workers) {
                if (w.idle) {
                    LockSupport.unpark(w.thread);
                }
            }
            return n;
        }

        @Override
        protected int reapDevice(CompletionHandler handler, int max) {
            int n = 0;
            int slot;
            while (n < max && (slot = completions.poll()) >= 0) {
                outstanding--;
                complete(slot, slots.result[slot], handler);
                n++;
            }
            return n;
        }

        @Override
        protected void awaitDevice(long timeoutNanos) {
            if (outstanding == 0) {
                return;
            }
            waiter = Thread.currentThread();
            VarHandle.fullFence(); // our flag before their offers (Dekker with Worker.run)
            if (completions.isEmpty()) {
                LockSupport.parkNanos(this, timeoutNanos);
            }
            waiter = null;
        }

        @Override
        protected void closeDevice() {
            running = false;
            for (Worker w : workers) {
                LockSupport.unpark(w.thread);
            }
            // Workers finish what was submitted before they exit, so no buffer is freed under a pending pread.
            boolean interrupted = false;
            for (Worker w : workers) {
                try {
                    w.thread.join(CLOSE_JOIN_MILLIS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        private int execute(Errno errno, int slot) {
            int fd = device.fd();
            if (slots.op[slot] == RequestSlots.FLUSH) {
                while (LibC.fdatasync(errno, fd) != 0) {
                    if (errno.get() != Errno.EINTR) {
                        return -errno.get();
                    }
                }
                return 0;
            }
            boolean read = slots.op[slot] == RequestSlots.READ;
            long address = slots.address[slot];
            long offset = slots.offset[slot];
            int length = slots.length[slot];
            int done = 0;
            while (done < length) {
                // Without errno capture (allocation-free); a failed transfer is repeated with capture to learn why.
                long n = read
                        ? LibC.pread(fd, address + done, length - done, offset + done)
                        : LibC.pwrite(fd, address + done, length - done, offset + done);
                if (n < 0) {
                    n = read
                            ? LibC.pread(errno, fd, address + done, length - done, offset + done)
                            : LibC.pwrite(errno, fd, address + done, length - done, offset + done);
                }
                if (n < 0) {
                    if (errno.get() == Errno.EINTR) {
                        continue;
                    }
                    return -errno.get();
                }
                if (n == 0) {
                    return -Errno.EIO; // no progress: past the end of the file or device
                }
                done += (int) n;
            }
            return length;
        }

        private final class Worker implements Runnable {
            Thread thread;
            volatile boolean idle;

            @Override
            public void run() {
                try (Arena arena = Arena.ofConfined()) {
                    Errno errno = new Errno(arena);
                    while (true) {
                        int slot = submissions.poll();
                        if (slot < 0) {
                            idle = true; // volatile store, then re-check: pairs with submit()'s fence
                            slot = submissions.poll();
                            if (slot < 0) {
                                if (!running) {
                                    return;
                                }
                                LockSupport.parkNanos(this, WORKER_PARK_NANOS);
                                idle = false;
                                continue;
                            }
                            idle = false;
                        }
                        slots.result[slot] = execute(errno, slot);
                        completions.offer(slot); // capacity ≥ depth: never full
                        VarHandle.fullFence();
                        Thread w = waiter;
                        if (w != null) {
                            LockSupport.unpark(w);
                        }
                    }
                }
            }
        }
    }
}

package io.reflex.dataplane.storage;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounded lock-free multi-producer multi-consumer queue of slot numbers (Dmitry Vyukov's array queue): each cell
 * carries a sequence number that says whose turn it is, so producers and consumers only CAS a shared counter and
 * publish a cell with a store-release of its sequence. No allocation after construction, no boxing.
 *
 * <p>Why not Agrona's queues: Agrona 2.x reaches jdk.internal.misc.Unsafe and needs
 * {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} on every launcher; this engine should not.
 */
final class SlotQueue {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);

    private final int mask;
    private final long[] sequence;
    private final int[] slot;
    private final AtomicLong head = new AtomicLong();
    private final AtomicLong tail = new AtomicLong();

    /** Capacity is rounded up to a power of two. */
    SlotQueue(int capacity) {
        int size = Integer.highestOneBit(Math.max(2, capacity) - 1) << 1;
        mask = size - 1;
        sequence = new long[size];
        slot = new int[size];
        for (int i = 0; i < size; i++) {
            sequence[i] = i;
        }
        VarHandle.releaseFence(); // publish the initial sequences before the queue is shared
    }

    /** Returns false when full. */
    boolean offer(int value) {
        long pos = tail.get();
        while (true) {
            int cell = (int) pos & mask;
            long seq = (long) SEQ.getAcquire(sequence, cell);
            long diff = seq - pos;
            if (diff == 0) {
                if (tail.compareAndSet(pos, pos + 1)) {
                    slot[cell] = value;
                    SEQ.setRelease(sequence, cell, pos + 1);
                    return true;
                }
                pos = tail.get();
            } else if (diff < 0) {
                return false;
            } else {
                pos = tail.get();
            }
        }
    }

    /** Returns the oldest value, or -1 when empty. */
    int poll() {
        long pos = head.get();
        while (true) {
            int cell = (int) pos & mask;
            long seq = (long) SEQ.getAcquire(sequence, cell);
            long diff = seq - (pos + 1);
            if (diff == 0) {
                if (head.compareAndSet(pos, pos + 1)) {
                    int value = slot[cell];
                    SEQ.setRelease(sequence, cell, pos + mask + 1);
                    return value;
                }
                pos = head.get();
            } else if (diff < 0) {
                return -1;
            } else {
                pos = head.get();
            }
        }
    }

    /** A snapshot; exact only when no one offers or polls concurrently. */
    boolean isEmpty() {
        return head.get() >= tail.get();
    }
}

package io.reflex.dataplane.storage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A device in native memory, like the original ReFlex's "fake" model: benchmarks the dataplane without a disk and
 * backs tests. A request is copied and completed at the first {@link IoQueue#reap} after its {@link IoQueue#submit};
 * flush completes with 0. Contents are lost on close.
 */
final class MemoryEngine extends AbstractStorageEngine {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment storage;

    MemoryEngine(long capacityBytes) {
        super("memory", capacityBytes);
        if (capacityBytes <= 0 || capacityBytes % AbstractIoQueue.SECTOR != 0) {
            throw new StorageException("memory engine capacity must be a positive multiple of 512, got "
                    + capacityBytes);
        }
        try {
            storage = arena.allocate(capacityBytes, AbstractIoQueue.BUFFER_ALIGNMENT);
        } catch (OutOfMemoryError e) {
            arena.close();
            throw new StorageException("cannot allocate " + capacityBytes + " bytes for the memory engine: " + e);
        }
    }

    @Override
    protected AbstractIoQueue newQueue(int depth) {
        return new MemoryQueue(depth);
    }

    @Override
    protected void closeDevice() {
        arena.close();
    }

    private final class MemoryQueue extends AbstractIoQueue {
        /** FIFO of prepared slots; [head, submitted) are submitted, [submitted, tail) only prepared. */
        private final int[] fifo;
        private final int mask;
        private int head;
        private int submitted;
        private int tail;

        MemoryQueue(int depth) {
            super(MemoryEngine.this, depth);
            fifo = new int[Integer.highestOneBit(Math.max(1, depth - 1)) << 1];
            mask = fifo.length - 1;
        }

        @Override
        protected void enqueue(int slot) {
            fifo[tail++ & mask] = slot;
        }

        @Override
        public int submit() {
            int n = tail - submitted;
            submitted = tail;
            return n;
        }

        @Override
        protected int reapDevice(CompletionHandler handler, int max) {
            int n = 0;
            while (n < max && head != submitted) {
                int slot = fifo[head++ & mask];
                complete(slot, execute(slot), handler);
                n++;
            }
            return n;
        }

        private int execute(int slot) {
            int length = slots.length[slot];
            switch (slots.op[slot]) {
                case RequestSlots.READ ->
                    MemorySegment.copy(storage, slots.offset[slot], slots.buffer[slot], 0, length);
                case RequestSlots.WRITE ->
                    MemorySegment.copy(slots.buffer[slot], 0, storage, slots.offset[slot], length);
                default -> {
                    return 0; // flush: memory is as durable as it gets
                }
            }
            return length;
        }

        @Override
        protected void awaitDevice(long timeoutNanos) {
            // Submitted requests are ready at once; nothing to wait for.
        }

        @Override
        protected void closeDevice() {
            head = submitted = tail;
        }
    }
}

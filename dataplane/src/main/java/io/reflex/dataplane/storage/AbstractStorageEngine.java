package io.reflex.dataplane.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Tracks an engine's queues so that closing the engine closes them all. */
abstract class AbstractStorageEngine implements StorageEngine {
    /** Largest depth io_uring accepts (IORING_MAX_ENTRIES); the other engines keep the same bound. */
    static final int MAX_DEPTH = 32768;

    private final String name;
    private final long capacityBytes;
    private final Set<AbstractIoQueue> queues = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    AbstractStorageEngine(String name, long capacityBytes) {
        this.name = name;
        this.capacityBytes = capacityBytes;
    }

    /** Creates the engine-specific queue. */
    protected abstract AbstractIoQueue newQueue(int depth);

    /** Releases the device after all queues closed. */
    protected abstract void closeDevice();

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final long capacityBytes() {
        return capacityBytes;
    }

    @Override
    public final IoQueue openQueue(int depth) {
        if (depth < 1 || depth > MAX_DEPTH) {
            throw new IllegalArgumentException("queue depth must be in 1.." + MAX_DEPTH + ", got " + depth);
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(name + " engine is closed");
            }
            AbstractIoQueue queue = newQueue(depth);
            queues.add(queue);
            return queue;
        }
    }

    void queueClosed(AbstractIoQueue queue) {
        queues.remove(queue);
    }

    @Override
    public final void close() {
        List<AbstractIoQueue> open;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(queues);
        }
        try {
            for (AbstractIoQueue q : open) {
                q.close();
            }
        } finally {
            closeDevice();
        }
    }
}

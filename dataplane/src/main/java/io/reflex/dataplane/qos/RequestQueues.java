package io.reflex.dataplane.qos;

/**
 * One FIFO ring of (request, cost) per tenant slot, all in two flat preallocated arrays so that enqueue and dequeue
 * never allocate or box. Not thread-safe: owned by one dataplane thread.
 */
final class RequestQueues {
    private final int capacity;
    private final long[] requests;
    private final long[] costs;
    private final int[] head;
    private final int[] size;

    RequestQueues(int slots, int capacity) {
        if (slots <= 0) throw new IllegalArgumentException("maxTenants must be > 0, got " + slots);
        if (capacity <= 0) throw new IllegalArgumentException("queueCapacity must be > 0, got " + capacity);
        if ((long) slots * capacity > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxTenants × queueCapacity too large: " + slots + " × " + capacity);
        }
        this.capacity = capacity;
        this.requests = new long[slots * capacity];
        this.costs = new long[slots * capacity];
        this.head = new int[slots];
        this.size = new int[slots];
    }

    boolean offer(int slot, long request, long cost) {
        int n = size[slot];
        if (n == capacity) return false;
        int i = index(slot, head[slot] + n);
        requests[i] = request;
        costs[i] = cost;
        size[slot] = n + 1;
        return true;
    }

    boolean isEmpty(int slot) { return size[slot] == 0; }

    int size(int slot) { return size[slot]; }

    long headRequest(int slot) { return requests[index(slot, head[slot])]; }

    long headCost(int slot) { return costs[index(slot, head[slot])]; }

    /** Removes the head; the caller has checked the queue is not empty. */
    void pop(int slot) {
        int h = head[slot] + 1;
        head[slot] = h == capacity ? 0 : h;
        size[slot]--;
    }

    private int index(int slot, int position) {
        return slot * capacity + (position >= capacity ? position - capacity : position);
    }
}

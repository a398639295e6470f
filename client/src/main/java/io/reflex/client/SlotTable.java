package io.reflex.client;

/**
 * Bookkeeping of in-flight request slots: which slot a wire handle names, and whether that handle is still current.
 *
 * <p>A handle is {@code generation << 32 | slot}. Each time a slot is reused its generation advances (never 0), so
 * a stale or forged handle (a duplicate reply, a reply for an already completed request) is rejected instead of
 * being matched to whichever request holds the slot now. Handle 0 is never issued; the connection uses it for HELLO.
 *
 * <p>Allocation-free after construction; not thread-safe (owned by the connection's driving thread).
 */
public final class SlotTable {
    private final int[] generation;
    private final boolean[] inUse;
    private final int[] freeStack;
    private int freeCount;

    public SlotTable(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("slot capacity must be >= 1, got " + capacity);
        generation = new int[capacity];
        inUse = new boolean[capacity];
        freeStack = new int[capacity];
        // Hand out low slots first (LIFO stack): keeps the touched part of the per-slot arrays small and warm.
        for (int i = 0; i < capacity; i++) freeStack[i] = capacity - 1 - i;
        freeCount = capacity;
    }

    public int capacity() { return generation.length; }
    public int inFlight() { return generation.length - freeCount; }
    public boolean isFull() { return freeCount == 0; }

    /** Takes a free slot and returns its new handle, or -1 if every slot is in flight. */
    public long acquire() {
        if (freeCount == 0) return -1;
        int slot = freeStack[--freeCount];
        int gen = generation[slot] + 1;
        if (gen == 0) gen = 1;
        generation[slot] = gen;
        inUse[slot] = true;
        return handle(slot, gen);
    }

    /** The slot a current handle names, or -1 if the handle is unknown, stale or its slot is free. */
    public int slotOf(long handle) {
        long slot = handle & 0xFFFF_FFFFL;
        if (slot >= generation.length) return -1;
        int s = (int) slot;
        return inUse[s] && generation[s] == (int) (handle >>> 32) ? s : -1;
    }

    public boolean isInUse(int slot) { return inUse[slot]; }

    /** The current handle of an in-use slot. */
    public long handleOf(int slot) { return handle(slot, generation[slot]); }

    public void release(int slot) {
        if (!inUse[slot]) throw new IllegalStateException("slot " + slot + " released twice");
        inUse[slot] = false;
        freeStack[freeCount++] = slot;
    }

    private static long handle(int slot, int gen) {
        return (long) gen << 32 | (slot & 0xFFFF_FFFFL);
    }
}

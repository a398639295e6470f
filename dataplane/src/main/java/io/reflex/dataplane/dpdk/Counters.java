package io.reflex.dataplane.dpdk;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Counters indexed by an enum's ordinal: written by one loop thread (release stores), read by any thread. */
public final class Counters<E extends Enum<E>> {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private final long[] counts;

    Counters(Class<E> type) {
        counts = new long[type.getEnumConstants().length];
    }

    void add(E what) {
        int i = what.ordinal();
        LONGS.setRelease(counts, i, (long) LONGS.getOpaque(counts, i) + 1);
    }

    public long get(E what) { return (long) LONGS.getAcquire(counts, what.ordinal()); }

    /** Sum over all. */
    public long total() {
        long t = 0;
        for (int i = 0; i < counts.length; i++) t += (long) LONGS.getAcquire(counts, i);
        return t;
    }
}

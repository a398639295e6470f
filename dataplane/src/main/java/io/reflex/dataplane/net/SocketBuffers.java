package io.reflex.dataplane.net;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A loop's pool of page-aligned socket buffers of one size. A session borrows one only while it has bytes to parse
 * or to send, so an idle connection holds none (5,000 idle connections used to pin 1.6 GiB of eagerly allocated
 * buffers). Take and give allocate nothing once the pool is warm. Each buffer has its own confined arena, so
 * {@link #trim} frees memory at once instead of whenever a GC runs. Owned by the loop's thread (arenas are confined to
 * it).
 */
final class SocketBuffers {
    private static final int PAGE = 4096;
    /** Spare buffers kept however long they sit unused. */
    static final int SPARE = 16;

    private final int size;
    private ByteBuffer[] buffers = new ByteBuffer[64];
    /** Native address of each buffer (the io_uring path hands it to the kernel). */
    private long[] addresses = new long[64];
    private Arena[] arenas = new Arena[64];
    /** Ids with a live buffer, not in use. */
    private int[] free = new int[64];
    private int freeCount;
    /** Ids whose buffer was trimmed (reused before new ids). */
    private int[] empty = new int[64];
    private int emptyCount;
    private int ids;
    private int live;
    /** Fewest free buffers since the last trim: that many sat unused the whole time. */
    private int lowWater;

    SocketBuffers(int size) {
        this.size = size;
    }

    /** A buffer id; {@link #buffer} gives the cleared buffer. */
    int take() {
        if (freeCount == 0) return create();
        int id = free[--freeCount];
        if (freeCount < lowWater) lowWater = freeCount;
        return id;
    }

    ByteBuffer buffer(int id, ByteOrder order) {
        return buffers[id].clear().order(order);
    }

    /** The native address of buffer {@code id}. */
    long address(int id) {
        return addresses[id];
    }

    void give(int id) {
        if (freeCount == free.length) free = Arrays.copyOf(free, freeCount * 2);
        free[freeCount++] = id;
    }

    /** Free half of the buffers beyond {@link #SPARE} that stayed unused since the last trim (called about once a second). */
    void trim() {
        int drop = (Math.min(lowWater, freeCount) - SPARE + 1) / 2;
        for (int i = 0; i < drop; i++) {
            int id = free[--freeCount];
            arenas[id].close();
            arenas[id] = null;
            buffers[id] = null;
            live--;
            if (emptyCount == empty.length) empty = Arrays.copyOf(empty, emptyCount * 2);
            empty[emptyCount++] = id;
        }
        lowWater = freeCount;
    }

    /** Memory held, in use and spare. */
    long bytes() { return (long) live * size; }

    int size() { return size; }

    /** Free every buffer (the loop is stopping and closed its sessions; one still borrowed fails on use, not leaks). */
    void close() {
        for (int id = 0; id < ids; id++) {
            if (arenas[id] == null) continue;
            arenas[id].close();
            arenas[id] = null;
            buffers[id] = null;
        }
        live = 0;
        freeCount = 0;
        emptyCount = 0;
        ids = 0;
    }

    private int create() {
        int id;
        if (emptyCount > 0) {
            id = empty[--emptyCount];
        } else {
            if (ids == buffers.length) {
                buffers = Arrays.copyOf(buffers, ids * 2);
                arenas = Arrays.copyOf(arenas, ids * 2);
                addresses = Arrays.copyOf(addresses, ids * 2);
            }
            id = ids++;
        }
        // Page-aligned: the kernel's socket copies (rep movsb) run several times slower into unaligned memory
        // (see WireBuffers).
        Arena arena = Arena.ofConfined();
        arenas[id] = arena;
        var segment = arena.allocate(size, PAGE);
        buffers[id] = segment.asByteBuffer();
        addresses[id] = segment.address();
        live++;
        return id;
    }
}

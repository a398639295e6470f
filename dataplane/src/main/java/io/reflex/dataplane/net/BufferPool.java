package io.reflex.dataplane.net;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.LongFunction;

/**
 * Per-loop pool of 4096-aligned I/O buffers in power-of-two sizes (4 KiB … 1 MiB), capped in bytes. Owned by the
 * loop's thread: no locks.
 *
 * <p>Memory is carved from 1 MiB chunks (made lazily from the storage queue's allocator, at most {@code maxBytes / 1
 * MiB} of them, never freed before the queue closes) by a buddy allocator: a request takes the smallest free block that
 * fits, splitting a larger one in halves if need be, and a released block merges with its free buddy again, up to a
 * whole chunk. So no free memory is ever stranded in a size nobody asks for: once the blocks in use are released, every
 * chunk is one free 1 MiB block again and serves any size. (Before, free buffers stayed in their size class forever, and
 * a pool whose bytes all sat in free buffers of one size made a request of any other size wait for ever.)
 *
 * <p>{@link #acquire} fails only when no free block of the size exists in any chunk and no chunk can be added under the
 * cap; the caller then waits for blocks in use to be released (they always are: their requests complete, or their
 * connection is closed). Best fit keeps whole chunks whole for as long as possible: a small request splits a free
 * chunk only when no smaller free block is left anywhere.
 *
 * <p>Allocation: a chunk, when made (cold path), brings every object its blocks will ever need — a segment per block,
 * one byte-buffer view per chunk, room in the free lists — so acquire and release allocate nothing.
 */
final class BufferPool {
    static final int MIN_SHIFT = 12;
    static final int MAX_SHIFT = 20;
    /** Bytes of a chunk: the largest block, and the pool's unit of memory. */
    static final int CHUNK = 1 << MAX_SHIFT;
    /** {@link #acquire}: larger than the largest block (1 MiB); no wait can ever satisfy it. */
    static final int TOO_LARGE = -2;
    private static final int CLASSES = MAX_SHIFT - MIN_SHIFT + 1;
    /**
     * Blocks of a chunk are the nodes of a complete binary tree, numbered from 1: node 1 is the whole chunk, nodes 2n and
     * 2n + 1 are the halves of node n; nodes [2^d, 2^(d+1)) are the blocks of 1 MiB >> d. A block's id is
     * {@code chunk * NODES + node} (id {@code chunk * NODES} is unused).
     */
    private static final int NODES = 1 << CLASSES;

    private final LongFunction<MemorySegment> allocator;
    private final long maxBytes;
    private final int maxChunks;
    private int chunks;
    private long inUseBytes;

    /** By block id: its memory. */
    private MemorySegment[] segments = new MemorySegment[0];
    /** By chunk: a view of all of it, for socket copies (absolute puts at {@link #offset}). */
    private ByteBuffer[] views = new ByteBuffer[0];
    /** By block id: its position in its class's free list, or -1 (in use, split into halves, or part of a larger free block). */
    private int[] freeIndex = new int[0];
    /** By block id: handed out by {@link #acquire} and not yet released. */
    private boolean[] used = new boolean[0];
    /** Free blocks by size class (0 = 4 KiB … 8 = 1 MiB), as stacks of block ids. */
    private final int[][] free = new int[CLASSES][];
    private final int[] freeCount = new int[CLASSES];

    /**
     * @param allocator 4096-aligned native memory of the given size (the storage queue's, so io_uring can register it)
     * @param maxBytes  the pool's cap: it never holds more than {@code maxBytes} rounded down to whole MiB, at least 1 MiB
     */
    BufferPool(LongFunction<MemorySegment> allocator, long maxBytes) {
        if (maxBytes < CHUNK) {
            throw new IllegalArgumentException("an I/O buffer pool of " + maxBytes + " bytes cannot hold one request of "
                    + CHUNK + " bytes (1 MiB, the largest): give it at least 1 MiB");
        }
        this.allocator = allocator;
        this.maxBytes = maxBytes;
        this.maxChunks = (int) Math.min(Integer.MAX_VALUE / NODES, maxBytes / CHUNK);
        for (int c = 0; c < CLASSES; c++) free[c] = new int[0];
    }

    /**
     * A block of at least {@code bytes} (its size: {@link #bytes}); -1 when none is free and the cap allows no more
     * memory (wait for a release and ask again); {@link #TOO_LARGE} above 1 MiB.
     */
    int acquire(int bytes) {
        if (bytes > CHUNK) return TOO_LARGE;
        int c = sizeClass(bytes);
        int k = c;
        while (k < CLASSES && freeCount[k] == 0) k++;
        int id;
        if (k < CLASSES) {
            id = pop(k);
        } else if (chunks < maxChunks) {
            id = addChunk();
            k = CLASSES - 1;
        } else {
            return -1;
        }
        while (k > c) { // split: keep the lower half, free the upper one
            int node = id & (NODES - 1);
            id += node; // the lower half: node 2n
            push(--k, id + 1);
        }
        used[id] = true;
        inUseBytes += 1L << (c + MIN_SHIFT);
        return id;
    }

    void release(int id) {
        if (id < 0 || id >= used.length || !used[id]) throw new IllegalStateException("I/O buffer " + id + " is not in use");
        used[id] = false;
        int node = id & (NODES - 1);
        int base = id - node;
        int c = classOfNode(node);
        inUseBytes -= 1L << (c + MIN_SHIFT);
        while (node > 1 && freeIndex[base + (node ^ 1)] >= 0) { // the buddy is free as a whole: merge
            remove(c, base + (node ^ 1));
            node >>>= 1;
            c++;
        }
        push(c, base + node);
    }

    MemorySegment segment(int id) { return segments[id]; }

    /** Size of block {@code id}: its size class. */
    int bytes(int id) { return 1 << (classOfNode(id & (NODES - 1)) + MIN_SHIFT); }

    /** A view of the chunk holding block {@code id}; the block is [{@link #offset}, + {@link #bytes}) of it. */
    ByteBuffer chunkView(int id) { return views[id / NODES]; }

    /** Where block {@code id} starts in its chunk's view. */
    int offset(int id) {
        int node = id & (NODES - 1);
        int depth = 31 - Integer.numberOfLeadingZeros(node);
        return (node - (1 << depth)) << (MAX_SHIFT - depth);
    }

    /** Memory taken from the allocator so far (whole chunks), never more than the cap. */
    long allocatedBytes() { return (long) chunks * CHUNK; }

    /** Bytes of the blocks handed out and not released. */
    long inUseBytes() { return inUseBytes; }

    long maxBytes() { return maxBytes; }

    static int sizeClass(int bytes) {
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(bytes, 1 << MIN_SHIFT) - 1);
        if (shift > MAX_SHIFT) throw new IllegalArgumentException("buffer larger than 1 MiB: " + bytes);
        return shift - MIN_SHIFT;
    }

    private static int classOfNode(int node) {
        return MAX_SHIFT - MIN_SHIFT - (31 - Integer.numberOfLeadingZeros(node));
    }

    private void push(int c, int id) {
        freeIndex[id] = freeCount[c];
        free[c][freeCount[c]++] = id;
    }

    private int pop(int c) {
        int id = free[c][--freeCount[c]];
        freeIndex[id] = -1;
        return id;
    }

    /** Takes block {@code id} out of the middle of its free list (it merges with its buddy). */
    private void remove(int c, int id) {
        int at = freeIndex[id];
        int last = free[c][--freeCount[c]];
        free[c][at] = last;
        freeIndex[last] = at;
        freeIndex[id] = -1;
    }

    /**
     * A new chunk, in use as one 1 MiB block being split by the caller (cold path: at most {@code maxChunks} times per
     * loop). Makes every block's segment now, and room in each free list for the most free blocks all chunks can have
     * at once (a block and its buddy are never both free: at most half the blocks of a size, one whole chunk).
     */
    private int addChunk() {
        int chunk = chunks;
        MemorySegment memory = allocator.apply(CHUNK);
        if (memory.byteSize() < CHUNK || memory.address() % (1 << MIN_SHIFT) != 0) {
            throw new IllegalStateException("the allocator returned " + memory.byteSize() + " bytes at " + memory.address()
                    + ": want " + CHUNK + " bytes, 4096-aligned");
        }
        if (views.length == chunk) { // grown by doubling: a full pool copies its arrays a few times, not once per chunk
            int n = Math.min(maxChunks, Math.max(1, chunk * 2));
            views = Arrays.copyOf(views, n);
            segments = Arrays.copyOf(segments, n * NODES);
            freeIndex = Arrays.copyOf(freeIndex, n * NODES);
            used = Arrays.copyOf(used, n * NODES);
        }
        views[chunk] = memory.asSlice(0, CHUNK).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int base = chunk * NODES;
        freeIndex[base] = -1;
        for (int node = 1; node < NODES; node++) {
            int depth = 31 - Integer.numberOfLeadingZeros(node);
            long size = (long) CHUNK >>> depth;
            segments[base + node] = memory.asSlice((node - (1L << depth)) * size, size);
            freeIndex[base + node] = -1;
        }
        chunks++;
        for (int c = 0; c < CLASSES; c++) {
            int perChunk = c == CLASSES - 1 ? 1 : 1 << (CLASSES - 2 - c);
            if (free[c].length < chunks * perChunk) free[c] = Arrays.copyOf(free[c], views.length * perChunk);
        }
        return base + 1;
    }
}

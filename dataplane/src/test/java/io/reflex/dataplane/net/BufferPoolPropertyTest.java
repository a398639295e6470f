package io.reflex.dataplane.net;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The loop's I/O buffer pool driven by random sequences of acquires and releases of random sizes, against a model of
 * its memory (which 4 KiB pages of which chunk are in use), the way the loop drives it: a request that gets no buffer
 * waits, and waiting requests ask again, oldest first, after every release.
 *
 * <ul>
 *   <li>No deadlock, no stranded memory: an acquire fails only when no free, aligned block of its size exists in the
 *       pool's memory and no chunk can be added under the cap; every waiting request gets its buffer once the blocks in
 *       use are released; then the whole pool serves 1 MiB buffers again.</li>
 *   <li>Byte accounting is exact (bytes in use = the sizes of the blocks handed out; memory = whole chunks, taken only
 *       when no free block fits) and the cap is never exceeded.</li>
 *   <li>Blocks handed out are 4096-aligned, at least as large as asked for, and never overlap.</li>
 * </ul>
 */
class BufferPoolPropertyTest {
    private static final int PAGE = 4096;
    private static final int PAGES = BufferPool.CHUNK / PAGE;

    /** acquire {@code bytes}, or release the held block at index {@code pick} modulo the number held. */
    record Op(boolean acquire, int bytes, int pick) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Integer> sizes = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(1, 512, 4095, 4096, 4097, 8192, 65536, 65537, 262144, 524288, 524289, 1 << 20)),
                Tuple.of(3, Arbitraries.integers().between(1, 1 << 20)),
                Tuple.of(3, Arbitraries.integers().between(0, 8).map(c -> 4096 << c)),
                Tuple.of(1, Arbitraries.integers().between((1 << 20) + 1, 1 << 22))); // never grantable
        Arbitrary<Op> acquire = sizes.map(bytes -> new Op(true, bytes, 0));
        Arbitrary<Op> release = Arbitraries.integers().between(0, Integer.MAX_VALUE).map(pick -> new Op(false, 0, pick));
        return Arbitraries.frequencyOf(Tuple.of(6, acquire), Tuple.of(4, release)).list().ofMaxSize(400);
    }

    @Property(tries = 400)
    void randomAcquiresAndReleasesNeverDeadlockStrandOrOverrun(@ForAll("ops") List<Op> ops,
                                                               @ForAll @IntRange(min = 1, max = 12) int mebibytes,
                                                               @ForAll @IntRange(min = 0, max = (1 << 20) - 1) int extraBytes) {
        long cap = ((long) mebibytes << 20) + extraBytes;
        try (Arena arena = Arena.ofConfined()) {
            Model m = new Model(arena, cap);
            for (Op op : ops) {
                if (op.acquire()) {
                    m.acquireOrWait(op.bytes());
                } else if (!m.held.isEmpty()) {
                    m.release(m.held.get(Math.floorMod(op.pick(), m.held.size())));
                }
                m.checkAccounting();
            }
            // Everyone who waited gets a buffer once what is held is released (and then releases it in turn).
            while (!m.held.isEmpty()) {
                m.release(m.held.getLast());
                m.checkAccounting();
            }
            assertThat(m.waiting).as("requests still waiting with nothing held").isEmpty();
            assertThat(m.pool.inUseBytes()).isZero();
            // Nothing stranded: the whole pool is 1 MiB buffers again.
            int chunks = (int) (cap >>> 20);
            for (int i = 0; i < chunks; i++) assertThat(m.acquire(BufferPool.CHUNK)).as("1 MiB buffer %d of %d", i, chunks).isTrue();
            assertThat(m.pool.acquire(PAGE)).as("a pool of whole 1 MiB buffers in use is full").isEqualTo(-1);
            assertThat(m.pool.allocatedBytes()).isEqualTo((long) chunks << 20).isLessThanOrEqualTo(cap);
        }
    }

    /** The reported case: a pool whose bytes all went to 1 MiB buffers, all free again, serves a 4 KiB request. */
    @Example
    void freeBuffersOfOneSizeServeAnyOther() {
        try (Arena arena = Arena.ofConfined()) {
            for (int[] sizes : new int[][] {{1 << 20, 4096}, {4096, 1 << 20}, {65536, 8192}, {8192, 1 << 20}}) {
                Model m = new Model(arena, 18L << 20);
                int n = (int) (18L << 20) / sizes[0];
                for (int i = 0; i < n; i++) assertThat(m.acquire(sizes[0])).isTrue();
                assertThat(m.pool.acquire(sizes[1])).as("pool full").isEqualTo(-1);
                while (!m.held.isEmpty()) m.release(m.held.getFirst());
                int k = (int) (18L << 20) / sizes[1];
                for (int i = 0; i < k; i++) assertThat(m.acquire(sizes[1])).as("%d-byte buffer %d after %d-byte ones", sizes[1], i, sizes[0]).isTrue();
                assertThat(m.pool.allocatedBytes()).isEqualTo(18L << 20);
            }
        }
    }

    @Example
    void aRequestNoBufferCanEverHoldIsRefusedNotQueued() {
        try (Arena arena = Arena.ofConfined()) {
            BufferPool pool = new BufferPool(bytes -> arena.allocate(bytes, PAGE), 4L << 20);
            assertThat(pool.acquire((1 << 20) + 1)).isEqualTo(BufferPool.TOO_LARGE);
            assertThat(pool.acquire(Integer.MAX_VALUE)).isEqualTo(BufferPool.TOO_LARGE);
            assertThat(pool.allocatedBytes()).isZero();
        }
        assertThatThrownBy(() -> new BufferPool(bytes -> { throw new AssertionError(); }, (1 << 20) - 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 MiB");
        assertThatThrownBy(() -> new DataplaneLoop.Config(0, 4, 64, 16, 512 * 1024, 16, PollMode.BLOCK, -1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bufferBytes");
    }

    @Example
    void releasingABufferNotInUseIsAnError() {
        try (Arena arena = Arena.ofConfined()) {
            BufferPool pool = new BufferPool(bytes -> arena.allocate(bytes, PAGE), 1L << 20);
            int id = pool.acquire(PAGE);
            pool.release(id);
            assertThatThrownBy(() -> pool.release(id)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> pool.release(7)).isInstanceOf(IllegalStateException.class);
            assertThat(pool.inUseBytes()).isZero();
        }
    }

    /** The pool plus what it should be: its chunks' pages in use, the blocks held, the requests waiting. */
    private static final class Model {
        final long cap;
        final BufferPool pool;
        final List<MemorySegment> chunks = new ArrayList<>();
        final List<BitSet> pages = new ArrayList<>();
        /** Block ids held, in acquire order. */
        final List<Integer> held = new ArrayList<>();
        final ArrayDeque<Integer> waiting = new ArrayDeque<>();
        long heldBytes;

        Model(Arena arena, long cap) {
            this.cap = cap;
            this.pool = new BufferPool(bytes -> {
                assertThat(bytes).isEqualTo(BufferPool.CHUNK);
                MemorySegment s = arena.allocate(bytes, PAGE);
                chunks.add(s);
                pages.add(new BitSet(PAGES));
                return s;
            }, cap);
        }

        /** A request: served now, or queued behind the ones already waiting (as the loop pauses its connection). */
        void acquireOrWait(int bytes) {
            if (bytes > BufferPool.CHUNK) {
                long before = pool.allocatedBytes();
                assertThat(pool.acquire(bytes)).isEqualTo(BufferPool.TOO_LARGE);
                assertThat(pool.allocatedBytes()).isEqualTo(before);
                return;
            }
            if (!waiting.isEmpty() || !acquire(bytes)) waiting.add(bytes);
        }

        /** One acquire, checked against the model; whether it got a block. */
        boolean acquire(int bytes) {
            int size = 1 << (BufferPool.sizeClass(bytes) + BufferPool.MIN_SHIFT);
            boolean fits = freeBlockOf(size);
            boolean canGrow = pool.allocatedBytes() + BufferPool.CHUNK <= cap;
            int chunksBefore = chunks.size();
            int id = pool.acquire(bytes);
            if (id < 0) {
                assertThat(id).isEqualTo(-1);
                assertThat(fits).as("refused %d bytes while a free %d-byte block exists", bytes, size).isFalse();
                assertThat(canGrow).as("refused %d bytes while the cap allows another chunk", bytes).isFalse();
                return false;
            }
            if (chunks.size() > chunksBefore) {
                assertThat(fits).as("took a new chunk for %d bytes while a free block of that size existed", bytes).isFalse();
            }
            assertThat(pool.bytes(id)).isEqualTo(size).isGreaterThanOrEqualTo(bytes);
            MemorySegment seg = pool.segment(id);
            assertThat(seg.byteSize()).isEqualTo(size);
            assertThat(seg.address() % PAGE).isZero();
            int chunk = chunkOf(seg.address());
            long offset = seg.address() - chunks.get(chunk).address();
            assertThat(offset % size).as("a block is aligned to its size in its chunk").isZero();
            assertThat(pool.offset(id)).isEqualTo(offset);
            assertThat(pool.chunkView(id).capacity()).isEqualTo(BufferPool.CHUNK);
            BitSet used = pages.get(chunk);
            int first = (int) (offset / PAGE), n = size / PAGE;
            assertThat(used.get(first, first + n).isEmpty()).as("block overlaps one in use").isTrue();
            used.set(first, first + n);
            held.add(id);
            heldBytes += size;
            return true;
        }

        void release(int id) {
            MemorySegment seg = pool.segment(id);
            int chunk = chunkOf(seg.address());
            int first = (int) ((seg.address() - chunks.get(chunk).address()) / PAGE);
            pages.get(chunk).clear(first, first + (int) (seg.byteSize() / PAGE));
            held.remove((Integer) id);
            heldBytes -= seg.byteSize();
            pool.release(id);
            // the loop's paused connections ask again, oldest first, until one has to wait again
            while (!waiting.isEmpty() && acquire(waiting.peek())) waiting.poll();
        }

        /** Whether some chunk has a free run of pages of {@code size} at a multiple of {@code size}. */
        boolean freeBlockOf(int size) {
            int n = size / PAGE;
            for (BitSet used : pages) {
                for (int p = 0; p < PAGES; p += n) {
                    int next = used.nextSetBit(p);
                    if (next < 0 || next >= p + n) return true;
                }
            }
            return false;
        }

        int chunkOf(long address) {
            for (int c = 0; c < chunks.size(); c++) {
                long base = chunks.get(c).address();
                if (address >= base && address < base + BufferPool.CHUNK) return c;
            }
            throw new AssertionError("address " + address + " is in no chunk of the pool");
        }

        void checkAccounting() {
            assertThat(pool.inUseBytes()).as("bytes in use").isEqualTo(heldBytes);
            assertThat(pool.allocatedBytes()).as("memory taken").isEqualTo((long) chunks.size() * BufferPool.CHUNK)
                    .isLessThanOrEqualTo(cap);
            long pagesUsed = pages.stream().mapToLong(BitSet::cardinality).sum();
            assertThat(pagesUsed * PAGE).isEqualTo(heldBytes);
        }
    }
}

package io.reflex.dataplane.dpdk;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Packet-buffer pools (librte_mempool, librte_mbuf). Allocating an mbuf is a header inline in DPDK, so the dataplane
 * never allocates one itself: the PMD fills mbufs it takes from the pool, a reply is built in place in its request's
 * mbuf, and whatever is dropped goes back through the exported {@code rte_pktmbuf_free_bulk}.
 */
public final class Mempools {
    /** RTE_PKTMBUF_HEADROOM in Debian's build. */
    public static final int HEADROOM = 128;
    /** SOCKET_ID_ANY. */
    public static final int ANY_SOCKET = -1;

    private static final MethodHandle POOL_CREATE = DpdkLib.downcall("rte_pktmbuf_pool_create",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_SHORT, JAVA_SHORT, JAVA_INT));
    private static final MethodHandle POOL_FREE = DpdkLib.downcall("rte_mempool_free", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle AVAIL = DpdkLib.downcall("rte_mempool_avail_count", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle IN_USE = DpdkLib.downcall("rte_mempool_in_use_count", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** Packet path: primitive arguments only, no thread-state transition (it never blocks). */
    private static final MethodHandle FREE_BULK = DpdkLib.downcall("rte_pktmbuf_free_bulk",
            FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT), Linker.Option.critical(false));

    private Mempools() {}

    /**
     * A pool of {@code count} mbufs with {@code dataRoom} bytes each (headroom included), a per-lcore cache of
     * {@code cache}; returns its address. The name must be unique in the process.
     */
    public static MemorySegment create(String name, int count, int cache, int dataRoom, int socket) {
        if (dataRoom > 0xFFFF) throw new IllegalArgumentException("mbuf data room " + dataRoom + " exceeds 65535");
        MemorySegment pool;
        try (Arena arena = Arena.ofConfined()) {
            pool = (MemorySegment) POOL_CREATE.invokeExact(arena.allocateFrom(name), count, cache, (short) 0, (short) dataRoom, socket);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
        if (pool.address() == 0) {
            throw new IllegalStateException("rte_pktmbuf_pool_create(" + name + ", " + count + " x " + dataRoom
                    + " bytes) failed: not enough EAL memory (-m) or hugepages?");
        }
        return pool;
    }

    public static void free(MemorySegment pool) {
        try {
            POOL_FREE.invokeExact(pool);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** mbufs free in the pool (including per-lcore caches). */
    public static int available(MemorySegment pool) {
        try {
            return (int) AVAIL.invokeExact(pool);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** mbufs taken from the pool and not returned: a leak check. */
    public static int inUse(MemorySegment pool) {
        try {
            return (int) IN_USE.invokeExact(pool);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** Returns {@code count} mbufs whose addresses are at {@code array} (native) to their pools. */
    public static void freeBulk(long array, int count) {
        if (count == 0) return;
        try {
            FREE_BULK.invokeExact(array, count);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }
}

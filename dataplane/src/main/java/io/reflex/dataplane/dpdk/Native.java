package io.reflex.dataplane.dpdk;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Raw access to native memory by absolute address (mbufs, their data, DPDK's tables): one segment spanning the address
 * space, so the packet path reads and writes without creating a segment per packet. Every address used with it comes
 * from DPDK (an mbuf pointer or a field of one) and is bounds-checked by the caller against the mbuf's lengths.
 */
final class Native {
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    /** Network byte order, for headers. */
    static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Native() {}

    static long address(long addr) { return ALL.get(ValueLayout.JAVA_LONG, addr); }
}

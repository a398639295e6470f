package io.reflex.dataplane.dpdk;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) over memory, for IPv4 headers and UDP datagrams when the device does not offload
 * them. Sums 32-bit big-endian words into a 64-bit accumulator (no carry handling needed below 2^32 words) and folds
 * once at the end. Allocation-free; works on any segment (native by absolute address, or heap in tests).
 */
public final class Checksum {
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Checksum() {}

    /** Unfolded one's-complement partial sum of {@code len} bytes at {@code off} (an odd tail is padded with zero). */
    public static long sum(MemorySegment s, long off, int len) {
        long sum = 0;
        int i = 0;
        for (; i + 4 <= len; i += 4) sum += Integer.toUnsignedLong(s.get(BE32, off + i));
        if (i + 2 <= len) {
            sum += Short.toUnsignedInt(s.get(BE16, off + i));
            i += 2;
        }
        if (i < len) sum += (s.get(ValueLayout.JAVA_BYTE, off + i) & 0xFF) << 8;
        return sum;
    }

    /** Folds a partial sum to 16 bits (not complemented). */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) sum;
    }

    /** The value for a checksum field: the complement of the folded sum (the field itself counted as zero). */
    public static int finish(long sum) {
        return ~fold(sum) & 0xFFFF;
    }

    /** IPv4 pseudo-header partial sum: addresses, protocol, and the L4 length. */
    public static long pseudoHeader(int srcIp, int dstIp, int protocol, int l4Length) {
        return (srcIp >>> 16) + (srcIp & 0xFFFF) + (dstIp >>> 16) + (dstIp & 0xFFFF) + protocol + l4Length;
    }
}

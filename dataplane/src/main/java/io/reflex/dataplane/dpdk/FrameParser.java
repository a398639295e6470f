package io.reflex.dataplane.dpdk;

import static io.reflex.dataplane.dpdk.Frames.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Classifies a received frame: an ARP request for our address, a UDP datagram for our address (checksums verified),
 * or a {@link Drop} reason. Reads only within {@code [base, base + length)}; never throws on any content. Stateless and
 * allocation-free: results are small ints ({@code >= 0} a kind, {@code < 0} the negated drop ordinal + 1).
 */
public final class FrameParser {
    public static final int ARP_FOR_US = 0;
    public static final int UDP_FOR_US = 1;

    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private FrameParser() {}

    /** The code for a drop reason. */
    public static int drop(Drop d) { return -(d.ordinal() + 1); }

    /** The drop reason of a negative code. */
    public static Drop reason(int code) { return Drop.VALUES[-code - 1]; }

    /**
     * @param olFlags the mbuf's RX flags: a checksum the device marked good is not recomputed, one marked bad drops
     *                the frame; 0 means verify in software
     */
    public static int classify(MemorySegment s, long base, int length, long ourMac, int ourIp, long olFlags) {
        if (length < ETH_HLEN) return drop(Drop.TRUNCATED);
        long dst = mac48(s, base + ETH_DST);
        int type = u16(s, base + ETH_TYPE);
        if (type == TYPE_ARP) return arp(s, base, length, dst, ourMac, ourIp);
        if (type != TYPE_IPV4) return drop(Drop.OTHER_ETHERTYPE);
        if (dst != ourMac) return drop(Drop.OTHER_MAC);
        return ipv4Udp(s, base, length, ourIp, olFlags);
    }

    private static int arp(MemorySegment s, long base, int length, long dst, long ourMac, int ourIp) {
        if (length < ARP_LEN) return drop(Drop.TRUNCATED);
        if (dst != ourMac && dst != BROADCAST) return drop(Drop.OTHER_MAC);
        if (u16(s, base + ARP_HTYPE) != 1 || u16(s, base + ARP_PTYPE) != TYPE_IPV4 || u8(s, base + ARP_HLEN) != 6
                || u8(s, base + ARP_PLEN) != 4 || u16(s, base + ARP_OPER) != ARP_REQUEST
                || s.get(BE32, base + ARP_TPA) != ourIp) {
            return drop(Drop.ARP_IGNORED);
        }
        return ARP_FOR_US;
    }

    private static int ipv4Udp(MemorySegment s, long base, int length, int ourIp, long olFlags) {
        if (length < PAYLOAD) return drop(Drop.TRUNCATED);
        int verIhl = u8(s, base + IP_VER_IHL);
        if (verIhl != 0x45) return drop(Drop.IP_BAD_HEADER); // version 4, no options
        int total = u16(s, base + IP_TOTAL_LEN);
        if (total < IP_HLEN + UDP_HLEN || total > length - ETH_HLEN) return drop(Drop.IP_BAD_LENGTH);
        long ipFlags = olFlags & Mbuf.RX_IP_CKSUM_MASK;
        if (ipFlags == Mbuf.RX_IP_CKSUM_BAD) return drop(Drop.IP_BAD_CHECKSUM);
        if (ipFlags != Mbuf.RX_IP_CKSUM_GOOD && Checksum.fold(Checksum.sum(s, base + IP, IP_HLEN)) != 0xFFFF) {
            return drop(Drop.IP_BAD_CHECKSUM);
        }
        if ((u16(s, base + IP_FRAG) & IP_MF_OFFSET_MASK) != 0) return drop(Drop.IP_FRAGMENT);
        if (s.get(BE32, base + IP_DST) != ourIp) return drop(Drop.OTHER_IP);
        if (u8(s, base + IP_PROTO) != PROTO_UDP) return drop(Drop.OTHER_PROTOCOL);
        int udpLen = u16(s, base + UDP_LEN);
        if (udpLen != total - IP_HLEN) return drop(Drop.UDP_BAD_LENGTH);
        int csum = u16(s, base + UDP_CSUM);
        long l4Flags = olFlags & Mbuf.RX_L4_CKSUM_MASK;
        if (l4Flags == Mbuf.RX_L4_CKSUM_BAD) return drop(Drop.UDP_BAD_CHECKSUM);
        if (csum != 0 && l4Flags != Mbuf.RX_L4_CKSUM_GOOD) { // 0: the sender did not checksum (allowed in IPv4)
            long sum = Checksum.pseudoHeader(s.get(BE32, base + IP_SRC), ourIp, PROTO_UDP, udpLen)
                    + Checksum.sum(s, base + UDP, udpLen);
            if (Checksum.fold(sum) != 0xFFFF) return drop(Drop.UDP_BAD_CHECKSUM);
        }
        return UDP_FOR_US;
    }

    static int u8(MemorySegment s, long at) { return s.get(ValueLayout.JAVA_BYTE, at) & 0xFF; }

    static int u16(MemorySegment s, long at) { return Short.toUnsignedInt(s.get(BE16, at)); }

    static int be32(MemorySegment s, long at) { return s.get(BE32, at); }

    static long mac48(MemorySegment s, long at) {
        return Integer.toUnsignedLong(s.get(BE32, at)) << 16 | Short.toUnsignedInt(s.get(BE16, at + 4));
    }
}

package io.reflex.dataplane.dpdk;

import static io.reflex.dataplane.dpdk.Frames.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Builds frames in memory: replies in place over the request they answer (addresses swapped, lengths and checksums
 * filled), and whole request frames (tests, the in-process client). Allocation-free.
 */
public final class FrameWriter {
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final int TTL = 64;

    private FrameWriter() {}

    /**
     * Turns a received UDP frame (already classified {@link FrameParser#UDP_FOR_US}) into its reply carrying
     * {@code payloadLength} bytes of UDP payload that the caller has written at {@code base + PAYLOAD}.
     *
     * @return the reply's frame length
     */
    public static int udpReplyInPlace(MemorySegment s, long base, long ourMac, int payloadLength) {
        long peerMac = FrameParser.mac48(s, base + ETH_SRC);
        putMac(s, base + ETH_DST, peerMac);
        putMac(s, base + ETH_SRC, ourMac);
        int peerIp = s.get(BE32, base + IP_SRC);
        int ourIp = s.get(BE32, base + IP_DST);
        int peerPort = FrameParser.u16(s, base + UDP_SPORT);
        int ourPort = FrameParser.u16(s, base + UDP_DPORT);
        return writeIpUdp(s, base, ourIp, peerIp, ourPort, peerPort, payloadLength);
    }

    /** Writes a whole UDP frame's headers around {@code payloadLength} bytes already at {@code base + PAYLOAD}. */
    public static int udpFrame(MemorySegment s, long base, long srcMac, long dstMac, int srcIp, int dstIp, int srcPort,
                               int dstPort, int payloadLength) {
        putMac(s, base + ETH_DST, dstMac);
        putMac(s, base + ETH_SRC, srcMac);
        s.set(BE16, base + ETH_TYPE, (short) TYPE_IPV4);
        return writeIpUdp(s, base, srcIp, dstIp, srcPort, dstPort, payloadLength);
    }

    private static int writeIpUdp(MemorySegment s, long base, int srcIp, int dstIp, int srcPort, int dstPort, int payloadLength) {
        int udpLen = UDP_HLEN + payloadLength;
        s.set(ValueLayout.JAVA_BYTE, base + IP_VER_IHL, (byte) 0x45);
        s.set(ValueLayout.JAVA_BYTE, base + IP_VER_IHL + 1, (byte) 0);
        s.set(BE16, base + IP_TOTAL_LEN, (short) (IP_HLEN + udpLen));
        s.set(BE16, base + IP_ID, (short) 0);
        s.set(BE16, base + IP_FRAG, (short) IP_DF);
        s.set(ValueLayout.JAVA_BYTE, base + IP_TTL, (byte) TTL);
        s.set(ValueLayout.JAVA_BYTE, base + IP_PROTO, (byte) PROTO_UDP);
        s.set(BE16, base + IP_CSUM, (short) 0);
        s.set(BE32, base + IP_SRC, srcIp);
        s.set(BE32, base + IP_DST, dstIp);
        s.set(BE16, base + IP_CSUM, (short) Checksum.finish(Checksum.sum(s, base + IP, IP_HLEN)));
        s.set(BE16, base + UDP_SPORT, (short) srcPort);
        s.set(BE16, base + UDP_DPORT, (short) dstPort);
        s.set(BE16, base + UDP_LEN, (short) udpLen);
        s.set(BE16, base + UDP_CSUM, (short) 0);
        int c = Checksum.finish(Checksum.pseudoHeader(srcIp, dstIp, PROTO_UDP, udpLen) + Checksum.sum(s, base + UDP, udpLen));
        s.set(BE16, base + UDP_CSUM, (short) (c == 0 ? 0xFFFF : c)); // 0 would mean "no checksum"
        return PAYLOAD + payloadLength;
    }

    /** Turns an ARP request for {@code ourIp} into its reply; returns the frame length (unchanged). */
    public static void arpReplyInPlace(MemorySegment s, long base, long ourMac, int ourIp) {
        long peerMac = FrameParser.mac48(s, base + ARP_SHA);
        int peerIp = s.get(BE32, base + ARP_SPA);
        putMac(s, base + ETH_DST, peerMac);
        putMac(s, base + ETH_SRC, ourMac);
        s.set(BE16, base + ARP_OPER, (short) ARP_REPLY);
        putMac(s, base + ARP_THA, peerMac);
        s.set(BE32, base + ARP_TPA, peerIp);
        putMac(s, base + ARP_SHA, ourMac);
        s.set(BE32, base + ARP_SPA, ourIp);
    }

    /** A broadcast ARP request "who has targetIp" (tests). Returns the frame length. */
    public static int arpRequest(MemorySegment s, long base, long srcMac, int srcIp, int targetIp) {
        putMac(s, base + ETH_DST, BROADCAST);
        putMac(s, base + ETH_SRC, srcMac);
        s.set(BE16, base + ETH_TYPE, (short) TYPE_ARP);
        s.set(BE16, base + ARP_HTYPE, (short) 1);
        s.set(BE16, base + ARP_PTYPE, (short) TYPE_IPV4);
        s.set(ValueLayout.JAVA_BYTE, base + ARP_HLEN, (byte) 6);
        s.set(ValueLayout.JAVA_BYTE, base + ARP_PLEN, (byte) 4);
        s.set(BE16, base + ARP_OPER, (short) ARP_REQUEST);
        putMac(s, base + ARP_SHA, srcMac);
        s.set(BE32, base + ARP_SPA, srcIp);
        putMac(s, base + ARP_THA, 0);
        s.set(BE32, base + ARP_TPA, targetIp);
        return ARP_LEN;
    }

    static void putMac(MemorySegment s, long at, long mac) {
        s.set(BE32, at, (int) (mac >>> 16));
        s.set(BE16, at + 4, (short) mac);
    }
}

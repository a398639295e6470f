package io.reflex.protocol;

/**
 * The ReFlex protocol over UDP (PROTOCOL.md, "UDP transport"): one request or reply per datagram, the same 24-byte
 * header, replies always in the extended form (status at offset 12). Shared by the DPDK engine and the kernel-socket
 * client so both agree on sizes and on the at-most-once write window.
 */
public final class UdpFraming {
    /** IPv4 (no options) + UDP headers inside the MTU. */
    public static final int IPV4_UDP_OVERHEAD = 20 + 8;
    /** The smallest MTU that carries a 4 KiB read reply or write request in one datagram (4096 + 24 + 28, rounded). */
    public static final int MIN_MTU = 4200;
    /** Largest UDP payload on a 9000-byte (jumbo) MTU. */
    public static final int JUMBO_PAYLOAD = 9000 - IPV4_UDP_OVERHEAD;
    /**
     * A client never has a SET outstanding while this many or more newer SETs (to the same server port, from the same
     * socket) were sent after it; the server remembers the last this-many SET handles per client, so a retried SET
     * is recognised and applied at most once.
     */
    public static final int WRITE_WINDOW = 1024;

    private UdpFraming() {}

    /** Largest data (whole 512-byte sectors, at most 1 MiB) one request or reply datagram carries at this MTU. */
    public static int maxDataBytes(int mtu) {
        int room = mtu - IPV4_UDP_OVERHEAD - ReflexHeader.LENGTH;
        if (room < ReflexHeader.SECTOR_SIZE) return 0;
        return Math.min(ReflexHeader.MAX_BYTES, room / ReflexHeader.SECTOR_SIZE * ReflexHeader.SECTOR_SIZE);
    }

    /**
     * The exact datagram length a request with this header must have: the header plus a SET's data or a HELLO's
     * token; -1 for an opcode that is not served. {@code lbaCount} is unsigned (already bounded by the frame check).
     */
    public static long requestBytes(int opcode, long lbaCount) {
        return switch (opcode) {
            case Opcode.GET, Opcode.FLUSH -> ReflexHeader.LENGTH;
            case Opcode.SET -> ReflexHeader.LENGTH + (lbaCount << ReflexHeader.SECTOR_SHIFT);
            case Opcode.HELLO -> ReflexHeader.LENGTH + lbaCount;
            default -> -1;
        };
    }
}

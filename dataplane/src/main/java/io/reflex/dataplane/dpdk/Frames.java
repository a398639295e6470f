package io.reflex.dataplane.dpdk;

/**
 * Wire layout of the frames the DPDK engine speaks: Ethernet II, ARP for IPv4, IPv4 without options, UDP, then the
 * ReFlex header (little-endian, PROTOCOL.md) as the UDP payload. Offsets are from the start of the frame.
 *
 * <pre>
 *  0 eth dst(6) src(6) type(2) | 14 IPv4: ver/ihl tos totlen(2) id(2) frag(2) ttl proto csum(2) src(4) dst(4)
 * 34 UDP: sport dport len csum | 42 ReFlex: magic(2) opcode(2) handle(8) lba|status(8) lba_count(4) | 66 data
 * 14 ARP: htype(2) ptype(2) hlen plen oper(2) sha(6) spa(4) tha(6) tpa(4)                            | 42
 * </pre>
 */
public final class Frames {
    public static final int ETH_DST = 0;
    public static final int ETH_SRC = 6;
    public static final int ETH_TYPE = 12;
    public static final int ETH_HLEN = 14;
    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    public static final int TYPE_VLAN = 0x8100;

    public static final int IP = ETH_HLEN;
    public static final int IP_VER_IHL = IP;
    public static final int IP_TOTAL_LEN = IP + 2;
    public static final int IP_ID = IP + 4;
    public static final int IP_FRAG = IP + 6;
    public static final int IP_TTL = IP + 8;
    public static final int IP_PROTO = IP + 9;
    public static final int IP_CSUM = IP + 10;
    public static final int IP_SRC = IP + 12;
    public static final int IP_DST = IP + 16;
    public static final int IP_HLEN = 20;
    public static final int PROTO_UDP = 17;
    /** Flags+offset: MF set or a non-zero offset means a fragment. */
    public static final int IP_MF_OFFSET_MASK = 0x3FFF;
    public static final int IP_DF = 0x4000;

    public static final int UDP = IP + IP_HLEN;
    public static final int UDP_SPORT = UDP;
    public static final int UDP_DPORT = UDP + 2;
    public static final int UDP_LEN = UDP + 4;
    public static final int UDP_CSUM = UDP + 6;
    public static final int UDP_HLEN = 8;
    public static final int PAYLOAD = UDP + UDP_HLEN;
    /** Ethernet + IPv4 + UDP headers before the ReFlex header. */
    public static final int HEADERS = PAYLOAD;

    public static final int ARP = ETH_HLEN;
    public static final int ARP_HTYPE = ARP;
    public static final int ARP_PTYPE = ARP + 2;
    public static final int ARP_HLEN = ARP + 4;
    public static final int ARP_PLEN = ARP + 5;
    public static final int ARP_OPER = ARP + 6;
    public static final int ARP_SHA = ARP + 8;
    public static final int ARP_SPA = ARP + 14;
    public static final int ARP_THA = ARP + 18;
    public static final int ARP_TPA = ARP + 24;
    public static final int ARP_LEN = ETH_HLEN + 28;
    public static final int ARP_REQUEST = 1;
    public static final int ARP_REPLY = 2;

    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private Frames() {}

    /** A MAC address as the low 48 bits of a long, first byte most significant. */
    public static long mac(byte[] b) {
        long v = 0;
        for (int i = 0; i < 6; i++) v = v << 8 | (b[i] & 0xFF);
        return v;
    }

    public static String macString(long mac) {
        StringBuilder sb = new StringBuilder();
        for (int i = 5; i >= 0; i--) {
            sb.append(String.format("%02x", (mac >>> (8 * i)) & 0xFF));
            if (i > 0) sb.append(':');
        }
        return sb.toString();
    }

    public static String ipString(int ip) {
        return (ip >>> 24) + "." + ((ip >>> 16) & 0xFF) + "." + ((ip >>> 8) & 0xFF) + "." + (ip & 0xFF);
    }

    /** Parses a dotted IPv4 address. */
    public static int ip(String dotted) {
        String[] p = dotted.trim().split("\\.");
        if (p.length != 4) throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
        int v = 0;
        for (String s : p) {
            int o;
            try {
                o = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            }
            if (o < 0 || o > 255) throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            v = v << 8 | o;
        }
        return v;
    }
}

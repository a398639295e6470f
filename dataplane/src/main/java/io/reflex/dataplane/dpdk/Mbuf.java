package io.reflex.dataplane.dpdk;

import static io.reflex.dataplane.dpdk.Native.ALL;

import java.lang.foreign.ValueLayout;

/**
 * {@code struct rte_mbuf} of DPDK 22.11 (rte_mbuf_core.h, x86-64, RTE_IOVA_AS_PA), the fields the dataplane touches;
 * offsets checked against the installed header by {@code DpdkLayoutTest}:
 *
 * <pre>
 *   0 void *buf_addr        8 iova buf_iova      16 u16 data_off   18 u16 refcnt   20 u16 nb_segs   22 u16 port
 *  24 u64 ol_flags         32 u32 packet_type   36 u32 pkt_len    40 u16 data_len 42 u16 vlan_tci
 *  44 hash (8)             52 u16 vlan_tci_outer 54 u16 buf_len  56 rte_mempool *pool   64 rte_mbuf *next
 *  72 u64 tx_offload (l2_len:7 l3_len:9 l4_len:8 ...)            size 128
 * </pre>
 *
 * Static accessors take the mbuf's address (no flyweight object per packet).
 */
public final class Mbuf {
    public static final long BUF_ADDR = 0;
    public static final long DATA_OFF = 16;
    public static final long REFCNT = 18;
    public static final long NB_SEGS = 20;
    public static final long PORT = 22;
    public static final long OL_FLAGS = 24;
    public static final long PKT_LEN = 36;
    public static final long DATA_LEN = 40;
    public static final long BUF_LEN = 54;
    public static final long POOL = 56;
    public static final long NEXT = 64;
    public static final long TX_OFFLOAD = 72;
    public static final long SIZE = 128;

    // rte_mbuf_core.h RX flags (ol_flags)
    public static final long RX_L4_CKSUM_BAD = 1L << 3;
    public static final long RX_IP_CKSUM_BAD = 1L << 4;
    public static final long RX_IP_CKSUM_GOOD = 1L << 7;
    public static final long RX_L4_CKSUM_GOOD = 1L << 8;
    public static final long RX_IP_CKSUM_MASK = RX_IP_CKSUM_BAD | RX_IP_CKSUM_GOOD;
    public static final long RX_L4_CKSUM_MASK = RX_L4_CKSUM_BAD | RX_L4_CKSUM_GOOD;

    private Mbuf() {}

    /** Address of the first byte of packet data. */
    public static long data(long m) {
        return ALL.get(ValueLayout.JAVA_LONG, m + BUF_ADDR) + Short.toUnsignedInt(ALL.get(ValueLayout.JAVA_SHORT, m + DATA_OFF));
    }

    public static int dataLen(long m) { return Short.toUnsignedInt(ALL.get(ValueLayout.JAVA_SHORT, m + DATA_LEN)); }

    public static int pktLen(long m) { return ALL.get(ValueLayout.JAVA_INT, m + PKT_LEN); }

    public static int nbSegs(long m) { return Short.toUnsignedInt(ALL.get(ValueLayout.JAVA_SHORT, m + NB_SEGS)); }

    public static int dataOff(long m) { return Short.toUnsignedInt(ALL.get(ValueLayout.JAVA_SHORT, m + DATA_OFF)); }

    public static int bufLen(long m) { return Short.toUnsignedInt(ALL.get(ValueLayout.JAVA_SHORT, m + BUF_LEN)); }

    public static long olFlags(long m) { return ALL.get(ValueLayout.JAVA_LONG, m + OL_FLAGS); }

    public static int refcnt(long m) { return Short.toUnsignedInt(ALL.get(ValueLayout.JAVA_SHORT, m + REFCNT)); }

    public static long pool(long m) { return ALL.get(ValueLayout.JAVA_LONG, m + POOL); }

    /** Bytes from the start of packet data to the end of the buffer. */
    public static int room(long m) { return bufLen(m) - dataOff(m); }

    /** Sets a single-segment packet's length (data_len = pkt_len) and clears offload flags for transmit. */
    public static void setLength(long m, int length) {
        ALL.set(ValueLayout.JAVA_SHORT, m + DATA_LEN, (short) length);
        ALL.set(ValueLayout.JAVA_INT, m + PKT_LEN, length);
        ALL.set(ValueLayout.JAVA_LONG, m + OL_FLAGS, 0L);
        ALL.set(ValueLayout.JAVA_LONG, m + TX_OFFLOAD, 0L);
    }
}

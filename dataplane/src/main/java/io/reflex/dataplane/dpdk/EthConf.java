package io.reflex.dataplane.dpdk;

/**
 * {@code struct rte_eth_conf} (rte_ethdev.h, DPDK 22.11), the fields we set; the rest stays zero. Offsets checked
 * against the installed header by {@code DpdkLayoutTest}.
 */
public final class EthConf {
    /** Allocation size: at least sizeof(struct rte_eth_conf) (checked by the test). */
    public static final long ALLOC = 8192;
    public static final long RXMODE_MQ_MODE = 8;
    public static final long RXMODE_MTU = 12;
    public static final long RXMODE_OFFLOADS = 24;
    public static final long TXMODE_OFFLOADS = 72;
    public static final long RSS_KEY = 128;
    public static final long RSS_KEY_LEN = 136;
    public static final long RSS_HF = 144;

    /** RTE_ETH_MQ_RX_RSS. */
    public static final int MQ_RX_RSS = 1;
    // RTE_ETH_RX_OFFLOAD_* / RTE_ETH_TX_OFFLOAD_*
    public static final long RX_OFFLOAD_IPV4_CKSUM = 1L << 1;
    public static final long RX_OFFLOAD_UDP_CKSUM = 1L << 2;
    public static final long TX_OFFLOAD_MULTI_SEGS = 1L << 15;
    // RTE_ETH_RSS_*: hash on addresses and UDP ports, so one client's flow always lands on the same queue
    public static final long RSS_IPV4 = 1L << 2;
    public static final long RSS_FRAG_IPV4 = 1L << 3;
    public static final long RSS_NONFRAG_IPV4_UDP = 1L << 5;

    private EthConf() {}
}

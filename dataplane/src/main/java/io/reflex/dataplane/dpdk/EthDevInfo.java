package io.reflex.dataplane.dpdk;

/**
 * {@code struct rte_eth_dev_info} (rte_ethdev.h, DPDK 22.11), the fields we read; offsets checked by
 * {@code DpdkLayoutTest}.
 */
public final class EthDevInfo {
    public static final long ALLOC = 4096;
    public static final long DRIVER_NAME = 8;
    public static final long MIN_MTU = 20;
    public static final long MAX_MTU = 22;
    public static final long MAX_RX_PKTLEN = 36;
    public static final long MAX_RX_QUEUES = 44;
    public static final long MAX_TX_QUEUES = 46;
    public static final long RX_OFFLOAD_CAPA = 72;
    public static final long TX_OFFLOAD_CAPA = 80;
    public static final long FLOW_TYPE_RSS_OFFLOADS = 112;

    private EthDevInfo() {}
}

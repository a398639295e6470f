package io.reflex.dataplane.dpdk;

/**
 * {@code struct rte_eth_stats} (rte_ethdev.h, DPDK 22.11): eight u64 port totals, then per-queue arrays of
 * RTE_ETHDEV_QUEUE_STAT_CNTRS (16); offsets and size checked by {@code DpdkLayoutTest}.
 */
public final class EthStats {
    public static final long SIZE = 704;
    public static final long IPACKETS = 0;
    public static final long OPACKETS = 8;
    public static final long IBYTES = 16;
    public static final long OBYTES = 24;
    public static final long IMISSED = 32;
    public static final long IERRORS = 40;
    public static final long OERRORS = 48;
    public static final long RX_NOMBUF = 56;

    /** One reading of a port's counters. */
    public record Snapshot(long ipackets, long opackets, long ibytes, long obytes, long imissed, long ierrors,
                           long oerrors, long rxNoMbuf) {}

    private EthStats() {}
}

package io.reflex.dataplane.dpdk;

import io.reflex.dataplane.metrics.TenantStats;

/** A tenant as one loop sees it: its UDP port, LBA window, token digest (or null) and this loop's counters. */
final class UdpTenant {
    final int slot;
    final String name;
    final int port;
    final long baseSector;
    final long sectors;
    final byte[] tokenDigest;
    final TenantStats stats;

    UdpTenant(int slot, String name, int port, long baseSector, long sectors, byte[] tokenDigest, TenantStats stats) {
        this.slot = slot;
        this.name = name;
        this.port = port;
        this.baseSector = baseSector;
        this.sectors = sectors;
        this.tokenDigest = tokenDigest;
        this.stats = stats;
    }
}

package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.TenantStats;

import java.nio.charset.StandardCharsets;

/** A tenant as one loop sees it: its LBA window, access rule and this loop's stats. Mutated only by that loop. */
final class LoopTenant {
    final int slot;
    final String name;
    long baseSector;
    long sectors;
    byte[] token;
    final TenantStats stats;
    boolean removed;

    LoopTenant(int slot, String name, long baseSector, long sectors, String token, TenantStats stats) {
        this.slot = slot;
        this.name = name;
        this.stats = stats;
        update(baseSector, sectors, token);
    }

    void update(long baseSector, long sectors, String token) {
        this.baseSector = baseSector;
        this.sectors = sectors;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }
}

package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.tenant.AccessToken;

import java.security.MessageDigest;

/** A tenant as one loop sees it: its LBA window, access rule and this loop's stats. Mutated only by that loop. */
final class LoopTenant {
    final int slot;
    final String name;
    long baseSector;
    long sectors;
    /** SHA-256 of the access token, or null when the tenant needs none. */
    private byte[] tokenDigest;
    /** Reused for every check: a loop's tenant is only ever touched by that loop. */
    private final MessageDigest sha = AccessToken.sha256();
    final TenantStats stats;
    boolean removed;
    /** Requests and I/O buffer bytes this tenant's sessions hold on this loop (bounded: see {@link Session#full}). */
    int held;
    long heldBytes;

    LoopTenant(int slot, String name, long baseSector, long sectors, String token, TenantStats stats) {
        this.slot = slot;
        this.name = name;
        this.stats = stats;
        update(baseSector, sectors, token);
    }

    void update(long baseSector, long sectors, String token) {
        this.baseSector = baseSector;
        this.sectors = sectors;
        this.tokenDigest = token == null ? null : AccessToken.digest(token);
    }

    boolean needsToken() {
        return tokenDigest != null;
    }

    /** Is {@code given} this tenant's token? Connection setup only (once per connection), never per request. */
    boolean tokenMatches(byte[] given) {
        return tokenDigest == null || AccessToken.matches(sha, given, tokenDigest);
    }
}

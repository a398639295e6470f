package io.reflex.dataplane.tenant;

import io.reflex.devmodels.TenantDemand;

import java.util.ArrayList;
import java.util.List;

/**
 * One row of the SLO table: who the tenant is, where it listens, what it reserved, and which part of the device
 * it sees. LBAs are 512-byte sectors; the tenant addresses [0, lbaCount) and the server adds lbaBase.
 *
 * @param token optional access token: when set, clients must send HELLO with it (legacy clients are refused); the
 *              token itself or {@code sha256:<hex>} of it ({@link AccessToken})
 */
public record TenantSpec(String name, int port, TenantClass tenantClass, long iops, int readPercent, long p95Micros,
                         long lbaBase, long lbaCount, String token) {

    /** Everything wrong with this row, in words a user can act on; empty when valid. */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        String who = "tenant " + (name == null ? "<unnamed>" : "'" + name + "'");
        if (name == null || !name.matches("[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?")) {
            p.add(who + ": name must be 1–63 chars of [a-z0-9-_.], starting and ending alphanumeric");
        }
        if (port < 1 || port > 65535) p.add(who + ": port must be 1–65535, got " + port);
        if (tenantClass == null) p.add(who + ": class must be LC or BE");
        if (readPercent < 0 || readPercent > 100) p.add(who + ": readPercent must be 0–100, got " + readPercent);
        if (tenantClass == TenantClass.LC) {
            if (iops <= 0) p.add(who + ": an LC tenant needs iops > 0");
            if (p95Micros <= 0) p.add(who + ": an LC tenant needs p95Micros > 0");
        } else if (tenantClass == TenantClass.BE && p95Micros != 0) {
            p.add(who + ": a BE tenant has no latency SLO (remove p95Micros)");
        }
        if (lbaBase < 0) p.add(who + ": lbaBase must be >= 0");
        if (lbaCount <= 0) p.add(who + ": lbaCount must be > 0");
        String tokenProblem = AccessToken.problem(token);
        if (tokenProblem != null) p.add(who + ": " + tokenProblem);
        return p;
    }

    public long lbaEnd() { return lbaBase + lbaCount; }

    public TenantDemand demand() {
        return tenantClass == TenantClass.LC ? TenantDemand.lc(name, iops, readPercent, p95Micros) : TenantDemand.be(name);
    }

    /** Same listener and same LBA space: live connections can stay while rates change. */
    public boolean sameEndpoint(TenantSpec o) {
        return port == o.port && lbaBase == o.lbaBase && lbaCount == o.lbaCount;
    }
}

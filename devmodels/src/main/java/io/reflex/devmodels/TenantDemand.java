package io.reflex.devmodels;

/**
 * What a tenant asks of a device, as admission sees it.
 *
 * @param name        for messages
 * @param latencyCritical LC (has a p95 SLO and a reservation) or BE
 * @param iops        reserved 4 KiB-equivalent IOPS (LC); ignored for BE
 * @param readPercent 0–100
 * @param p95Micros   the LC tenant's p95 latency SLO; 0 for BE
 */
public record TenantDemand(String name, boolean latencyCritical, long iops, int readPercent, long p95Micros) {
    public TenantDemand {
        if (readPercent < 0 || readPercent > 100) throw new IllegalArgumentException(name + ": readPercent must be 0–100");
        if (latencyCritical && (iops <= 0 || p95Micros <= 0)) {
            throw new IllegalArgumentException(name + ": an LC tenant needs iops > 0 and p95Micros > 0");
        }
        if (!latencyCritical && p95Micros != 0) throw new IllegalArgumentException(name + ": a BE tenant has no latency SLO");
    }

    public static TenantDemand lc(String name, long iops, int readPercent, long p95Micros) {
        return new TenantDemand(name, true, iops, readPercent, p95Micros);
    }

    public static TenantDemand be(String name) {
        return new TenantDemand(name, false, 0, 0, 0);
    }
}

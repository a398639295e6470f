package io.reflex.dataplane.tenant;

/** Latency-critical tenants reserve IOPS at a p95 SLO; best-effort tenants share what is left. */
public enum TenantClass { LC, BE }

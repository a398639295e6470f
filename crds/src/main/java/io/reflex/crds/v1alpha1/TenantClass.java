package io.reflex.crds.v1alpha1;

/** Service class of a tenant (DESIGN §4). */
public enum TenantClass {
  /** Latency-critical: reserves iops at a p95 latency SLO; admitted only if the device budget allows. */
  LC,
  /** Best-effort: shares what LC tenants leave, round-robin; no latency SLO. */
  BE
}

package io.reflex.crds.v1alpha1;

/** Lifecycle of a FlashTenant. */
public enum TenantPhase {
  /** Not yet admitted and placed by the operator. */
  Pending,
  /** Admitted: placed on a device; its node agent has not reported it serving yet. */
  Placed,
  /** The dataplane on the device's node serves the tenant at its endpoint. */
  Serving,
  /** Not admitted (see the Admitted condition for the reason, e.g. not enough budget for the SLO). */
  Rejected
}

package io.reflex.operator.placement;

import io.reflex.devmodels.TenantDemand;
import java.util.Objects;

/**
 * A tenant asking to be placed.
 *
 * @param key           namespace/name
 * @param demand        class, IOPS, read share and SLO, as the devmodels token math reads them
 * @param capacityBytes size of the tenant's LBA space
 * @param constraints   where it may live
 */
public record TenantRequest(String key, TenantDemand demand, long capacityBytes, Constraints constraints) {
  /** The largest capacity whose extent (rounded up to {@link Ledger#ALIGN_BYTES}) is a long: 8 EiB - 4 KiB. */
  public static final long MAX_CAPACITY_BYTES = Long.MAX_VALUE / Ledger.ALIGN_BYTES * Ledger.ALIGN_BYTES;

  public TenantRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(demand, "demand");
    constraints = constraints == null ? Constraints.NONE : constraints;
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException(key + ": capacity must be > 0");
    }
    if (capacityBytes > MAX_CAPACITY_BYTES) { // the ledger rounds extents up to ALIGN_BYTES: it must not wrap
      throw new IllegalArgumentException(key + ": capacity must be at most " + MAX_CAPACITY_BYTES + " bytes");
    }
  }
}

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
  public TenantRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(demand, "demand");
    constraints = constraints == null ? Constraints.NONE : constraints;
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException(key + ": capacity must be > 0");
    }
  }
}

package io.reflex.operator;

import io.reflex.operator.placement.PlacementPolicy;
import java.time.Duration;

/**
 * Operator behaviour (from {@code reflex.operator.*} in application.properties; plain record so tests can build
 * the reconcilers without CDI).
 *
 * @param policy                 best-fit (pack, default) or spread
 * @param portMin                first node port the dataplane may serve tenants on
 * @param portMax                last node port
 * @param rejectWhenNoFit        no device fits: Rejected (retried only when the spec changes) instead of Pending
 *                               (retried whenever capacity may have appeared)
 * @param replaceOnDeviceLoss    a tenant whose device is gone or not Ready is placed elsewhere (fresh, empty extent)
 *                               instead of only being told so in its DeviceReady condition
 * @param pendingRetry           how often Pending tenants are retried besides device/tenant events
 */
public record OperatorSettings(PlacementPolicy policy, int portMin, int portMax, boolean rejectWhenNoFit,
                               boolean replaceOnDeviceLoss, Duration pendingRetry) {
  public static final String FIELD_MANAGER = "reflex-operator";
  public static final String MANAGED_BY = io.reflex.crds.access.TenantSecret.MANAGED_BY;
  /** FlashDevice annotation giving the node address when there is no Node object (or to override it). */
  public static final String NODE_ADDRESS_ANNOTATION = io.reflex.crds.v1alpha1.FlashDevice.NODE_ADDRESS_ANNOTATION;

  public static OperatorSettings defaults() {
    return new OperatorSettings(PlacementPolicy.BEST_FIT, 20000, 29999, false, false, Duration.ofSeconds(60));
  }
}

package io.reflex.operator.placement;

import io.reflex.devmodels.TenantDemand;

/**
 * What a placed tenant holds: an extent of a device, a port on its node, and (LC) a token reservation.
 *
 * @param tenant      namespace/name
 * @param device      FlashDevice name
 * @param node        node of the device
 * @param offsetBytes start of the extent on the device (a multiple of {@link Ledger#ALIGN_BYTES})
 * @param sizeBytes   length of the extent (the tenant capacity rounded up to {@link Ledger#ALIGN_BYTES})
 * @param port        TCP port the node's dataplane serves the tenant on, unique on the node
 * @param tokens      tokens/s reserved (LC, rounded up); 0 for BE
 * @param demand      the demand the reservation was priced from (re-evaluates the device budget)
 */
public record Allocation(String tenant, String device, String node, long offsetBytes, long sizeBytes, int port,
                         long tokens, TenantDemand demand) {
  public static final int SECTOR_BYTES = 512;

  /** First 512-byte sector, as FlashTenant.status.placement.lbaOffset. */
  public long lbaOffset() {
    return offsetBytes / SECTOR_BYTES;
  }

  public long endBytes() {
    return offsetBytes + sizeBytes;
  }
}

package io.reflex.agent.kube;

import io.reflex.crds.access.TenantNames;
import io.reflex.crds.access.TenantSecret;
import io.reflex.crds.v1alpha1.AuthMode;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.dataplane.tenant.TenantClass;
import io.reflex.dataplane.tenant.TenantSpec;

/** A placed FlashTenant (and its Secret's token) as a row of the dataplane's SLO table. */
public final class TenantRows {
  private TenantRows() {}

  /**
   * The row, or why the tenant cannot be served yet (IllegalStateException with a user-facing message). The token
   * is the digest the operator published in the status ({@code sha256:...}, which the dataplane takes in place of the
   * token): the agent never reads tenants' Secrets.
   */
  public static TenantSpec row(FlashTenant t) {
    TenantPlacement p = t.getStatus().getPlacement();
    if (p.getPort() == null || p.getLbaOffset() == null || p.getLbaCount() == null) {
      throw new IllegalStateException("placement is incomplete (port, lbaOffset and lbaCount are needed)");
    }
    var spec = t.getSpec();
    boolean lc = spec.getServiceClass() == io.reflex.crds.v1alpha1.TenantClass.LC;
    String token = null;
    boolean needsToken = spec.getAuth() == null || spec.getAuth().getMode() != AuthMode.None;
    if (needsToken) {
      token = t.getStatus().getTokenHash();
      if (token == null) {
        throw new IllegalStateException("waiting for the operator to publish the token's hash (status.tokenHash) with "
            + "Secret " + t.getMetadata().getNamespace() + "/" + TenantSecret.name(t));
      }
    }
    return new TenantSpec(dataplaneName(t), p.getPort(), lc ? TenantClass.LC : TenantClass.BE,
        lc && spec.getIops() != null ? spec.getIops() : 0, spec.getReadPercent() == null ? 100 : spec.getReadPercent(),
        lc && spec.getP95LatencyMicros() != null ? spec.getP95LatencyMicros() : 0, p.getLbaOffset(), p.getLbaCount(), token);
  }

  /** The tenant's name in the dataplane (metrics label, NBD export); see {@link TenantNames#dataplane}. */
  public static String dataplaneName(FlashTenant t) {
    return TenantNames.dataplane(t);
  }

  public static String key(FlashTenant t) {
    return t.getMetadata().getNamespace() + "/" + t.getMetadata().getName();
  }
}

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
    String token = null;
    boolean needsToken = spec.getAuth() == null || spec.getAuth().getMode() != AuthMode.None;
    if (needsToken) {
      token = t.getStatus().getTokenHash();
      if (token == null) {
        throw new IllegalStateException("waiting for the operator to publish the token's hash (status.tokenHash) with "
            + "Secret " + t.getMetadata().getNamespace() + "/" + TenantSecret.name(t));
      }
    }
    // The SLO the operator admitted, not the spec's: a raised spec the operator refused (ReadmitRefused) keeps the
    // previous reservation. A placement an older operator wrote records none; it is served from the spec, as it was
    // then, until the operator rewrites it (its first reconcile does).
    boolean admittedSlo = p.hasAdmittedSlo();
    var cls = admittedSlo ? p.getServiceClass() : spec.getServiceClass();
    boolean lc = cls == io.reflex.crds.v1alpha1.TenantClass.LC;
    long iops = !lc ? 0 : admittedSlo ? p.getIops() : orZero(spec.getIops());
    int readPercent = lc && admittedSlo ? p.getReadPercent() : spec.getReadPercent() == null ? 100 : spec.getReadPercent();
    long p95 = !lc ? 0 : admittedSlo ? p.getP95LatencyMicros() : orZero(spec.getP95LatencyMicros());
    return new TenantSpec(dataplaneName(t), p.getPort(), lc ? TenantClass.LC : TenantClass.BE, iops, readPercent, p95,
        p.getLbaOffset(), p.getLbaCount(), token);
  }

  private static long orZero(Number n) {
    return n == null ? 0 : n.longValue();
  }

  /** The tenant's name in the dataplane (metrics label, NBD export); see {@link TenantNames#dataplane}. */
  public static String dataplaneName(FlashTenant t) {
    return TenantNames.dataplane(t);
  }

  public static String key(FlashTenant t) {
    return t.getMetadata().getNamespace() + "/" + t.getMetadata().getName();
  }
}

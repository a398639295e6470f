package io.reflex.crds.access;

import io.fabric8.kubernetes.api.model.Secret;
import io.reflex.crds.v1alpha1.FlashTenant;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The Secret through which a placed tenant is reached: the operator writes it (endpoint, host, port, lbaCount,
 * capacityBytes, token), clients and the node agent read it. One definition of its name, label and token key for both.
 */
public final class TenantSecret {
  /** Label key and value on every object the operator writes for a tenant (how the agent watches only those). */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "reflex-operator";
  public static final String TOKEN_KEY = "token";

  private TenantSecret() {}

  /** {@code <tenant>-reflex}, in the tenant's namespace. */
  public static String name(FlashTenant t) {
    return t.getMetadata().getName() + "-reflex";
  }

  /** The access token a Secret holds, or null. */
  public static String token(Secret s) {
    return s == null || s.getData() == null || s.getData().get(TOKEN_KEY) == null ? null
        : new String(Base64.getDecoder().decode(s.getData().get(TOKEN_KEY)), StandardCharsets.UTF_8);
  }
}

package io.reflex.crds.access;

import io.fabric8.kubernetes.api.model.Secret;
import io.reflex.crds.v1alpha1.FlashTenant;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The Secret through which a placed tenant is reached: the operator writes it (endpoint, host, port, lbaCount,
 * capacityBytes, token, NBD keys) and clients read it; the node agent never does (it gets {@link #tokenHash}).
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

  /**
   * {@code sha256:<hex>} of a token: the operator publishes it in the FlashTenant's status and the node agent hands it
   * to the dataplane (which accepts a token's digest in place of the token), so agents need no access to Secrets.
   * Tokens are 256 random bits: the digest reveals nothing usable.
   */
  public static String tokenHash(String token) {
    if (token == null) return null;
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The access token a Secret holds, or null. */
  public static String token(Secret s) {
    return s == null || s.getData() == null || s.getData().get(TOKEN_KEY) == null ? null
        : new String(Base64.getDecoder().decode(s.getData().get(TOKEN_KEY)), StandardCharsets.UTF_8);
  }
}

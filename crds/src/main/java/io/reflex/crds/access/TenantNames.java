package io.reflex.crds.access;

import io.reflex.crds.v1alpha1.FlashTenant;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A tenant's name on its node's dataplane: the metrics label and the NBD export name. The agent names its rows with
 * it and the operator writes it into the tenant's Secret ({@code nbdExport}), so both must compute it the same way.
 */
public final class TenantNames {
  /** The dataplane's longest tenant name. */
  public static final int MAX = 63;

  private TenantNames() {}

  /**
   * "namespace.name", shortened with a hash when longer than {@link #MAX} characters, so it stays unique per node
   * (names are DNS labels or subdomains; the hash keeps two long names with the same prefix apart).
   */
  public static String dataplane(FlashTenant t) {
    String full = t.getMetadata().getNamespace() + "." + t.getMetadata().getName();
    if (full.length() <= MAX) return full;
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(full.getBytes(StandardCharsets.UTF_8));
      String prefix = full.substring(0, 54);
      while (!prefix.isEmpty() && !Character.isLetterOrDigit(prefix.charAt(prefix.length() - 1))) {
        prefix = prefix.substring(0, prefix.length() - 1);
      }
      return prefix + "-" + HexFormat.of().formatHex(h, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The NBD export name that opens the tenant: its dataplane name, plus ":TOKEN" when it has a token. */
  public static String nbdExport(FlashTenant t, String token) {
    return token == null ? dataplane(t) : dataplane(t) + ":" + token;
  }
}

package io.reflex.crds.v1alpha1;

/** Schema fragments shared by the model's annotations (compile-time constants). */
public final class Schemas {
  private Schemas() {}

  /** A label value (and a zone name): empty, or alphanumeric at both ends with -_. inside; at most 63. */
  public static final String LABEL_VALUE = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

  /**
   * A label key (optional DNS-subdomain prefix and '/', then a name), escaped for a CEL string literal:
   * CEL turns the doubled backslash back into one before the regex sees it.
   */
  public static final String LABEL_KEY_CEL =
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";

  /** A label key (optional DNS-subdomain prefix and '/', then a name), as a schema pattern. */
  public static final String LABEL_KEY =
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";

  /** A Kubernetes object name (DNS subdomain). */
  public static final String DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
}

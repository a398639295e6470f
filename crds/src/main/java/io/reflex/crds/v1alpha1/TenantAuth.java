package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** Authentication of a tenant's clients. */
public class TenantAuth {
  @Default("Token")
  @JsonPropertyDescription("Token (default): clients present the token from the tenant's Secret; None: no check")
  private AuthMode mode;

  public AuthMode getMode() { return mode; }
  public void setMode(AuthMode mode) { this.mode = mode; }
}

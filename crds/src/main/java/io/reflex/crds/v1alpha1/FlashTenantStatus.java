package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Observed state of a tenant: written by the operator (placement) and node agent (serving), via the status subresource. */
public class FlashTenantStatus {
  @JsonPropertyDescription("Pending, Placed, Serving or Rejected")
  private TenantPhase phase;

  @Min(0)
  @JsonPropertyDescription("the spec generation this status describes")
  private Long observedGeneration;

  @JsonPropertyDescription("where the tenant was placed")
  private TenantPlacement placement;

  @JsonPropertyDescription("host:port clients connect to (the tenant's Service)")
  private String endpoint;

  @JsonPropertyDescription("Secret in the tenant's namespace holding endpoint and token")
  private String secretName;

  @JsonPropertyDescription("sha256:<hex> of the access token in the Secret: what the node agent checks clients against, so it never reads the Secret (absent for tenants without a token)")
  private String tokenHash;

  @JsonPropertyDescription("standard conditions (Admitted, Placed, Serving), merged by type")
  private List<Condition> conditions;

  public TenantPhase getPhase() { return phase; }
  public void setPhase(TenantPhase phase) { this.phase = phase; }
  public Long getObservedGeneration() { return observedGeneration; }
  public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
  public TenantPlacement getPlacement() { return placement; }
  public void setPlacement(TenantPlacement placement) { this.placement = placement; }
  public String getEndpoint() { return endpoint; }
  public void setEndpoint(String endpoint) { this.endpoint = endpoint; }
  public String getSecretName() { return secretName; }
  public void setSecretName(String secretName) { this.secretName = secretName; }
  public String getTokenHash() { return tokenHash; }
  public void setTokenHash(String tokenHash) { this.tokenHash = tokenHash; }
  public List<Condition> getConditions() { return conditions; }
  public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
}

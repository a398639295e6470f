package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Where the operator placed a tenant and what it reserved there. */
public class TenantPlacement {
  @JsonPropertyDescription("name of the FlashDevice")
  private String device;

  @JsonPropertyDescription("node of the device")
  private String node;

  @Min(1)
  @Max(65535)
  @JsonPropertyDescription("TCP port the dataplane serves the tenant on")
  private Integer port;

  @Min(0)
  @JsonPropertyDescription("first 512-byte sector of the tenant's range on the device")
  private Long lbaOffset;

  @Min(1)
  @JsonPropertyDescription("512-byte sectors allocated to the tenant from lbaOffset (its capacity, rounded up)")
  private Long lbaCount;

  @Min(0)
  @JsonPropertyDescription("tokens per second reserved for the tenant (0 for BE)")
  private Long tokens;

  public String getDevice() { return device; }
  public void setDevice(String device) { this.device = device; }
  public String getNode() { return node; }
  public void setNode(String node) { this.node = node; }
  public Integer getPort() { return port; }
  public void setPort(Integer port) { this.port = port; }
  public Long getLbaOffset() { return lbaOffset; }
  public void setLbaOffset(Long lbaOffset) { this.lbaOffset = lbaOffset; }
  public Long getLbaCount() { return lbaCount; }
  public void setLbaCount(Long lbaCount) { this.lbaCount = lbaCount; }
  public Long getTokens() { return tokens; }
  public void setTokens(Long tokens) { this.tokens = tokens; }

  @Override
  public boolean equals(Object o) {
    return o instanceof TenantPlacement p && java.util.Objects.equals(device, p.device)
        && java.util.Objects.equals(node, p.node) && java.util.Objects.equals(port, p.port)
        && java.util.Objects.equals(lbaOffset, p.lbaOffset) && java.util.Objects.equals(lbaCount, p.lbaCount)
        && java.util.Objects.equals(tokens, p.tokens);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(device, node, port, lbaOffset, lbaCount, tokens);
  }
}

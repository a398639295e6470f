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

  // The SLO the reservation was admitted for. The node agent serves these, not the spec: a spec change the operator
  // refused (Admitted=False, ReadmitRefused) must not raise the tenant's reservation in the dataplane.
  @JsonPropertyDescription("service class the tenant was admitted as (LC or BE)")
  private TenantClass serviceClass;

  @Min(0)
  @JsonPropertyDescription("IOPS the reservation was admitted for (LC only)")
  private Long iops;

  @Min(0)
  @Max(100)
  @JsonPropertyDescription("read percentage the reservation was admitted for (LC only)")
  private Integer readPercent;

  @Min(0)
  @JsonPropertyDescription("p95 latency SLO in microseconds the reservation was admitted for (LC only)")
  private Integer p95LatencyMicros;

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
  public TenantClass getServiceClass() { return serviceClass; }
  public void setServiceClass(TenantClass serviceClass) { this.serviceClass = serviceClass; }
  public Long getIops() { return iops; }
  public void setIops(Long iops) { this.iops = iops; }
  public Integer getReadPercent() { return readPercent; }
  public void setReadPercent(Integer readPercent) { this.readPercent = readPercent; }
  public Integer getP95LatencyMicros() { return p95LatencyMicros; }
  public void setP95LatencyMicros(Integer p95LatencyMicros) { this.p95LatencyMicros = p95LatencyMicros; }

  /** Whether the admitted SLO is recorded (operators before it was added did not write it). */
  public boolean hasAdmittedSlo() {
    return serviceClass == TenantClass.BE
        || serviceClass == TenantClass.LC && iops != null && readPercent != null && p95LatencyMicros != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TenantPlacement p && java.util.Objects.equals(device, p.device)
        && java.util.Objects.equals(node, p.node) && java.util.Objects.equals(port, p.port)
        && java.util.Objects.equals(lbaOffset, p.lbaOffset) && java.util.Objects.equals(lbaCount, p.lbaCount)
        && java.util.Objects.equals(tokens, p.tokens) && serviceClass == p.serviceClass
        && java.util.Objects.equals(iops, p.iops) && java.util.Objects.equals(readPercent, p.readPercent)
        && java.util.Objects.equals(p95LatencyMicros, p.p95LatencyMicros);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(device, node, port, lbaOffset, lbaCount, tokens, serviceClass, iops, readPercent,
        p95LatencyMicros);
  }
}

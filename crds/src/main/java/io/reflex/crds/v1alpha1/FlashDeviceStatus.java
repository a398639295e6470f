package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Observed state of a flash device, written by its node agent through the status subresource. */
public class FlashDeviceStatus {
  @JsonPropertyDescription("Pending, Calibrating, Ready, Degraded or Unavailable")
  private DevicePhase phase;

  @Min(0)
  @JsonPropertyDescription("the spec generation this status describes")
  private Long observedGeneration;

  @Min(0)
  @JsonPropertyDescription("bytes the device serves")
  private Long capacityBytes;

  @Size(max = 64)
  @JsonPropertyDescription("token rate the device sustains at each p95 latency limit of its model")
  @ListMapKeys("p95Micros")
  private List<TokenLimit> tokenBudget;

  @Min(0)
  @JsonPropertyDescription("tokens per second reserved by the latency-critical tenants placed here")
  private Long reservedTokens;

  @Min(0)
  @Max(100)
  @JsonPropertyDescription("reservedTokens as a percentage of the budget in force (strictest LC SLO)")
  private Integer reservedPercent;

  @Min(0)
  @JsonPropertyDescription("bytes allocated to tenants")
  private Long allocatedBytes;

  @Min(0)
  @JsonPropertyDescription("tenants placed on the device")
  private Integer tenantCount;

  @Min(1)
  @Max(65535)
  @JsonPropertyDescription("TCP port of the device's NBD front-end on the node's address (every tenant on the device is an export); absent while it is not listening")
  private Integer nbdPort;

  @io.fabric8.generator.annotation.Pattern("^(tcp|udp)$")
  @JsonPropertyDescription("how clients reach the device's tenants (written by its node agent): tcp, kernel TCP on the "
      + "node's address; udp, ReFlex over UDP from the agent's DPDK port, at the device's reflex.io/node-address")
  private String transport;

  @JsonPropertyDescription("the model the node agent measured (device model 'calibrate', written by the agent): what "
      + "the operator prices tenants with; absent until the first calibration is complete, kept while a recalibration runs")
  private DeviceCalibration calibration;

  @JsonPropertyDescription("standard conditions (type Ready, ...), merged by type")
  private List<Condition> conditions;

  public DevicePhase getPhase() { return phase; }
  public void setPhase(DevicePhase phase) { this.phase = phase; }
  public Long getObservedGeneration() { return observedGeneration; }
  public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
  public Long getCapacityBytes() { return capacityBytes; }
  public void setCapacityBytes(Long capacityBytes) { this.capacityBytes = capacityBytes; }
  public List<TokenLimit> getTokenBudget() { return tokenBudget; }
  public void setTokenBudget(List<TokenLimit> tokenBudget) { this.tokenBudget = tokenBudget; }
  public Long getReservedTokens() { return reservedTokens; }
  public void setReservedTokens(Long reservedTokens) { this.reservedTokens = reservedTokens; }
  public Integer getReservedPercent() { return reservedPercent; }
  public void setReservedPercent(Integer reservedPercent) { this.reservedPercent = reservedPercent; }
  public Long getAllocatedBytes() { return allocatedBytes; }
  public void setAllocatedBytes(Long allocatedBytes) { this.allocatedBytes = allocatedBytes; }
  public Integer getTenantCount() { return tenantCount; }
  public void setTenantCount(Integer tenantCount) { this.tenantCount = tenantCount; }
  public Integer getNbdPort() { return nbdPort; }
  public void setNbdPort(Integer nbdPort) { this.nbdPort = nbdPort; }
  public String getTransport() { return transport; }
  public void setTransport(String transport) { this.transport = transport; }
  public DeviceCalibration getCalibration() { return calibration; }
  public void setCalibration(DeviceCalibration calibration) { this.calibration = calibration; }
  public List<Condition> getConditions() { return conditions; }
  public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
}

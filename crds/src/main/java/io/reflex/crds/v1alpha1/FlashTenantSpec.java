package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/** What a tenant asks for: a service class, an SLO, capacity, and where it may live. */
@ValidationRule(value = "self.class != 'LC' || has(self.p95LatencyMicros)",
    message = "latency-critical (LC) tenants need a latency SLO: set p95LatencyMicros", fieldPath = ".p95LatencyMicros",
    reason = "FieldValueRequired")
@ValidationRule(value = "self.class != 'BE' || !has(self.p95LatencyMicros)",
    message = "best-effort (BE) tenants have no latency SLO: remove p95LatencyMicros", fieldPath = ".p95LatencyMicros",
    reason = "FieldValueForbidden")
@ValidationRule(value = "self.class != 'LC' || has(self.iops)",
    message = "latency-critical (LC) tenants reserve throughput: set iops", fieldPath = ".iops",
    reason = "FieldValueRequired")
public class FlashTenantSpec {
  @Required
  @JsonProperty("class")
  @JsonPropertyDescription("LC (latency-critical: reserved iops at a p95 latency SLO) or BE (best-effort)")
  private TenantClass serviceClass;

  @Min(1)
  @Max(100_000_000)
  @JsonPropertyDescription("I/O operations per second (4 KiB): reserved for LC (required), a cap for BE (optional)")
  private Long iops;

  @Min(0)
  @Max(100)
  @Default("100")
  @JsonPropertyDescription("share of reads in the workload, 0-100 (default 100); prices the LC reservation")
  private Integer readPercent;

  @Min(50)
  @Max(1_000_000)
  @JsonPropertyDescription("p95 latency SLO in microseconds, 50-1000000 (LC only)")
  private Integer p95LatencyMicros;

  @Required
  @ValidationRule(value = "isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",
      message = "capacity must be a quantity greater than 0, e.g. 10Gi")
  @ValidationRule(value = "!isQuantity(string(self)) || !isQuantity(string(oldSelf)) || quantity(string(self)).compareTo(quantity(string(oldSelf))) >= 0",
      message = "capacity cannot shrink (the data beyond the new end would be lost)")
  @JsonPropertyDescription("size of the tenant's LBA space, e.g. 10Gi")
  private Quantity capacity;

  @JsonPropertyDescription("constraints on the node and device the tenant is placed on")
  private PlacementConstraints placement;

  @JsonPropertyDescription("how clients authenticate (default: token)")
  private TenantAuth auth;

  public TenantClass getServiceClass() { return serviceClass; }
  public void setServiceClass(TenantClass serviceClass) { this.serviceClass = serviceClass; }
  public Long getIops() { return iops; }
  public void setIops(Long iops) { this.iops = iops; }
  public Integer getReadPercent() { return readPercent; }
  public void setReadPercent(Integer readPercent) { this.readPercent = readPercent; }
  public Integer getP95LatencyMicros() { return p95LatencyMicros; }
  public void setP95LatencyMicros(Integer p95LatencyMicros) { this.p95LatencyMicros = p95LatencyMicros; }
  public Quantity getCapacity() { return capacity; }
  public void setCapacity(Quantity capacity) { this.capacity = capacity; }
  public PlacementConstraints getPlacement() { return placement; }
  public void setPlacement(PlacementConstraints placement) { this.placement = placement; }
  public TenantAuth getAuth() { return auth; }
  public void setAuth(TenantAuth auth) { this.auth = auth; }
}

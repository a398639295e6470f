package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** A device model given inline, in the format of devmodels/models/*.yaml. */
@ValidationRule(value = "(has(self.unlimited) && self.unlimited) || (has(self.tokenLimits) && size(self.tokenLimits) > 0)",
    message = "a limited device model needs at least one tokenLimits point", fieldPath = ".tokenLimits")
public class InlineDeviceModel {
  @Required
  @Min(1)
  @Max(1_000_000)
  @JsonPropertyDescription("tokens a 4 KiB read costs")
  private Integer readCost4k;

  @Required
  @Min(1)
  @Max(1_000_000)
  @JsonPropertyDescription("tokens a 4 KiB write costs")
  private Integer writeCost4k;

  @JsonPropertyDescription("no QoS limit: costs are accounted, the budget is unbounded")
  private Boolean unlimited;

  @Size(max = 64)
  @JsonPropertyDescription("p95 latency limit -> token rates, interpolated linearly")
  @ListMapKeys("p95Micros")
  private List<TokenLimit> tokenLimits;

  public Integer getReadCost4k() { return readCost4k; }
  public void setReadCost4k(Integer readCost4k) { this.readCost4k = readCost4k; }
  public Integer getWriteCost4k() { return writeCost4k; }
  public void setWriteCost4k(Integer writeCost4k) { this.writeCost4k = writeCost4k; }
  public Boolean getUnlimited() { return unlimited; }
  public void setUnlimited(Boolean unlimited) { this.unlimited = unlimited; }
  public List<TokenLimit> getTokenLimits() { return tokenLimits; }
  public void setTokenLimits(List<TokenLimit> tokenLimits) { this.tokenLimits = tokenLimits; }
}

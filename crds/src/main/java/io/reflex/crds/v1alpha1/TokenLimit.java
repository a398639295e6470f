package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/** One point of a device model: at this p95 latency limit the device sustains these token rates. */
public class TokenLimit {
  @Required
  @Min(1)
  @Max(10_000_000)
  @JsonPropertyDescription("p95 latency limit in microseconds; the list key")
  private Integer p95Micros;

  @Required
  @Min(0)
  @JsonPropertyDescription("tokens per second with mixed reads and writes")
  private Long mixedTokensPerSec;

  @Required
  @Min(0)
  @JsonPropertyDescription("tokens per second with reads only")
  private Long readOnlyTokensPerSec;

  public TokenLimit() {}

  public TokenLimit(int p95Micros, long mixedTokensPerSec, long readOnlyTokensPerSec) {
    this.p95Micros = p95Micros;
    this.mixedTokensPerSec = mixedTokensPerSec;
    this.readOnlyTokensPerSec = readOnlyTokensPerSec;
  }

  /** The API's points as the cost model's, sorted by p95 as the model requires; null: none. */
  public static List<io.reflex.devmodels.TokenLimit> toModel(List<TokenLimit> limits) {
    return limits == null ? List.of() : limits.stream().sorted(Comparator.comparing(TokenLimit::getP95Micros))
        .map(l -> new io.reflex.devmodels.TokenLimit(l.getP95Micros(), l.getMixedTokensPerSec(), l.getReadOnlyTokensPerSec()))
        .toList();
  }

  public Integer getP95Micros() { return p95Micros; }
  public void setP95Micros(Integer p95Micros) { this.p95Micros = p95Micros; }
  public Long getMixedTokensPerSec() { return mixedTokensPerSec; }
  public void setMixedTokensPerSec(Long mixedTokensPerSec) { this.mixedTokensPerSec = mixedTokensPerSec; }
  public Long getReadOnlyTokensPerSec() { return readOnlyTokensPerSec; }
  public void setReadOnlyTokensPerSec(Long readOnlyTokensPerSec) { this.readOnlyTokensPerSec = readOnlyTokensPerSec; }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenLimit t && Objects.equals(p95Micros, t.p95Micros)
        && Objects.equals(mixedTokensPerSec, t.mixedTokensPerSec)
        && Objects.equals(readOnlyTokensPerSec, t.readOnlyTokensPerSec);
  }

  @Override
  public int hashCode() {
    return Objects.hash(p95Micros, mixedTokensPerSec, readOnlyTokensPerSec);
  }
}

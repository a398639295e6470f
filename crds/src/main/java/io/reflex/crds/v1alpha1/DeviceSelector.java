package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/** Selects FlashDevices by their labels; the JSON shape of metav1.LabelSelector, with its rules in the schema. */
public class DeviceSelector {
  @Size(max = 16)
  @ItemSchema(maxLength = 63, pattern = Schemas.LABEL_VALUE)
  @ValidationRule(value = "self.all(k, size(k) <= 317 && k.matches('" + Schemas.LABEL_KEY_CEL + "'))",
      message = "keys must be label keys, e.g. reflex.io/tier")
  @JsonPropertyDescription("labels the device must have")
  private Map<String, String> matchLabels;

  @Size(max = 32)
  @JsonPropertyDescription("label requirements the device must meet (all of them)")
  private List<SelectorRequirement> matchExpressions;

  public Map<String, String> getMatchLabels() { return matchLabels; }
  public void setMatchLabels(Map<String, String> matchLabels) { this.matchLabels = matchLabels; }
  public List<SelectorRequirement> getMatchExpressions() { return matchExpressions; }
  public void setMatchExpressions(List<SelectorRequirement> matchExpressions) { this.matchExpressions = matchExpressions; }
}

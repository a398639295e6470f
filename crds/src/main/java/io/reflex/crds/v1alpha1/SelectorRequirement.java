package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** One requirement of a {@link DeviceSelector}; the JSON shape of metav1.LabelSelectorRequirement. */
@ValidationRule(value = "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
    message = "operators In and NotIn need values; Exists and DoesNotExist take none", fieldPath = ".values")
public class SelectorRequirement {
  @Required
  @Size(min = 1, max = 317)
  @Pattern(Schemas.LABEL_KEY)
  @JsonPropertyDescription("label key")
  private String key;

  @Required
  @JsonPropertyDescription("In, NotIn, Exists or DoesNotExist")
  private SelectorOperator operator;

  @Size(max = 64)
  @ItemSchema(maxLength = 63, pattern = Schemas.LABEL_VALUE)
  @JsonPropertyDescription("label values (In, NotIn)")
  private List<String> values;

  public SelectorRequirement() {}

  public SelectorRequirement(String key, SelectorOperator operator, List<String> values) {
    this.key = key;
    this.operator = operator;
    this.values = values;
  }

  public String getKey() { return key; }
  public void setKey(String key) { this.key = key; }
  public SelectorOperator getOperator() { return operator; }
  public void setOperator(SelectorOperator operator) { this.operator = operator; }
  public List<String> getValues() { return values; }
  public void setValues(List<String> values) { this.values = values; }
}

package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** Where a tenant may be placed; all given constraints must hold. */
public class PlacementConstraints {
  @Size(max = 16)
  @ItemSchema(maxLength = 63, pattern = Schemas.LABEL_VALUE)
  @ValidationRule(value = "self.all(k, size(k) <= 317 && k.matches('" + Schemas.LABEL_KEY_CEL + "'))",
      message = "keys must be label keys, e.g. reflex.io/tier")
  @JsonPropertyDescription("labels the device's node must have")
  private Map<String, String> nodeSelector;

  @Size(min = 1, max = 63)
  @Pattern(Schemas.LABEL_VALUE)
  @JsonPropertyDescription("value of the node's topology.kubernetes.io/zone label")
  private String zone;

  @JsonPropertyDescription("labels of the FlashDevice itself")
  private DeviceSelector deviceSelector;

  public Map<String, String> getNodeSelector() { return nodeSelector; }
  public void setNodeSelector(Map<String, String> nodeSelector) { this.nodeSelector = nodeSelector; }
  public String getZone() { return zone; }
  public void setZone(String zone) { this.zone = zone; }
  public DeviceSelector getDeviceSelector() { return deviceSelector; }
  public void setDeviceSelector(DeviceSelector deviceSelector) { this.deviceSelector = deviceSelector; }
}

package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Which cost model describes the device: a model shipped in devmodels/ by name, or one given inline. */
@ValidationRule(value = "has(self.name) != has(self.inline)", message = "set exactly one of name and inline")
public class DeviceModelRef {
  @Size(min = 1, max = 63)
  @Pattern("^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")
  @JsonPropertyDescription("name of a model in devmodels/ (e.g. sample, aws-i3, null), or 'calibrate' (reserved): the "
      + "node agent calibrates the device (writes to it) before it is offered and publishes the model in "
      + "status.calibration")
  private String name;

  @JsonPropertyDescription("a model given here instead of by name")
  private InlineDeviceModel inline;

  /** The reserved model name: the node agent measures the device and publishes its model (status.calibration). */
  public static final String CALIBRATE = "calibrate";

  public DeviceModelRef() {}

  /** Whether a device with this model reference is calibrated by its agent: no reference, or name {@link #CALIBRATE}. */
  public static boolean calibrates(DeviceModelRef ref) {
    return ref == null || (ref.getName() == null && ref.getInline() == null) || CALIBRATE.equals(ref.getName());
  }

  public static DeviceModelRef named(String name) {
    DeviceModelRef r = new DeviceModelRef();
    r.setName(name);
    return r;
  }

  public String getName() { return name; }
  public void setName(String name) { this.name = name; }
  public InlineDeviceModel getInline() { return inline; }
  public void setInline(InlineDeviceModel inline) { this.inline = inline; }
}

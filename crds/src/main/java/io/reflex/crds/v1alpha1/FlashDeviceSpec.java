package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/** Desired state of a flash device, written by the node agent that discovered it. */
@ValidationRule(value = "has(self.devicePath) || has(self.pciAddress) || self.engine == 'memory'",
    message = "set devicePath or pciAddress (only engine memory needs neither)", fieldPath = ".devicePath")
@ValidationRule(value = "!(has(self.devicePath) && has(self.pciAddress))",
    message = "set only one of devicePath and pciAddress", fieldPath = ".pciAddress")
@ValidationRule(value = "self.engine != 'spdk' || has(self.pciAddress)",
    message = "engine spdk drives the device from user space: pciAddress is required", fieldPath = ".pciAddress")
@ValidationRule(value = "!(self.engine in ['uring', 'file']) || has(self.devicePath)",
    message = "engines uring and file open a block device or file: devicePath is required", fieldPath = ".devicePath")
@ValidationRule(value = "self.engine != 'memory' || has(self.capacity)",
    message = "engine memory needs capacity (how much RAM to serve)", fieldPath = ".capacity")
public class FlashDeviceSpec {
  @Required
  @Size(min = 1, max = 253)
  @Pattern(Schemas.DNS_SUBDOMAIN)
  @JsonPropertyDescription("the node the device is attached to")
  private String nodeName;

  @Size(min = 2, max = 4096)
  @Pattern("^/.+")
  @JsonPropertyDescription("absolute path of the block device or file, e.g. /dev/nvme0n1 (engines uring, file)")
  private String devicePath;

  @Pattern("^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$")
  @JsonPropertyDescription("PCI address domain:bus:device.function, e.g. 0000:00:04.0 (engine spdk)")
  private String pciAddress;

  @Default("uring")
  @JsonPropertyDescription("storage engine: uring (default), file, memory, spdk")
  private Engine engine;

  @JsonPropertyDescription("cost model of the device; absent or name 'calibrate': its node agent measures the device "
      + "before it is offered and publishes the model in status.calibration")
  private DeviceModelRef deviceModel;

  @Default("Never")
  @JsonPropertyDescription("whether the agent may bind the device to a user-space driver: Never (default) or IfUnused")
  private ClaimPolicy claimPolicy;

  @ValidationRule(value = "isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",
      message = "capacity must be a quantity greater than 0, e.g. 64Gi")
  @JsonPropertyDescription("serve at most this much of the device (required for engine memory); default: all of it")
  private Quantity capacity;

  public String getNodeName() { return nodeName; }
  public void setNodeName(String nodeName) { this.nodeName = nodeName; }
  public String getDevicePath() { return devicePath; }
  public void setDevicePath(String devicePath) { this.devicePath = devicePath; }
  public String getPciAddress() { return pciAddress; }
  public void setPciAddress(String pciAddress) { this.pciAddress = pciAddress; }
  public Engine getEngine() { return engine; }
  public void setEngine(Engine engine) { this.engine = engine; }
  public DeviceModelRef getDeviceModel() { return deviceModel; }
  public void setDeviceModel(DeviceModelRef deviceModel) { this.deviceModel = deviceModel; }
  public ClaimPolicy getClaimPolicy() { return claimPolicy; }
  public void setClaimPolicy(ClaimPolicy claimPolicy) { this.claimPolicy = claimPolicy; }
  public Quantity getCapacity() { return capacity; }
  public void setCapacity(Quantity capacity) { this.capacity = capacity; }
}

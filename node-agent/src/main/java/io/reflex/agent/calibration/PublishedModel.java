package io.reflex.agent.calibration;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import java.util.Objects;

/**
 * A calibrated model and the device it was measured on: what the ConfigMap holds (and the agent's state directory,
 * until it is published).
 *
 * @param device           FlashDevice name
 * @param path             block device or file (null for a PCI function)
 * @param pciAddress       PCI function, or null
 * @param identity         the device's identity when measured (file dev:inode, block WWID/serial, PCI), or null
 * @param capacityBytes    the device's size when measured (bytes served), or null
 * @param engine           uring or file
 * @param calibratedAt     RFC 3339
 * @param driver           what measured (the load driver's description), or null
 * @param recalibrateToken the reflex.io/recalibrate value it answers, or null
 * @param yaml             the model (devmodels format)
 */
public record PublishedModel(String device, String path, String pciAddress, String identity, Long capacityBytes,
                             String engine, String calibratedAt, String driver, String recalibrateToken, String yaml) {
  /** The parsed model; IllegalArgumentException when the YAML is not a valid model. */
  public DeviceModel model() {
    return DeviceModels.parse(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8), "calibrated model of " + device);
  }

  /**
   * Why this model does not describe the device as it is now (another device behind the path, or another size), or
   * null when it does. Unknown facts on either side do not count against it.
   */
  public String mismatch(String nowPath, String nowPci, String nowIdentity, Long nowCapacity) {
    if (path != null && nowPath != null && !path.equals(nowPath)) return "it was measured on " + path + ", the device is " + nowPath;
    if (pciAddress != null && nowPci != null && !pciAddress.equals(nowPci)) {
      return "it was measured on " + pciAddress + ", the device is " + nowPci;
    }
    if (identity != null && nowIdentity != null && !identity.equals(nowIdentity)) {
      return "it was measured on device " + identity + ", this is " + nowIdentity;
    }
    if (capacityBytes != null && nowCapacity != null && !Objects.equals(capacityBytes, nowCapacity)) {
      return "it was measured with " + capacityBytes + " bytes, the device now has " + nowCapacity;
    }
    return null;
  }

  public PublishedModel withToken(String token) {
    return new PublishedModel(device, path, pciAddress, identity, capacityBytes, engine, calibratedAt, driver, token, yaml);
  }
}

package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;
import java.util.Objects;

/**
 * The model a node agent measured for a device whose model is {@code calibrate} (FlashDevice status.calibration,
 * written by the agent). The operator prices tenants with readCost4k, writeCost4k and tokenLimits; the full model
 * (points measured, method) is model.yaml in the ConfigMap named here, in the agent's namespace.
 */
public class DeviceCalibration {
  @Required
  @Size(min = 1, max = 253)
  @JsonPropertyDescription("ConfigMap in the agent's namespace whose data model.yaml is the calibrated model (devmodels format)")
  private String configMap;

  @Size(min = 1, max = 63)
  @JsonPropertyDescription("namespace of the ConfigMap (the node agent's)")
  private String namespace;

  @Required
  @Size(max = 64)
  @JsonPropertyDescription("when the calibration finished (RFC 3339)")
  private String calibratedAt;

  @Required
  @Min(1)
  @JsonPropertyDescription("tokens per 4 KiB read")
  private Long readCost4k;

  @Required
  @Min(1)
  @JsonPropertyDescription("tokens per 4 KiB write (the measured write cost relative to a read)")
  private Long writeCost4k;

  @Required
  @Size(min = 1, max = 64)
  @ListMapKeys("p95Micros")
  @JsonPropertyDescription("token rate the device sustains at each p95 latency limit, as measured")
  private List<TokenLimit> tokenLimits;

  @Size(max = 1024)
  @JsonPropertyDescription("what the calibrator measured through, e.g. io_uring O_DIRECT on /dev/nvme0n1, 64 GiB span")
  private String driver;

  @Min(0)
  @JsonPropertyDescription("bytes of the device the calibration covered (also its capacity when it was measured)")
  private Long capacityBytes;

  @Size(max = 512)
  @JsonPropertyDescription("the device's identity when it was measured (file dev:inode, block WWID/serial, PCI address)")
  private String deviceIdentity;

  @Size(max = 253)
  @JsonPropertyDescription("the reflex.io/recalibrate annotation value this model answers (a request is handled once)")
  private String recalibrateToken;

  public String getConfigMap() { return configMap; }
  public void setConfigMap(String configMap) { this.configMap = configMap; }
  public String getNamespace() { return namespace; }
  public void setNamespace(String namespace) { this.namespace = namespace; }
  public String getCalibratedAt() { return calibratedAt; }
  public void setCalibratedAt(String calibratedAt) { this.calibratedAt = calibratedAt; }
  public Long getReadCost4k() { return readCost4k; }
  public void setReadCost4k(Long readCost4k) { this.readCost4k = readCost4k; }
  public Long getWriteCost4k() { return writeCost4k; }
  public void setWriteCost4k(Long writeCost4k) { this.writeCost4k = writeCost4k; }
  public List<TokenLimit> getTokenLimits() { return tokenLimits; }
  public void setTokenLimits(List<TokenLimit> tokenLimits) { this.tokenLimits = tokenLimits; }
  public String getDriver() { return driver; }
  public void setDriver(String driver) { this.driver = driver; }
  public Long getCapacityBytes() { return capacityBytes; }
  public void setCapacityBytes(Long capacityBytes) { this.capacityBytes = capacityBytes; }
  public String getDeviceIdentity() { return deviceIdentity; }
  public void setDeviceIdentity(String deviceIdentity) { this.deviceIdentity = deviceIdentity; }
  public String getRecalibrateToken() { return recalibrateToken; }
  public void setRecalibrateToken(String recalibrateToken) { this.recalibrateToken = recalibrateToken; }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeviceCalibration c && Objects.equals(configMap, c.configMap) && Objects.equals(namespace, c.namespace)
        && Objects.equals(calibratedAt, c.calibratedAt) && Objects.equals(readCost4k, c.readCost4k)
        && Objects.equals(writeCost4k, c.writeCost4k) && Objects.equals(tokenLimits, c.tokenLimits)
        && Objects.equals(driver, c.driver) && Objects.equals(capacityBytes, c.capacityBytes)
        && Objects.equals(deviceIdentity, c.deviceIdentity) && Objects.equals(recalibrateToken, c.recalibrateToken);
  }

  @Override
  public int hashCode() {
    return Objects.hash(configMap, calibratedAt, readCost4k, writeCost4k, tokenLimits);
  }
}

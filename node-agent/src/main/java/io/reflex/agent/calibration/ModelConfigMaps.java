package io.reflex.agent.calibration;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.crds.v1alpha1.FlashDevice;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ConfigMap a calibrated model is published in: {@code reflex-model-DEVICE} in the agent's namespace, labels
 * {@code reflex.io/device} and {@code reflex.io/node} (what the chart's node restriction checks), data
 * {@code model.yaml} (the calibrator's model, points and method in comments), annotations with the device's
 * identity (path or PCI address, identity, capacity) and when it was measured, so that a restarted agent reuses it
 * only for the same device. Written by server-side apply under the agent's field manager.
 */
public class ModelConfigMaps {
  public static final String PREFIX = "reflex-model-";
  public static final String DATA_KEY = "model.yaml";
  public static final String DEVICE_LABEL = FlashDevice.GROUP + "/device";
  public static final String NODE_LABEL = FlashDevice.GROUP + "/node";
  public static final String A_DEVICE = FlashDevice.GROUP + "/device";
  public static final String A_PATH = FlashDevice.GROUP + "/device-path";
  public static final String A_PCI = FlashDevice.GROUP + "/pci-address";
  public static final String A_IDENTITY = FlashDevice.GROUP + "/device-identity";
  public static final String A_CAPACITY = FlashDevice.GROUP + "/capacity-bytes";
  public static final String A_ENGINE = FlashDevice.GROUP + "/engine";
  public static final String A_CALIBRATED_AT = FlashDevice.GROUP + "/calibrated-at";
  public static final String A_DRIVER = FlashDevice.GROUP + "/calibration-driver";
  public static final String A_TOKEN = FlashDevice.GROUP + "/recalibrate-token";

  private final KubernetesClient client;
  private final String namespace;
  private final String node;
  private final String fieldManager;

  public ModelConfigMaps(KubernetesClient client, String namespace, String node, String fieldManager) {
    this.client = client;
    this.namespace = namespace;
    this.node = node;
    this.fieldManager = fieldManager;
  }

  public String namespace() {
    return namespace;
  }

  /** The ConfigMap's name for a device: reflex-model-DEVICE (shortened with a hash past 253 characters). */
  public static String name(String device) {
    String n = PREFIX + device;
    return n.length() <= 253 ? n : n.substring(0, 240).replaceAll("[^a-z0-9]+$", "") + "-" + hash(device);
  }

  /** A label value for a name (at most 63 characters: shortened with a hash). */
  public static String labelValue(String v) {
    return v.length() <= 63 ? v : v.substring(0, 50).replaceAll("[^a-zA-Z0-9]+$", "") + "-" + hash(v);
  }

  private static String hash(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)), 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The device's ConfigMap, or null when there is none (other API errors are thrown). */
  public ConfigMap get(String device) {
    return client.configMaps().inNamespace(namespace).withName(name(device)).get();
  }

  /** Creates or replaces the device's ConfigMap with this model. */
  public ConfigMap apply(PublishedModel m) {
    Map<String, String> ann = new LinkedHashMap<>();
    ann.put(A_DEVICE, m.device());
    if (m.path() != null) ann.put(A_PATH, m.path());
    if (m.pciAddress() != null) ann.put(A_PCI, m.pciAddress());
    if (m.identity() != null) ann.put(A_IDENTITY, m.identity());
    if (m.capacityBytes() != null) ann.put(A_CAPACITY, Long.toString(m.capacityBytes()));
    if (m.engine() != null) ann.put(A_ENGINE, m.engine());
    ann.put(A_CALIBRATED_AT, m.calibratedAt());
    if (m.driver() != null) ann.put(A_DRIVER, m.driver());
    if (m.recalibrateToken() != null) ann.put(A_TOKEN, m.recalibrateToken());
    ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName(name(m.device())).withNamespace(namespace)
        .withLabels(Map.of(DEVICE_LABEL, labelValue(m.device()), NODE_LABEL, labelValue(node),
            "app.kubernetes.io/managed-by", "reflex-node-agent", "app.kubernetes.io/component", "device-model"))
        .withAnnotations(ann).endMetadata().withData(Map.of(DATA_KEY, m.yaml())).build();
    return client.resource(cm).fieldManager(fieldManager).forceConflicts().serverSideApply();
  }

  /** What a ConfigMap says, or null when it is not one of ours (no model.yaml or no device annotation). */
  public static PublishedModel read(ConfigMap cm) {
    if (cm == null || cm.getData() == null || cm.getData().get(DATA_KEY) == null) return null;
    Map<String, String> a = cm.getMetadata().getAnnotations() == null ? Map.of() : cm.getMetadata().getAnnotations();
    if (a.get(A_DEVICE) == null || a.get(A_CALIBRATED_AT) == null) return null;
    Long capacity = null;
    try {
      if (a.get(A_CAPACITY) != null) capacity = Long.parseLong(a.get(A_CAPACITY));
    } catch (NumberFormatException e) {
      return null;
    }
    return new PublishedModel(a.get(A_DEVICE), a.get(A_PATH), a.get(A_PCI), a.get(A_IDENTITY), capacity, a.get(A_ENGINE),
        a.get(A_CALIBRATED_AT), a.get(A_DRIVER), a.get(A_TOKEN), cm.getData().get(DATA_KEY));
  }
}

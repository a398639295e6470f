package io.reflex.agent.calibration;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.reflex.agent.serving.ManagedDevice;
import io.reflex.agent.state.AtomicJson;
import io.reflex.crds.v1alpha1.DeviceCalibration;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.calibration.Calibration;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Where calibrated models are kept and found again. A model, once complete, is saved in the state directory first (so
 * nothing measured is lost), then published in a ConfigMap ({@link ModelConfigMaps}) and in the FlashDevice's
 * status.calibration (the operator prices tenants from the latter). After a restart the model is taken from the
 * ConfigMap, the status or the state directory (the newest that was measured on this very device: same path,
 * identity and size), so nothing is measured twice. Control thread only.
 */
final class PublishedModels {
  private static final Logger LOG = Logger.getLogger(PublishedModels.class.getName());

  /** One device's model in force and how far it is published. */
  static final class InForce {
    private PublishedModel published;
    /** published is what the ConfigMap holds. */
    private boolean inConfigMap;
    private String configMapProblem;
    private boolean looked;
    /** Which model the model file was last written for (so it is rewritten only when the model changes). */
    private String modelFileFor;

    /** The model in force, or null. */
    PublishedModel published() {
      return published;
    }

    /** Whether the published models were looked up (else the next pass looks). */
    boolean looked() {
      return looked;
    }

    /** Whether the ConfigMap holds the model in force. */
    boolean inConfigMap() {
      return inConfigMap;
    }

    /** Why the last ConfigMap write failed, or null. */
    String configMapProblem() {
      return configMapProblem;
    }
  }

  private final ModelConfigMaps configMaps;
  private final Path stateDir;
  private final Map<String, String> logged = new HashMap<>();

  PublishedModels(ModelConfigMaps configMaps, Path stateDir) {
    this.configMaps = configMaps;
    this.stateDir = stateDir;
  }

  /** namespace/name of the device's ConfigMap, for messages. */
  String configMap(String device) {
    return configMaps.namespace() + "/" + ModelConfigMaps.name(device);
  }

  /**
   * After a (re)start: the newest model measured on this very device, from the ConfigMap, the FlashDevice's status
   * or the state directory. A ConfigMap the API server cannot give now is looked up again next pass.
   */
  void lookup(InForce m, ManagedDevice d, FlashDevice fd, String identity, Long capacity) {
    List<PublishedModel> found = new ArrayList<>();
    PublishedModel fromConfigMap = null;
    boolean complete = true;
    try {
      ConfigMap cm = configMaps.get(d.name());
      PublishedModel p = ModelConfigMaps.read(cm);
      if (cm != null && p == null) {
        logOnce(d.name() + "/cm-read", "device " + d.name() + ": ConfigMap " + cm.getMetadata().getName()
            + " holds no calibrated model (no model.yaml or annotations); it is replaced after calibration");
      }
      if (usable(p, d, identity, capacity, "ConfigMap " + ModelConfigMaps.name(d.name()))) {
        found.add(p);
        fromConfigMap = p;
      }
    } catch (KubernetesClientException e) {
      complete = false;
      logOnce(d.name() + "/cm-get", "device " + d.name() + ": cannot read ConfigMap " + configMap(d.name())
          + " (retried): " + e.getMessage());
    }
    DeviceCalibration s = fd == null || fd.getStatus() == null ? null : fd.getStatus().getCalibration();
    if (s != null) {
      PublishedModel p = fromStatus(d, s);
      if (usable(p, d, identity, capacity, "status.calibration")) found.add(p);
    }
    PublishedModel local = readLocal(d.name());
    if (usable(local, d, identity, capacity, "the state directory's model")) found.add(local);
    PublishedModel best = null;
    for (PublishedModel p : found) if (best == null || at(p).isAfter(at(best))) best = p;
    if (best != null) {
      m.published = best;
      m.inConfigMap = best == fromConfigMap;
      LOG.info("device " + d.name() + ": reusing the model calibrated " + best.calibratedAt() + " ("
          + (best == fromConfigMap ? "ConfigMap" : best == local ? "state directory" : "FlashDevice status") + ")");
    }
    m.looked = complete || best != null;
  }

  /** The model of a finished calibration, to {@link #adopt}. */
  static PublishedModel measured(ManagedDevice d, Calibration c, String identity, Long capacity, String token) {
    String yaml = c.yaml();
    try {
      DeviceModels.parse(yaml.getBytes(StandardCharsets.UTF_8), "calibration");
    } catch (RuntimeException e) {
      LOG.warning("device " + d.name() + ": the calibrator's YAML does not parse (" + e.getMessage()
          + "); publishing the fitted model without its comments");
      yaml = DeviceModels.toYaml(c.model());
    }
    String at = (c.at() == null ? Instant.now() : c.at()).truncatedTo(ChronoUnit.SECONDS).toString();
    return new PublishedModel(d.name(), d.path(), d.pciAddress(), identity, capacity, CalibrationTexts.engine(d.engine()),
        at, c.driver(), token, yaml);
  }

  /** A new model in force: saved in the state directory now, published by the next {@link #publish}. */
  void adopt(InForce m, PublishedModel p) {
    try {
      saveLocal(p);
    } catch (IOException e) {
      LOG.warning("device " + p.device() + ": cannot save the calibrated model in " + stateDir + ": " + e.getMessage());
    }
    m.published = p;
    m.inConfigMap = false;
  }

  /** Writes the model in force to its ConfigMap unless it is there; a failure is retried on the next call. */
  void publish(InForce m, ManagedDevice d) {
    if (m.inConfigMap) return;
    try {
      configMaps.apply(m.published);
      m.inConfigMap = true;
      m.configMapProblem = null;
      LOG.info("device " + d.name() + ": calibrated model published in ConfigMap " + configMap(d.name()));
    } catch (RuntimeException e) {
      m.configMapProblem = e.getMessage();
      logOnce(d.name() + "/cm", "device " + d.name() + ": cannot write ConfigMap " + configMap(d.name())
          + " (retried each pass): " + e.getMessage());
    }
  }

  /** The model file the dataplane reads: STATE/models/DEVICE.calibrated.yaml, rewritten when the model changes. */
  Path modelFile(InForce m, ManagedDevice d) throws IOException {
    Path file = stateDir.resolve("models").resolve(d.name() + ".calibrated.yaml");
    String key = m.published.calibratedAt() + "|" + m.published.yaml().hashCode();
    if (key.equals(m.modelFileFor) && Files.exists(file)) return file;
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, m.published.yaml());
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    m.modelFileFor = key;
    return file;
  }

  /** status.calibration for the model in force, or null. */
  DeviceCalibration status(InForce m) {
    PublishedModel p = m.published;
    if (p == null) return null;
    DeviceModel model;
    try {
      model = p.model();
    } catch (RuntimeException e) {
      return null;
    }
    DeviceCalibration c = new DeviceCalibration();
    c.setConfigMap(ModelConfigMaps.name(p.device()));
    c.setNamespace(configMaps.namespace());
    c.setCalibratedAt(p.calibratedAt());
    c.setReadCost4k(model.readCost4k());
    c.setWriteCost4k(model.writeCost4k());
    c.setTokenLimits(model.tokenLimits().stream().map(l -> new io.reflex.crds.v1alpha1.TokenLimit((int) l.p95Micros(),
        (long) l.mixedTokensPerSec(), (long) l.readOnlyTokensPerSec())).toList());
    c.setDriver(p.driver() == null ? null : p.driver().length() <= 1024 ? p.driver() : p.driver().substring(0, 1024));
    c.setCapacityBytes(p.capacityBytes());
    c.setDeviceIdentity(p.identity());
    c.setRecalibrateToken(p.recalibrateToken());
    return c;
  }

  private boolean usable(PublishedModel p, ManagedDevice d, String identity, Long capacity, String where) {
    if (p == null) return false;
    String why = p.mismatch(d.path(), d.pciAddress(), identity, capacity);
    if (why == null) {
      try {
        p.model();
        at(p);
        return true;
      } catch (RuntimeException e) {
        why = "it is not a valid model: " + e.getMessage();
      }
    }
    logOnce(d.name() + "/" + where, "device " + d.name() + ": not reusing " + where + ": " + why + "; calibrating again");
    return false;
  }

  private static Instant at(PublishedModel p) {
    return Instant.parse(p.calibratedAt());
  }

  /** A model rebuilt from status.calibration (its ConfigMap lost): the token rates and costs, without the points. */
  private static PublishedModel fromStatus(ManagedDevice d, DeviceCalibration s) {
    try {
      List<io.reflex.devmodels.TokenLimit> limits = io.reflex.crds.v1alpha1.TokenLimit.toModel(s.getTokenLimits());
      DeviceModel m = new DeviceModel(d.name(), "calibrated " + s.getCalibratedAt() + " (restored from FlashDevice "
          + d.name() + " status.calibration; the measured points were in its lost ConfigMap)", s.getReadCost4k(),
          s.getWriteCost4k(), false, limits);
      return new PublishedModel(d.name(), d.path(), d.pciAddress(), s.getDeviceIdentity(), s.getCapacityBytes(),
          CalibrationTexts.engine(d.engine()), s.getCalibratedAt(), s.getDriver(), s.getRecalibrateToken(),
          DeviceModels.toYaml(m));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private Path localFile(String device) {
    return stateDir.resolve("calibrations").resolve(device + ".json");
  }

  private void saveLocal(PublishedModel p) throws IOException {
    Files.createDirectories(localFile(p.device()).getParent());
    AtomicJson.write(localFile(p.device()), p);
  }

  private PublishedModel readLocal(String device) {
    Path f = localFile(device);
    if (!Files.exists(f)) return null;
    try {
      return AtomicJson.JSON.readValue(f.toFile(), PublishedModel.class);
    } catch (IOException e) {
      logOnce(device + "/local", "device " + device + ": cannot read " + f + ": " + e.getMessage());
      return null;
    }
  }

  /** Warns once per key and message: lookups and publications repeat every pass. */
  private void logOnce(String key, String message) {
    if (!message.equals(logged.put(key, message))) LOG.warning(message);
  }
}

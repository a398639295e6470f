package io.reflex.agent.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.reflex.agent.serving.ManagedDevice;
import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashDeviceStatus;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TokenLimit;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationException;
import io.reflex.devmodels.calibration.CalibrationListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The calibration state machine of one device, without an API server (ConfigMaps in a map). */
class DeviceCalibrationsTest {
  @TempDir
  Path dir;

  /** ConfigMaps in memory, as the API server would keep them. */
  static final class Maps extends ModelConfigMaps {
    final Map<String, ConfigMap> store = new HashMap<>();
    int applies;

    Maps() {
      super(null, "ns", "node-a", "test");
    }

    @Override
    public ConfigMap get(String device) {
      return store.get(name(device));
    }

    @Override
    public ConfigMap apply(PublishedModel m) {
      applies++;
      Map<String, String> a = new HashMap<>();
      a.put(A_DEVICE, m.device());
      if (m.path() != null) a.put(A_PATH, m.path());
      if (m.identity() != null) a.put(A_IDENTITY, m.identity());
      if (m.capacityBytes() != null) a.put(A_CAPACITY, Long.toString(m.capacityBytes()));
      a.put(A_CALIBRATED_AT, m.calibratedAt());
      if (m.recalibrateToken() != null) a.put(A_TOKEN, m.recalibrateToken());
      ConfigMap cm = new ConfigMap();
      cm.setMetadata(new ObjectMetaBuilder().withName(name(m.device())).withAnnotations(a).build());
      cm.setData(Map.of(DATA_KEY, m.yaml()));
      store.put(name(m.device()), cm);
      return cm;
    }
  }

  /** Blocks until released; fails while {@link #fail} is set; counts runs. */
  static final class Runner implements CalibrationRunner {
    final AtomicInteger runs = new AtomicInteger();
    volatile CountDownLatch release = new CountDownLatch(1);
    volatile String fail;
    volatile boolean interrupted;

    @Override
    public Calibration run(Target t, CalibrationListener l) throws IOException, CalibrationException {
      int n = runs.incrementAndGet();
      l.progress(0.25, Duration.ofSeconds(90), "step one");
      try {
        release.await();
      } catch (InterruptedException e) {
        interrupted = true;
        throw new InterruptedIOException("interrupted");
      }
      if (fail != null) throw new CalibrationException(fail);
      DeviceModel m = new DeviceModel(t.device(), "run " + n, 100, 600 + n, false,
          List.of(new TokenLimit(500, 1_000_000, 2_000_000), new TokenLimit(1000, 2_000_000, 4_000_000)));
      return new Calibration(m, "# run " + n + "\n" + DeviceModels.toYaml(m), List.of(), List.of(), 6, "test", "test driver",
          Instant.now().plusSeconds(n)); // distinct times
    }
  }

  final Maps maps = new Maps();
  final Runner runner = new Runner();
  final AtomicInteger passes = new AtomicInteger();
  final ManagedDevice dev = new ManagedDevice("node-a-d", "/dev/fake", null, Engine.FILE, ManagedDevice.CALIBRATE,
      ClaimPolicy.Never, 0, true, 0);
  final AtomicInteger stops = new AtomicInteger();

  final List<String> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();

  DeviceCalibrations cal() {
    DeviceCalibrations c = new DeviceCalibrations(runner, maps, dir, "node-a", true, passes::incrementAndGet);
    c.onOutcome(outcomes::add);
    return c;
  }

  DeviceCalibrations.Verdict decide(DeviceCalibrations c, FlashDevice fd, List<String> tenants) {
    return c.decide(dev, fd, "file:1:2", 1L << 30, tenants, stops::incrementAndGet);
  }

  static FlashDevice fd(Map<String, String> annotations) {
    FlashDevice d = new FlashDevice();
    d.setMetadata(new ObjectMetaBuilder().withName("node-a-d").withAnnotations(annotations).build());
    return d;
  }

  DeviceCalibrations.Verdict untilDone(DeviceCalibrations c, FlashDevice fd, List<String> tenants) {
    return await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> decide(c, fd, tenants),
        v -> v.mode() != DeviceCalibrations.Mode.CALIBRATING);
  }

  @Test
  void calibratesOnceThenServesWithThePublishedModel() throws Exception {
    try (DeviceCalibrations c = cal()) {
      var v = decide(c, fd(Map.of()), List.of());
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.CALIBRATING);
      assertThat(v.status()).isNull();
      assertThat(stops).hasValue(1); // not served while measured
      await().until(() -> decide(c, fd(Map.of()), List.of()).message().contains("25% done, about 1m 30s left; now step one"));
      runner.release.countDown();
      v = untilDone(c, fd(Map.of()), List.of());
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.SERVE);
      assertThat(v.reason()).isEqualTo("Calibrated");
      assertThat(v.message()).contains("budget 2.0M tokens/s at p95 1 ms (mixed), 4.0M read-only").contains("ns/reflex-model-node-a-d");
      assertThat(v.status().getWriteCost4k()).isEqualTo(601);
      assertThat(v.status().getConfigMap()).isEqualTo("reflex-model-node-a-d");
      assertThat(v.status().getDeviceIdentity()).isEqualTo("file:1:2");
      assertThat(DeviceModels.load(Path.of(v.modelFile())).writeCost4k()).isEqualTo(601);
      assertThat(maps.store).containsKey("reflex-model-node-a-d");
      assertThat(Files.exists(dir.resolve("calibrations/node-a-d.json"))).isTrue();
      // Further passes: no new calibration, no new ConfigMap write.
      decide(c, fd(Map.of()), List.of());
      assertThat(runner.runs).hasValue(1);
      assertThat(maps.applies).isEqualTo(1);
      assertThat(outcomes).containsExactly("calibrated");
      assertThat(c.running()).isZero();
      assertThat(passes.get()).as("progress and the end asked for passes").isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void neverStartsOnADeviceWithTenantsUnlessAskedTwice() {
    try (DeviceCalibrations c = cal()) {
      var v = decide(c, fd(Map.of()), List.of("app/db"));
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.UNAVAILABLE);
      assertThat(v.reason()).isEqualTo("Refused");
      assertThat(v.message()).contains("app/db").contains("reflex.io/recalibrate").contains("reflex.io/calibration-overwrites-data");
      FlashDevice counted = fd(Map.of("reflex.io/recalibrate", "x")); // the operator's count counts too
      counted.setStatus(new FlashDeviceStatus());
      counted.getStatus().setTenantCount(2);
      assertThat(decide(c, counted, List.of()).reason()).isEqualTo("Refused");
      assertThat(runner.runs).hasValue(0);
      v = decide(c, fd(Map.of("reflex.io/recalibrate", "x", "reflex.io/calibration-overwrites-data", "true")), List.of("app/db"));
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.CALIBRATING);
    }
  }

  @Test
  void aRecalibrationIsRefusedWithTenantsKeepsTheOldModelMeanwhileAndIsHandledOncePerToken() {
    try (DeviceCalibrations c = cal()) {
      decide(c, fd(Map.of()), List.of());
      runner.release.countDown();
      var first = untilDone(c, fd(Map.of()), List.of()).status();

      var v = decide(c, fd(Map.of("reflex.io/recalibrate", "r1")), List.of("app/db"));
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.SERVE);
      assertThat(v.ok()).isTrue();
      assertThat(v.reason()).isEqualTo("RecalibrationRefused");
      assertThat(v.message()).contains("'r1' refused").contains("app/db");

      runner.release = new CountDownLatch(1);
      FlashDevice asked = fd(Map.of("reflex.io/recalibrate", "r1", "reflex.io/calibration-overwrites-data", "true"));
      v = decide(c, asked, List.of("app/db"));
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.CALIBRATING);
      assertThat(v.status()).isEqualTo(first); // the old model stays published
      assertThat(maps.store.get("reflex-model-node-a-d").getMetadata().getAnnotations())
          .containsEntry(ModelConfigMaps.A_CALIBRATED_AT, first.getCalibratedAt());
      runner.release.countDown();
      v = untilDone(c, asked, List.of("app/db"));
      assertThat(v.status().getRecalibrateToken()).isEqualTo("r1");
      assertThat(v.status().getWriteCost4k()).isEqualTo(602);
      assertThat(maps.store.get("reflex-model-node-a-d").getMetadata().getAnnotations())
          .containsEntry(ModelConfigMaps.A_TOKEN, "r1");
      decide(c, asked, List.of("app/db"));
      assertThat(runner.runs).hasValue(2); // r1 handled once
    }
  }

  @Test
  void aTenantPlacedDuringACalibrationCancelsItAndAWithdrawnRequestServesTheOldModel() {
    try (DeviceCalibrations c = cal()) {
      decide(c, fd(Map.of()), List.of());
      runner.release.countDown();
      untilDone(c, fd(Map.of()), List.of());
      runner.release = new CountDownLatch(1);
      FlashDevice asked = fd(Map.of("reflex.io/recalibrate", "r1"));
      assertThat(decide(c, asked, List.of()).mode()).isEqualTo(DeviceCalibrations.Mode.CALIBRATING);
      await().until(() -> runner.runs.get() == 2); // running, not just submitted: a task cancelled before it starts never sees the interrupt
      var v = decide(c, asked, List.of("app/late"));
      assertThat(v.message()).contains("stopping the calibration").contains("app/late");
      v = untilDone(c, asked, List.of("app/late"));
      assertThat(runner.interrupted).isTrue();
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.SERVE);
      assertThat(v.reason()).isEqualTo("RecalibrationRefused");
      assertThat(v.status().getRecalibrateToken()).isNull();

      runner.interrupted = false;
      assertThat(decide(c, fd(Map.of("reflex.io/recalibrate", "r2")), List.of()).mode()).isEqualTo(DeviceCalibrations.Mode.CALIBRATING);
      await().until(() -> runner.runs.get() == 3);
      v = untilDone(c, fd(Map.of()), List.of()); // annotation removed
      assertThat(runner.interrupted).isTrue();
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.SERVE);
      assertThat(v.reason()).isEqualTo("Calibrated");
      assertThat(outcomes).containsExactly("calibrated", "cancelled", "cancelled");
    }
  }

  @Test
  void aFailureIsReportedAndRetriedLater() {
    try (DeviceCalibrations c = cal()) {
      runner.fail = "no p95 target is reachable";
      runner.release.countDown();
      decide(c, fd(Map.of()), List.of());
      var v = untilDone(c, fd(Map.of()), List.of());
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.UNAVAILABLE);
      assertThat(v.reason()).isEqualTo("Failed");
      assertThat(v.message()).contains("no p95 target is reachable").contains("attempt 1").contains("retried at");
      assertThat(decide(c, fd(Map.of()), List.of()).reason()).isEqualTo("Failed"); // not before the retry time
      assertThat(runner.runs).hasValue(1);
      assertThat(outcomes).containsExactly("failed");
    }
  }

  @Test
  void aRestartReusesTheModelOfTheSameDeviceOnlyAndCancelsOnClose() throws Exception {
    try (DeviceCalibrations c = cal()) {
      decide(c, fd(Map.of()), List.of());
      runner.release.countDown();
      untilDone(c, fd(Map.of()), List.of());
    }
    try (DeviceCalibrations again = cal()) { // a restart: the ConfigMap is there
      var v = decide(again, fd(Map.of()), List.of());
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.SERVE);
      assertThat(runner.runs).hasValue(1);
    }
    maps.store.clear();
    try (DeviceCalibrations again = cal()) { // ConfigMap lost: the state directory's copy, published again
      var v = decide(again, fd(Map.of()), List.of());
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.SERVE);
      assertThat(maps.store).containsKey("reflex-model-node-a-d");
      assertThat(runner.runs).hasValue(1);
    }
    runner.release = new CountDownLatch(1);
    try (DeviceCalibrations other = cal()) { // another disk behind the same path: measured again
      var v = other.decide(dev, fd(Map.of()), "file:9:9", 1L << 30, List.of(), stops::incrementAndGet);
      assertThat(v.mode()).isEqualTo(DeviceCalibrations.Mode.CALIBRATING);
      await().until(() -> runner.runs.get() == 2);
    } // close interrupts it
    assertThat(runner.interrupted).isTrue();
  }
}

package io.reflex.agent.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.crds.v1alpha1.DeviceCalibration;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.DeviceSelector;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.PlacementConstraints;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.PlacementService;
import io.reflex.operator.device.FlashDeviceReconciler;
import io.reflex.operator.tenant.FlashTenantReconciler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Automatic calibration (issue 16) against a real kube-apiserver: an agent process with a file device whose model is
 * {@code calibrate}, the operator's reconcilers in this JVM. The device goes Calibrating (progress in the Calibrated
 * condition) and then Ready with its model published in a ConfigMap and status.calibration; a tenant applied while
 * it calibrates stays Pending and is placed only then; a recalibration request is refused while the device holds a
 * tenant's data unless the overwrite annotation is set, and then keeps the old model published until the new one is
 * complete; a restarted agent reuses the published model.
 *
 * <p>The calibrator here is a stand-in that takes 8 s and always fits ({@link FakeCalibrationRunner}): these are the
 * agent's, the operator's and the API server's parts, which must not depend on how noisy this machine's disk is at
 * the moment. {@link RealCalibrationTest} runs the devmodels calibrator over the dataplane's engine through the same
 * path; {@code -Dreflex.test.realCalibrator=true} runs this class with it too (expect minutes: a calibration that
 * finds no reachable target on a busy machine is retried after 30 s, 60 s, ...).
 */
@KubeApiTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CalibrationTest {
  static final Duration WAIT = Duration.ofSeconds(Boolean.getBoolean("reflex.test.realCalibrator") ? 300 : 90);
  static KubeApi api;
  static KubernetesClient client;
  static Operator operator;
  static StandInNodes nodes;
  static LocalAgent agent;
  static Path dir;
  static String node;
  static String device;
  static String[] args;
  static boolean real;
  static Watch watch;
  static final List<DevicePhase> phases = new CopyOnWriteArrayList<>();
  static final List<String> calibratedMessages = new CopyOnWriteArrayList<>();
  static final List<String> budgetedReasons = new CopyOnWriteArrayList<>();


  @BeforeAll
  static void start(KubeApi kubeApi) throws Exception {
    Assumptions.assumeTrue(StandInNodes.available(), "needs root and iproute2 for stand-in node addresses");
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(NodeAgentLoopTest.crds());
    String ns = api.namespace();
    node = "cal-" + Integer.toHexString(ns.hashCode() & 0xfff);
    OperatorSettings settings = OperatorSettings.defaults();
    OperatorMetrics metrics = new OperatorMetrics(new SimpleMeterRegistry());
    PlacementService placement = new PlacementService(settings, metrics, Set.of(ns));
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));
    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(ns));
    operator.start();

    nodes = new StandInNodes();
    String address = nodes.add(41);
    dir = Files.createTempDirectory("agent-calibration");
    Path file = NodeAgentLoopTest.file(dir.resolve("c.img"), 64);
    device = node + "-c.img";
    real = Boolean.getBoolean("reflex.test.realCalibrator");
    args = new String[] {"--node", node, "--address", address, "--device", file + ",model=calibrate,engine=file",
        "--state-dir", dir.resolve("state").toString(), "--rescan", "0.5", "--poll", "block", "--nbd-port", "0",
        "--calibration-plan", "quick"};
    watch = client.resources(FlashDevice.class).withName(device).watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, FlashDevice d) {
        if (d.getStatus() == null) return;
        if (d.getStatus().getPhase() != null && (phases.isEmpty() || phases.getLast() != d.getStatus().getPhase())) {
          phases.add(d.getStatus().getPhase());
        }
        Condition c = condition(d, "Calibrated");
        if (c != null && (calibratedMessages.isEmpty() || !calibratedMessages.getLast().equals(c.getMessage()))) {
          calibratedMessages.add(c.getReason() + ": " + c.getMessage());
        }
        Condition b = condition(d, "Budgeted");
        if (b != null && !budgetedReasons.contains(b.getReason())) budgetedReasons.add(b.getReason());
      }

      @Override
      public void onClose(WatcherException e) {}
    });
    agent = startAgent("agent.log");
  }

  static LocalAgent startAgent(String log) throws Exception {
    LocalAgent a = new LocalAgent(api.controlPlane().kubeconfig(), dir.resolve(log), args)
        .env("REFLEX_HEARTBEAT_SECONDS", "0").env("REFLEX_NAMESPACE", api.namespace());
    if (!real) a.jvm("-Dreflex.test.calibrator=fake:8");
    return a.start();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (watch != null) watch.close();
      if (operator != null) {
        client.resources(FlashTenant.class).inNamespace(api.namespace()).delete();
        await().atMost(WAIT).until(() -> client.resources(FlashTenant.class).inNamespace(api.namespace()).list().getItems().isEmpty());
      }
    } finally {
      if (agent != null) agent.close();
      if (operator != null) {
        client.resources(FlashDevice.class).withLabel("reflex.io/node", node).delete();
        operator.stop();
      }
      if (nodes != null) nodes.close();
    }
  }

  @Test
  @Order(1)
  void aCalibrateDeviceIsMeasuredBeforeItIsOfferedAndATenantWaitsForIt() throws Exception {
    // Applied while the device calibrates: nothing can take it yet.
    apply(tenant("early"));
    FlashDevice calibrating = await().atMost(WAIT).until(() -> device(device),
        d -> d != null && d.getStatus() != null && d.getStatus().getPhase() == DevicePhase.Calibrating);
    assertThat(calibrating.getSpec().getDeviceModel().getName()).isEqualTo("calibrate");
    assertThat(calibrating.getStatus().getCalibration()).isNull();
    assertThat(condition(calibrating, "Calibrated").getStatus()).isEqualTo("False");
    assertThat(condition(calibrating, "Calibrated").getReason()).isEqualTo("Running");
    FlashTenant early = tenantNamed("early");
    assertThat(early.getStatus() == null || early.getStatus().getPlacement() == null).as("placed before calibration: %s",
        early.getStatus()).isTrue();

    FlashDevice ready = await().atMost(WAIT).until(() -> device(device),
        d -> d.getStatus().getPhase() == DevicePhase.Ready && d.getStatus().getTokenBudget() != null);
    assertThat(phases).as("phases seen").contains(DevicePhase.Calibrating, DevicePhase.Ready);
    assertThat(phases.indexOf(DevicePhase.Calibrating)).isLessThan(phases.lastIndexOf(DevicePhase.Ready));
    assertThat(calibratedMessages).as("progress reported").anyMatch(m -> m.startsWith("Running: ") && m.contains("% done"));
    // The operator said why the device was not budgeted meanwhile, without calling it an error.
    assertThat(budgetedReasons).contains("AwaitingCalibration").doesNotContain("InvalidModel");
    DeviceCalibration cal = ready.getStatus().getCalibration();
    assertThat(cal).isNotNull();
    assertThat(cal.getConfigMap()).isEqualTo("reflex-model-" + device);
    assertThat(cal.getNamespace()).isEqualTo(api.namespace());
    assertThat(cal.getReadCost4k()).isPositive();
    assertThat(cal.getWriteCost4k()).isPositive();
    assertThat(cal.getTokenLimits()).isNotEmpty();
    assertThat(cal.getCapacityBytes()).isEqualTo(64L << 20);
    Condition calibrated = condition(ready, "Calibrated");
    assertThat(calibrated.getStatus()).isEqualTo("True");
    assertThat(calibrated.getReason()).isEqualTo("Calibrated");
    assertThat(calibrated.getMessage()).contains("at p95 1 ms").contains(cal.getCalibratedAt());
    // The operator budgets the device with the calibrated model.
    assertThat(ready.getStatus().getTokenBudget()).containsExactlyInAnyOrderElementsOf(cal.getTokenLimits());

    ConfigMap cm = client.configMaps().inNamespace(api.namespace()).withName(cal.getConfigMap()).get();
    assertThat(cm.getMetadata().getLabels()).containsEntry("reflex.io/device", device).containsEntry("reflex.io/node", node);
    assertThat(cm.getMetadata().getAnnotations()).containsEntry("reflex.io/device-path", dir.resolve("c.img").toString())
        .containsEntry("reflex.io/capacity-bytes", Long.toString(64L << 20))
        .containsEntry("reflex.io/calibrated-at", cal.getCalibratedAt()).containsKey("reflex.io/device-identity");
    DeviceModel model = DeviceModels.parse(cm.getData().get("model.yaml").getBytes(StandardCharsets.UTF_8), "ConfigMap");
    assertThat(model.readCost4k()).isEqualTo(cal.getReadCost4k());
    assertThat(model.writeCost4k()).isEqualTo(cal.getWriteCost4k());
    // The dataplane serves with it: the model file in the agent's state directory.
    assertThat(dir.resolve("state/models/" + device + ".calibrated.yaml")).hasContent(cm.getData().get("model.yaml"));

    // Only now is the tenant placed, and served.
    FlashTenant placed = await().atMost(WAIT).until(() -> tenantNamed("early"),
        t -> t.getStatus() != null && t.getStatus().getPhase() == TenantPhase.Serving);
    assertThat(placed.getStatus().getPlacement().getDevice()).isEqualTo(device);
    assertThat(placed.getStatus().getPlacement().getTokens()).isPositive();
  }

  @Test
  @Order(2)
  void aRecalibrationRequestOnADeviceWithATenantIsRefusedWithoutTheOverwriteAnnotation() throws Exception {
    FlashDevice before = device(device);
    String at = before.getStatus().getCalibration().getCalibratedAt();
    annotate(Map.of("reflex.io/recalibrate", "r1"));
    FlashDevice refused = await().atMost(WAIT).until(() -> device(device),
        d -> condition(d, "Calibrated") != null && "RecalibrationRefused".equals(condition(d, "Calibrated").getReason()));
    Condition c = condition(refused, "Calibrated");
    assertThat(c.getStatus()).isEqualTo("True");
    assertThat(c.getMessage()).contains("'r1' refused").contains("1 tenant(s)").contains(api.namespace() + "/early")
        .contains("reflex.io/calibration-overwrites-data");
    Thread.sleep(2000); // several passes: nothing changes
    FlashDevice still = device(device);
    assertThat(still.getStatus().getPhase()).isEqualTo(DevicePhase.Ready);
    assertThat(still.getStatus().getCalibration().getCalibratedAt()).isEqualTo(at);
    assertThat(tenantNamed("early").getStatus().getPhase()).isEqualTo(TenantPhase.Serving);
  }

  @Test
  @Order(3)
  void withTheOverwriteAnnotationTheDeviceIsRecalibratedAndTheOldModelStaysPublishedMeanwhile() throws Exception {
    DeviceCalibration old = device(device).getStatus().getCalibration();
    phases.clear();
    annotate(Map.of("reflex.io/calibration-overwrites-data", "true"));
    FlashDevice calibrating = await().atMost(WAIT).until(() -> device(device),
        d -> d.getStatus().getPhase() == DevicePhase.Calibrating);
    // The old model is still in force, in the status and the ConfigMap, and nothing is served.
    assertThat(calibrating.getStatus().getCalibration()).isEqualTo(old);
    assertThat(client.configMaps().inNamespace(api.namespace()).withName(old.getConfigMap()).get().getMetadata()
        .getAnnotations()).containsEntry("reflex.io/calibrated-at", old.getCalibratedAt());
    assertThat(condition(calibrating, "Serving").getStatus()).isEqualTo("False");

    FlashDevice ready = await().atMost(WAIT).until(() -> device(device),
        d -> d.getStatus().getPhase() == DevicePhase.Ready && "r1".equals(d.getStatus().getCalibration().getRecalibrateToken()));
    DeviceCalibration now = ready.getStatus().getCalibration();
    assertThat(now.getCalibratedAt()).isNotNull();
    assertThat(java.time.Instant.parse(now.getCalibratedAt())).isAfterOrEqualTo(java.time.Instant.parse(old.getCalibratedAt()));
    if (!real) assertThat(now.getWriteCost4k()).isNotEqualTo(old.getWriteCost4k()); // the stand-in's second model
    ConfigMap cm = client.configMaps().inNamespace(api.namespace()).withName(now.getConfigMap()).get();
    assertThat(cm.getMetadata().getAnnotations()).containsEntry("reflex.io/recalibrate-token", "r1")
        .containsEntry("reflex.io/calibrated-at", now.getCalibratedAt());
    assertThat(condition(ready, "Calibrated").getReason()).isEqualTo("Calibrated");
    // Handled once: the same token asks for nothing more.
    Thread.sleep(2000);
    assertThat(device(device).getStatus().getPhase()).isEqualTo(DevicePhase.Ready);
    assertThat(device(device).getStatus().getCalibration().getCalibratedAt()).isEqualTo(now.getCalibratedAt());
    await().atMost(WAIT).until(() -> tenantNamed("early").getStatus().getPhase() == TenantPhase.Serving);
  }

  @Test
  @Order(4)
  void aRestartedAgentReusesThePublishedModel() throws Exception {
    DeviceCalibration before = device(device).getStatus().getCalibration();
    agent.kill();
    phases.clear();
    agent = startAgent("agent-2.log");
    await().atMost(WAIT).until(() -> agent.log().contains("reusing the model calibrated " + before.getCalibratedAt()));
    await().atMost(WAIT).until(() -> tenantNamed("early").getStatus().getPhase() == TenantPhase.Serving);
    Thread.sleep(2000);
    FlashDevice after = device(device);
    assertThat(after.getStatus().getPhase()).isEqualTo(DevicePhase.Ready);
    assertThat(after.getStatus().getCalibration()).isEqualTo(before);
    assertThat(phases).doesNotContain(DevicePhase.Calibrating);
    assertThat(agent.log()).doesNotContain(": calibrating " + dir.resolve("c.img"));
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  /** A merge patch without a resourceVersion: the agent and operator write the device concurrently, and an
   *  optimistic-lock edit would fail with 409 Conflict whenever one of them wins the race. */
  static void annotate(Map<String, String> annotations) {
    String patch = "{\"metadata\":{\"annotations\":" + Serialization.asJson(annotations) + "}}";
    client.resources(FlashDevice.class).withName(device).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
  }

  static FlashTenant tenant(String name) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(TenantClass.LC);
    s.setIops(1000L);
    s.setReadPercent(90);
    s.setP95LatencyMicros(2000);
    s.setCapacity(new Quantity("8Mi"));
    PlacementConstraints pc = new PlacementConstraints();
    DeviceSelector ds = new DeviceSelector();
    ds.setMatchLabels(Map.of("reflex.io/node", node));
    pc.setDeviceSelector(ds);
    s.setPlacement(pc);
    t.setSpec(s);
    return t;
  }

  static void apply(FlashTenant t) {
    client.resource(t).inNamespace(api.namespace()).fieldManager("user").forceConflicts().serverSideApply();
  }

  static FlashTenant tenantNamed(String name) {
    return client.resources(FlashTenant.class).inNamespace(api.namespace()).withName(name).get();
  }

  static FlashDevice device(String name) {
    return client.resources(FlashDevice.class).withName(name).get();
  }

  static Condition condition(FlashDevice d, String type) {
    var conds = d == null || d.getStatus() == null ? null : d.getStatus().getConditions();
    return conds == null ? null : conds.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
  }
}

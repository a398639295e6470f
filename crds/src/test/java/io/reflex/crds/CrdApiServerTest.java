package io.reflex.crds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.reflex.crds.v1alpha1.DeviceModelRef;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashDeviceSpec;
import io.reflex.crds.v1alpha1.FlashDeviceStatus;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import io.reflex.e2e.Kubectl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The CRDs on a real kube-apiserver: schema and CEL validation, printer columns, status subresource, SSA. */
@KubeApiTest
class CrdApiServerTest {

  KubeApi api;
  KubernetesClient client;

  @BeforeAll
  static void installCrds(KubeApi api) {
    assertThat(api.installCrds(CrdFiles.committedCrds())).hasSize(2);
  }

  // ---- examples and invalid manifests, through kubectl as a user would ----------------------------------

  static Stream<Path> examples() {
    return CrdFiles.list(CrdFiles.examplesDir(), ".yaml").stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void exampleAppliesServerSide(Path example) {
    Kubectl.Result r = api.kubectl("apply", "--server-side", "-f", example.toString()).assertOk();
    assertThat(r.stdout()).contains("serverside-applied");
  }

  @Test
  void examplesGetTheirDefaults() {
    for (Path example : examples().toList()) {
      api.kubectl("apply", "--server-side", "-f", example.toString()).assertOk();
    }
    FlashTenant be = client.resources(FlashTenant.class).withName("batch-scratch").get();
    assertThat(be.getSpec().getReadPercent()).isEqualTo(100);
    FlashDevice nvme = client.resources(FlashDevice.class).withName("node-a-nvme0n1").get();
    assertThat(nvme.getSpec().getClaimPolicy()).hasToString("Never");
    assertThat(nvme.getSpec().getEngine()).isEqualTo(Engine.URING);
  }

  static Stream<Path> invalidManifests() {
    return CrdFiles.list(CrdFiles.moduleDir().resolve("src/test/resources/invalid"), ".yaml").stream();
  }

  /** Each file says what the rejection must contain in "# expect: ..." lines: the field path and the reason. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidManifests")
  void invalidManifestIsRejectedNamingTheField(Path manifest) throws IOException {
    List<String> expected = Files.readAllLines(manifest).stream()
        .filter(l -> l.startsWith("# expect: ")).map(l -> l.substring("# expect: ".length())).toList();
    assertThat(expected).as("%s needs '# expect:' lines", manifest).isNotEmpty();

    Kubectl.Result r = api.kubectl("apply", "--server-side", "-f", manifest.toString());
    assertThat(r.exitCode()).as("%s was accepted:\n%s", manifest.getFileName(), r.stdout()).isNotZero();
    for (String e : expected) {
      assertThat(r.stderr()).as("rejection of %s", manifest.getFileName()).contains(e);
    }
  }

  // ---- printer columns -------------------------------------------------------------------------------------

  @Test
  void kubectlGetShowsThePrinterColumns() {
    FlashDevice device = client.resource(device("printer-dev")).serverSideApply();
    FlashDeviceStatus ds = new FlashDeviceStatus();
    ds.setPhase(io.reflex.crds.v1alpha1.DevicePhase.Ready);
    ds.setCapacityBytes(1_600_000_000_000L);
    ds.setReservedPercent(42);
    ds.setTenantCount(1);
    device.setStatus(ds);
    client.resource(device).updateStatus();

    FlashTenant t = client.resource(lcTenant("printer-t", "10Gi")).serverSideApply();
    t.setStatus(placed("printer-dev", TenantPhase.Serving));
    client.resource(t).updateStatus();

    String out = api.kubectl("get", "ft,fd").assertOk().stdout();
    assertThat(out).containsPattern("NAME +CLASS +IOPS +P95US +CAPACITY +PHASE +DEVICE +AGE")
        .containsPattern("NAME +NODE +ENGINE +CAPACITY +RESERVED% +TENANTS +PHASE +AGE")
        .containsPattern("flashtenant.reflex.io/printer-t +LC +5000 +1000 +10Gi +Serving +printer-dev ")
        .containsPattern("flashdevice.reflex.io/printer-dev +node-a +uring +1600000000000 +42 +1 +Ready ");
    String wide = api.kubectl("get", "ft", "printer-t", "-o", "wide").assertOk().stdout();
    assertThat(wide).containsPattern("NODE +ENDPOINT").contains("node-a").contains("printer-t.ns.svc:7000");
    String shortNames = api.kubectl("get", "fd", "printer-dev", "-o", "name").assertOk().stdout();
    assertThat(shortNames.strip()).isEqualTo("flashdevice.reflex.io/printer-dev");
  }

  // ---- status subresource ----------------------------------------------------------------------------------

  @Test
  void statusIsWrittenOnlyThroughTheStatusSubresource() {
    FlashTenant withStatus = lcTenant("status-t", "1Gi");
    withStatus.setStatus(placed("dev-x", TenantPhase.Serving));
    FlashTenant created = client.resource(withStatus).create();
    assertThat(created.getStatus()).as("status in a create is dropped").isNull();
    assertThat(created.getMetadata().getGeneration()).isEqualTo(1);

    created.setStatus(placed("dev-x", TenantPhase.Placed));
    FlashTenant placed = client.resource(created).updateStatus();
    assertThat(placed.getStatus().getPhase()).isEqualTo(TenantPhase.Placed);
    assertThat(placed.getMetadata().getGeneration()).as("status writes do not bump generation").isEqualTo(1);

    // A spec update through the main resource cannot change status.
    placed.getSpec().setIops(6000L);
    placed.getStatus().setPhase(TenantPhase.Rejected);
    FlashTenant updated = client.resource(placed).update();
    assertThat(updated.getSpec().getIops()).isEqualTo(6000L);
    assertThat(updated.getStatus().getPhase()).isEqualTo(TenantPhase.Placed);
    assertThat(updated.getMetadata().getGeneration()).isEqualTo(2);

    // A status update cannot change spec.
    updated.getSpec().setIops(1L);
    updated.getStatus().setPhase(TenantPhase.Serving);
    FlashTenant statusUpdated = client.resource(updated).updateStatus();
    assertThat(statusUpdated.getStatus().getPhase()).isEqualTo(TenantPhase.Serving);
    assertThat(statusUpdated.getSpec().getIops()).isEqualTo(6000L);
    assertThat(statusUpdated.getMetadata().getGeneration()).isEqualTo(2);
  }

  @Test
  void aDeviceMayNameTheCalibrateModelOrNoneAndCarryItsCalibrationInTheStatus() {
    FlashDevice named = device("cal-named");
    named.getSpec().setDeviceModel(DeviceModelRef.named(DeviceModelRef.CALIBRATE));
    FlashDevice none = device("cal-none");
    none.getSpec().setDeviceModel(null);
    client.resource(named).create();
    FlashDevice created = client.resource(none).create();
    assertThat(created.getSpec().getDeviceModel()).isNull();
    assertThat(DeviceModelRef.calibrates(created.getSpec().getDeviceModel())).isTrue();

    FlashDeviceStatus st = new FlashDeviceStatus();
    st.setPhase(io.reflex.crds.v1alpha1.DevicePhase.Calibrating);
    io.reflex.crds.v1alpha1.DeviceCalibration c = new io.reflex.crds.v1alpha1.DeviceCalibration();
    c.setConfigMap("reflex-model-cal-named");
    c.setNamespace("reflex-system");
    c.setCalibratedAt("2026-12-06T14:00:00Z");
    c.setReadCost4k(100L);
    c.setWriteCost4k(730L);
    c.setTokenLimits(List.of(new io.reflex.crds.v1alpha1.TokenLimit(1000, 3_000_000, 6_000_000)));
    FlashDevice fd = client.resources(FlashDevice.class).withName("cal-named").get();
    fd.setStatus(st);
    st.setCalibration(c);
    FlashDevice written = client.resource(fd).updateStatus();
    assertThat(written.getStatus().getPhase()).isEqualTo(io.reflex.crds.v1alpha1.DevicePhase.Calibrating);
    assertThat(written.getStatus().getCalibration()).isEqualTo(c);

    // A calibration without its costs is refused, naming the field.
    FlashDevice again = client.resources(FlashDevice.class).withName("cal-named").get();
    again.getStatus().getCalibration().setTokenLimits(List.of());
    assertThatThrownBy(() -> client.resource(again).updateStatus()).isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("status.calibration.tokenLimits");
  }

  @Test
  void staleResourceVersionIsAConflict() {
    FlashTenant t = client.resource(lcTenant("rv-t", "1Gi")).create();
    FlashTenant stale = client.resources(FlashTenant.class).withName("rv-t").get();
    t.getSpec().setIops(7000L);
    client.resource(t).update();

    stale.getSpec().setIops(8000L);
    assertThatThrownBy(() -> client.resource(stale).update())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
  }

  // ---- server-side apply -----------------------------------------------------------------------------------

  @Test
  void serverSideApplyMergesConditionsByTypeAndTracksOwners() {
    client.resource(lcTenant("ssa-t", "1Gi")).fieldManager("user").serverSideApply();

    applyStatus("ssa-t", "reflex-operator", condition("Admitted", "True", "BudgetAvailable"), TenantPhase.Placed);
    applyStatus("ssa-t", "reflex-agent", condition("Serving", "True", "DataplaneReady"), null);

    FlashTenant t = client.resources(FlashTenant.class).withName("ssa-t").get();
    assertThat(t.getStatus().getConditions()).extracting(Condition::getType)
        .as("list-map keyed by type: each manager's condition survives the other's apply")
        .containsExactlyInAnyOrder("Admitted", "Serving");
    assertThat(t.getStatus().getPhase()).isEqualTo(TenantPhase.Placed);
    assertThat(t.getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getManager)
        .contains("user", "reflex-operator", "reflex-agent");
    assertThat(t.getMetadata().getManagedFields())
        .filteredOn(m -> m.getManager().equals("reflex-operator")).extracting(ManagedFieldsEntry::getSubresource)
        .containsExactly("status");

    // The user re-applying the spec leaves status alone.
    FlashTenant again = lcTenant("ssa-t", "1Gi");
    again.getSpec().setIops(9000L);
    client.resource(again).fieldManager("user").serverSideApply();
    assertThat(client.resources(FlashTenant.class).withName("ssa-t").get().getStatus().getConditions()).hasSize(2);

    // Another manager changing a field "user" owns is a conflict unless forced.
    FlashTenant other = lcTenant("ssa-t", "1Gi");
    other.getSpec().setIops(1234L);
    assertThatThrownBy(() -> client.resource(other).fieldManager("someone-else").serverSideApply())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
          assertThat(e.getCode()).isEqualTo(409);
          assertThat(e.getMessage()).contains(".spec.iops").contains("user");
        });
    client.resource(other).fieldManager("someone-else").forceConflicts().serverSideApply();
    assertThat(client.resources(FlashTenant.class).withName("ssa-t").get().getSpec().getIops()).isEqualTo(1234L);
  }

  @Test
  void capacityCannotShrink() {
    client.resource(lcTenant("grow-t", "10Gi")).fieldManager("user").serverSideApply();
    client.resource(lcTenant("grow-t", "20Gi")).fieldManager("user").serverSideApply();
    assertThatThrownBy(() -> client.resource(lcTenant("grow-t", "5Gi")).fieldManager("user").serverSideApply())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
          assertThat(e.getCode()).isEqualTo(422);
          assertThat(e.getMessage()).contains("spec.capacity").contains("capacity cannot shrink");
        });
  }

  @Test
  void conditionsMustHaveTheStandardShape() {
    FlashTenant t = client.resource(lcTenant("cond-t", "1Gi")).create();
    t.setStatus(new FlashTenantStatus());
    t.getStatus().setConditions(List.of(new ConditionBuilder().withType("Admitted").withStatus("Maybe").build()));
    assertThatThrownBy(() -> client.resource(t).updateStatus())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getMessage())
            .contains("status.conditions[0].status").contains("Unsupported value: \"Maybe\"")
            .contains("status.conditions[0].reason").contains("Required value"));
  }

  // ---- helpers ---------------------------------------------------------------------------------------------

  private void applyStatus(String name, String manager, Condition condition, TenantPhase phase) {
    FlashTenant patch = new FlashTenant();
    patch.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(api.namespace()).build());
    FlashTenantStatus s = new FlashTenantStatus();
    s.setPhase(phase);
    s.setObservedGeneration(1L);
    s.setConditions(List.of(condition));
    patch.setStatus(s);
    client.resource(patch).subresource("status").patch(new PatchContext.Builder()
        .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(manager).withForce(true).build(), patch);
  }

  private static Condition condition(String type, String status, String reason) {
    return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage("")
        .withObservedGeneration(1L).withLastTransitionTime(Instant.now().toString().replaceAll("\\.\\d+Z$", "Z"))
        .build();
  }

  static FlashTenant lcTenant(String name, String capacity) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashTenantSpec spec = new FlashTenantSpec();
    spec.setServiceClass(TenantClass.LC);
    spec.setIops(5000L);
    spec.setReadPercent(90);
    spec.setP95LatencyMicros(1000);
    spec.setCapacity(new Quantity(capacity));
    t.setSpec(spec);
    return t;
  }

  static FlashDevice device(String name) {
    FlashDevice d = new FlashDevice();
    d.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashDeviceSpec spec = new FlashDeviceSpec();
    spec.setNodeName("node-a");
    spec.setDevicePath("/dev/nvme0n1");
    spec.setEngine(Engine.URING);
    spec.setDeviceModel(DeviceModelRef.named("sample"));
    d.setSpec(spec);
    return d;
  }

  static FlashTenantStatus placed(String device, TenantPhase phase) {
    FlashTenantStatus s = new FlashTenantStatus();
    s.setPhase(phase);
    TenantPlacement p = new TenantPlacement();
    p.setDevice(device);
    p.setNode("node-a");
    p.setPort(7000);
    p.setLbaOffset(0L);
    p.setTokens(1_000_000L);
    s.setPlacement(p);
    s.setEndpoint("printer-t.ns.svc:7000");
    return s;
  }
}

package io.reflex.operator.apiserver;

import static io.reflex.operator.apiserver.Fixtures.be;
import static io.reflex.operator.apiserver.Fixtures.device;
import static io.reflex.operator.apiserver.Fixtures.lc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TenantDemand;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.Translate;
import io.reflex.operator.tenant.FlashTenantReconciler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator against a real kube-apiserver (e2e harness): placement, status, exposure, spec changes, device
 * failure, 100 tenants at once, restart mid-way, delete. Each test uses its own devices and a device selector
 * (label test.reflex.io/group) so tests do not see each other's capacity.
 */
@KubeApiTest
class OperatorApiServerTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static InProcessOperator operator;
  static KubeApi api;
  static KubernetesClient client;

  @BeforeAll
  static void start(KubeApi kubeApi) {
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(InProcessOperator.crds());
    Fixtures.node(client, "op-node-a", "10.1.0.1", "zone-a");
    operator = new InProcessOperator(client, api.namespace(), OperatorSettings.defaults());
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      client.resources(FlashTenant.class).inNamespace(api.namespace()).delete();
      await().atMost(WAIT).until(() -> client.resources(FlashTenant.class).inNamespace(api.namespace()).list().getItems().isEmpty());
      client.resources(FlashDevice.class).withLabel(Fixtures.GROUP_LABEL).delete();
      await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withLabel(Fixtures.GROUP_LABEL).list().getItems().isEmpty());
      operator.close();
    }
  }

  static FlashTenant tenant(String name) {
    return client.resources(FlashTenant.class).inNamespace(api.namespace()).withName(name).get();
  }

  static FlashTenant awaitPhase(String name, TenantPhase phase) {
    return await().atMost(WAIT).until(() -> tenant(name), t -> t != null && t.getStatus() != null
        && t.getStatus().getPhase() == phase && t.getMetadata().getGeneration().equals(t.getStatus().getObservedGeneration()));
  }

  static Condition condition(FlashTenant t, String type) {
    return t.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow();
  }

  static FlashTenant apply(FlashTenant t) {
    return client.resource(t).inNamespace(api.namespace()).fieldManager("user").forceConflicts().serverSideApply();
  }

  @Test
  void placesAnLcTenantAndExposesItThroughServiceEndpointSliceAndSecret() {
    device(client, "op-a-1", "op-node-a", "100Gi", "expose", Map.of());
    apply(lc("db", 50_000, 80, 1000, "10Gi", "expose"));
    FlashTenant t = awaitPhase("db", TenantPhase.Placed);
    TenantPlacement p = t.getStatus().getPlacement();
    assertThat(p.getDevice()).isEqualTo("op-a-1");
    assertThat(p.getNode()).isEqualTo("op-node-a");
    assertThat(p.getLbaOffset()).isZero();
    assertThat(p.getLbaCount()).isEqualTo(10L * 1024 * 1024 * 2);
    assertThat(p.getTokens()).isEqualTo(50_000L * 280);
    assertThat(p.getPort()).isBetween(20000, 29999);
    assertThat(t.getStatus().getEndpoint()).isEqualTo("db." + api.namespace() + ".svc:" + p.getPort());
    Condition admitted = condition(t, FlashTenantReconciler.ADMITTED);
    assertThat(admitted.getStatus()).isEqualTo("True");
    assertThat(admitted.getObservedGeneration()).isEqualTo(t.getMetadata().getGeneration());
    assertThat(condition(t, FlashTenantReconciler.DEVICE_READY).getStatus()).isEqualTo("True");
    assertThat(t.getMetadata().getFinalizers()).as("no finalizer: deletes are seen as events").isNullOrEmpty();
    assertThat(client.resources(FlashTenant.class).inNamespace(api.namespace())
        .withField(FlashTenant.DEVICE_FIELD, "op-a-1").list().getItems()).extracting(x -> x.getMetadata().getName())
        .as("selectable field status.placement.device").containsExactly("db");

    Service svc = await().atMost(WAIT).until(() -> client.services().inNamespace(api.namespace()).withName("db").get(),
        s -> s != null);
    assertThat(svc.getSpec().getSelector()).isNullOrEmpty();
    assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(svc.getSpec().getPorts().getFirst().getPort()).isEqualTo(p.getPort());
    assertThat(svc.getMetadata().getOwnerReferences().getFirst().getUid()).isEqualTo(t.getMetadata().getUid());
    EndpointSlice eps = client.resources(EndpointSlice.class).inNamespace(api.namespace()).withName("db-reflex").get();
    assertThat(eps.getMetadata().getLabels()).containsEntry("kubernetes.io/service-name", "db");
    assertThat(eps.getEndpoints().getFirst().getAddresses()).containsExactly("10.1.0.1");
    assertThat(eps.getPorts().getFirst().getPort()).isEqualTo(p.getPort());
    assertThat(condition(t, FlashTenantReconciler.EXPOSED).getStatus()).isEqualTo("True");
    Secret sec = client.secrets().inNamespace(api.namespace()).withName(t.getStatus().getSecretName()).get();
    Map<String, String> data = decode(sec);
    assertThat(data).containsEntry("endpoint", t.getStatus().getEndpoint()).containsEntry("port", "" + p.getPort())
        .containsEntry("lbaCount", "" + p.getLbaCount());
    assertThat(data.get("token")).hasSizeGreaterThan(40);
    // Agents check clients against the token's hash in the status and never read the Secret.
    assertThat(t.getStatus().getTokenHash()).isEqualTo(io.reflex.crds.access.TenantSecret.tokenHash(data.get("token")));

    FlashDevice d = await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withName("op-a-1").get(),
        x -> x.getStatus().getTenantCount() != null && x.getStatus().getTenantCount() == 1);
    assertThat(d.getStatus().getReservedTokens()).isEqualTo(50_000L * 280);
    assertThat(d.getStatus().getAllocatedBytes()).isEqualTo(10L << 30);
    assertThat(d.getStatus().getPhase()).isEqualTo(DevicePhase.Ready); // the agent's field is left alone
    assertThat(d.getStatus().getTokenBudget()).hasSize(6);

    // A device on a node without a Node object: its address comes from the FlashDevice annotation.
    device(client, "op-b-1", "op-node-b", "100Gi", "expose-b", Map.of(OperatorSettings.NODE_ADDRESS_ANNOTATION, "10.2.0.2"));
    apply(be("scratch", "1Gi", "expose-b"));
    awaitPhase("scratch", TenantPhase.Placed);
    EndpointSlice eps2 = await().atMost(WAIT).until(() -> client.resources(EndpointSlice.class)
        .inNamespace(api.namespace()).withName("scratch-reflex").get(), e -> e != null);
    assertThat(eps2.getEndpoints().getFirst().getAddresses()).containsExactly("10.2.0.2");

    // The token survives reconciles.
    apply(lc("db", 60_000, 80, 1000, "10Gi", "expose"));
    await().atMost(WAIT).until(() -> tenant("db").getStatus().getPlacement().getTokens() == 60_000L * 280);
    assertThat(decode(client.secrets().inNamespace(api.namespace()).withName("db-reflex").get()).get("token"))
        .isEqualTo(data.get("token"));

    // Deleting the Secret rotates the token: a new one, and its hash in the status.
    client.secrets().inNamespace(api.namespace()).withName("db-reflex").delete();
    String rotated = await().atMost(WAIT).until(() -> {
      Secret x = client.secrets().inNamespace(api.namespace()).withName("db-reflex").get();
      return x == null ? null : decode(x).get("token");
    }, tok -> tok != null && !tok.equals(data.get("token")));
    await().atMost(WAIT).until(() -> tenant("db").getStatus().getTokenHash(),
        h -> io.reflex.crds.access.TenantSecret.tokenHash(rotated).equals(h));
    data.put("token", rotated);

    // The agent publishes the device's NBD port: Service, EndpointSlice and Secret gain it (export = ns.name:token).
    Fixtures.deviceStatus(client, "op-a-1", DevicePhase.Ready, 10809);
    String export = api.namespace() + ".db:" + data.get("token");
    await().atMost(WAIT).untilAsserted(() -> assertThat(decode(client.secrets().inNamespace(api.namespace())
        .withName("db-reflex").get())).containsEntry("nbdPort", "10809").containsEntry("nbdExport", export)
        .containsEntry("nbdUri", "nbd://db." + api.namespace() + ".svc:10809/" + export));
    assertThat(client.services().inNamespace(api.namespace()).withName("db").get().getSpec().getPorts())
        .extracting(x -> x.getName() + ":" + x.getPort()).containsExactly("reflex:" + p.getPort(), "nbd:10809");
    assertThat(client.resources(EndpointSlice.class).inNamespace(api.namespace()).withName("db-reflex").get().getPorts())
        .extracting(x -> x.getName() + ":" + x.getPort()).containsExactly("reflex:" + p.getPort(), "nbd:10809");
    // ... and lose it when the device has no NBD front-end any more.
    Fixtures.deviceStatus(client, "op-a-1", DevicePhase.Ready, null);
    await().atMost(WAIT).untilAsserted(() -> assertThat(decode(client.secrets().inNamespace(api.namespace())
        .withName("db-reflex").get())).doesNotContainKey("nbdUri").containsEntry("token", data.get("token")));
    assertThat(client.services().inNamespace(api.namespace()).withName("db").get().getSpec().getPorts()).hasSize(1);

    // The agent serves the device from its DPDK port: the tenant is reached over UDP (Service, EndpointSlice, Secret).
    Fixtures.deviceStatus(client, "op-a-1", DevicePhase.Ready, null, "udp");
    await().atMost(WAIT).untilAsserted(() -> assertThat(decode(client.secrets().inNamespace(api.namespace())
        .withName("db-reflex").get())).containsEntry("transport", "udp").containsEntry("token", data.get("token")));
    await().atMost(WAIT).untilAsserted(() -> assertThat(client.services().inNamespace(api.namespace()).withName("db").get()
        .getSpec().getPorts()).extracting(x -> x.getName() + ":" + x.getProtocol() + ":" + x.getPort())
        .containsExactly("reflex:UDP:" + p.getPort()));
    await().atMost(WAIT).untilAsserted(() -> assertThat(client.resources(EndpointSlice.class).inNamespace(api.namespace())
        .withName("db-reflex").get().getPorts()).extracting(x -> x.getName() + ":" + x.getProtocol() + ":" + x.getPort())
        .containsExactly("reflex:UDP:" + p.getPort()));
    await().atMost(WAIT).untilAsserted(() -> assertThat(condition(tenant("db"), FlashTenantReconciler.EXPOSED).getMessage())
        .endsWith(":" + p.getPort() + "/udp (the node's DPDK port)"));
    // ... and back on kernel TCP.
    Fixtures.deviceStatus(client, "op-a-1", DevicePhase.Ready, null, "tcp");
    await().atMost(WAIT).untilAsserted(() -> assertThat(client.services().inNamespace(api.namespace()).withName("db").get()
        .getSpec().getPorts()).extracting(x -> x.getName() + ":" + x.getProtocol()).containsExactly("reflex:TCP"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(decode(client.secrets().inNamespace(api.namespace())
        .withName("db-reflex").get())).doesNotContainKey("transport"));

    // Exposure objects removed by someone else come back (the operator watches them).
    client.services().inNamespace(api.namespace()).withName("db").delete();
    client.secrets().inNamespace(api.namespace()).withName("db-reflex").delete();
    await().atMost(WAIT).until(() -> client.services().inNamespace(api.namespace()).withName("db").get() != null
        && client.secrets().inNamespace(api.namespace()).withName("db-reflex").get() != null);
    assertThat(client.services().inNamespace(api.namespace()).withName("db").get().getSpec().getPorts().getFirst()
        .getPort()).isEqualTo(p.getPort());
    assertThat(decode(client.secrets().inNamespace(api.namespace()).withName("db-reflex").get()).get("token"))
        .hasSizeGreaterThan(40);
  }

  @Test
  void refusesWithAReasonAndPlacesWhenCapacityAppears() {
    device(client, "op-r-1", "op-node-a", "100Gi", "refuse", Map.of());
    apply(lc("hog", 32_000, 0, 1000, "1Gi", "refuse"));
    awaitPhase("hog", TenantPhase.Placed);
    apply(lc("strict", 41_000, 100, 500, "1Gi", "refuse"));
    FlashTenant t = awaitPhase("strict", TenantPhase.Pending);
    Condition c = condition(t, FlashTenantReconciler.ADMITTED);
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("NoFit");
    assertThat(c.getMessage()).contains("needs 4.1M tokens/s (41000 IOPS, 100% read) at p95 500µs; best device op-r-1 has 4.0M spare");

    device(client, "op-r-2", "op-node-a", "100Gi", "refuse", Map.of());
    FlashTenant placed = awaitPhase("strict", TenantPhase.Placed);
    assertThat(placed.getStatus().getPlacement().getDevice()).isEqualTo("op-r-2");
  }

  @Test
  void specChangesAreReadmittedInPlaceOrRefusedWithTheOldReservationKept() {
    device(client, "op-s-1", "op-node-a", "20Gi", "spec", Map.of());
    // One after the other: applied together, either may be placed first (concurrent reconciles), and "grow" placed
    // after "next" has free space behind it, so its growth below would fit.
    apply(lc("grow", 10_000, 100, 1000, "5Gi", "spec"));
    TenantPlacement before = awaitPhase("grow", TenantPhase.Placed).getStatus().getPlacement();
    apply(lc("next", 10_000, 100, 1000, "5Gi", "spec"));
    assertThat(awaitPhase("next", TenantPhase.Placed).getStatus().getPlacement().getLbaOffset())
        .isEqualTo(before.getLbaOffset() + before.getLbaCount());

    apply(lc("grow", 100_000, 100, 1000, "5Gi", "spec"));
    await().atMost(WAIT).until(() -> tenant("grow").getStatus().getPlacement().getTokens() == 10_000_000L);
    assertThat(tenant("grow").getStatus().getPlacement().getLbaOffset()).isEqualTo(before.getLbaOffset());

    apply(lc("grow", 100_000, 100, 1000, "6Gi", "spec")); // "next" sits right after it
    FlashTenant refused = await().atMost(WAIT).until(() -> tenant("grow"),
        t -> t.getStatus().getObservedGeneration().equals(t.getMetadata().getGeneration())
            && "False".equals(condition(t, FlashTenantReconciler.ADMITTED).getStatus()));
    assertThat(condition(refused, FlashTenantReconciler.ADMITTED).getMessage()).contains("cannot grow in place on op-s-1");
    assertThat(refused.getStatus().getPhase()).isEqualTo(TenantPhase.Placed);
    assertThat(refused.getStatus().getPlacement().getLbaCount()).isEqualTo(before.getLbaCount());
    // The placement records the SLO it was admitted for; that is what the node agent serves.
    assertThat(refused.getStatus().getPlacement().getIops()).isEqualTo(100_000L);
    assertThat(refused.getStatus().getPlacement().getP95LatencyMicros()).isEqualTo(1000);

    // A raised reservation the device cannot hold is refused, and the placement keeps the admitted SLO and tokens.
    apply(lc("grow", 50_000_000, 100, 1000, "6Gi", "spec"));
    FlashTenant tooMuch = await().atMost(WAIT).until(() -> tenant("grow"),
        t -> t.getStatus().getObservedGeneration().equals(t.getMetadata().getGeneration())
            && "False".equals(condition(t, FlashTenantReconciler.ADMITTED).getStatus()));
    assertThat(condition(tooMuch, FlashTenantReconciler.ADMITTED).getReason()).isEqualTo("ReadmitRefused");
    assertThat(tooMuch.getStatus().getPlacement().getIops()).isEqualTo(100_000L);
    assertThat(tooMuch.getStatus().getPlacement().getTokens()).isEqualTo(10_000_000L);
  }

  @Test
  void aDeviceGoingNotReadyOrAwayIsReportedOnItsTenants() {
    device(client, "op-f-1", "op-node-a", "10Gi", "fail", Map.of());
    apply(be("victim", "1Gi", "fail"));
    awaitPhase("victim", TenantPhase.Placed);
    Fixtures.deviceStatus(client, "op-f-1", DevicePhase.Unavailable);
    await().atMost(WAIT).until(() -> condition(tenant("victim"), FlashTenantReconciler.DEVICE_READY).getReason(),
        "DeviceNotReady"::equals);
    client.resources(FlashDevice.class).withName("op-f-1").delete();
    await().atMost(WAIT).until(() -> condition(tenant("victim"), FlashTenantReconciler.DEVICE_READY).getReason(),
        "DeviceGone"::equals);
  }

  @Test
  void hundredTenantsAtOnceNeverOvercommitAndRestartKeepsAllocations() throws Exception {
    for (int i = 0; i < 4; i++) {
      device(client, "op-m-" + i, "op-node-a", "64Gi", "many", Map.of());
    }
    // 100 LC tenants of 1-3 Gi at p95 500-2000 µs, up to 4M tokens/s each: more than the devices hold.
    List<FlashTenant> batch = IntStream.range(0, 100).mapToObj(i -> lc("m" + i, 2_000 + (i * 7919L) % 40_000,
        (i * 37) % 101, 500 + (i % 4) * 500, (1 + i % 3) + "Gi", "many")).toList();
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      for (FlashTenant t : batch.subList(0, 60)) {
        pool.submit(() -> apply(t));
      }
    }
    // Restart mid-way: stop the operator while it is still placing, start a fresh one (empty ledger).
    await().atMost(WAIT).until(() -> placed("many").size() >= 10);
    operator.close();
    Map<String, TenantPlacement> beforeRestart = placed("many");
    operator = new InProcessOperator(client, api.namespace(), OperatorSettings.defaults());
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      for (FlashTenant t : batch.subList(60, 100)) {
        pool.submit(() -> apply(t));
      }
    }
    await().atMost(Duration.ofSeconds(120)).until(() -> settled("many") == 100);
    Map<String, TenantPlacement> after = placed("many");
    for (var e : beforeRestart.entrySet()) {
      assertThat(Translate.placement(Translate.allocation(tenant(e.getKey())).orElseThrow()))
          .usingRecursiveComparison().isEqualTo(e.getValue());
    }
    // Not "more than before": when the operator is quick, the devices are full before the restart (16 of 100 placed
    // both times in one CI run) and every later tenant is Pending/NoFit — settled above, checked for overcommit here.
    assertThat(after.size()).isGreaterThanOrEqualTo(beforeRestart.size());
    checkNoOvercommit("many");
  }

  @Test
  void deleteRemovesEverythingAndGivesCapacityBack() {
    device(client, "op-d-1", "op-node-a", "10Gi", "del", Map.of());
    apply(lc("gone", 10_000, 50, 1000, "4Gi", "del")); // placed first: applied together, either may win the device
    awaitPhase("gone", TenantPhase.Placed);
    apply(lc("waiter", 10_000, 50, 1000, "8Gi", "del"));
    awaitPhase("waiter", TenantPhase.Pending);
    client.resources(FlashTenant.class).inNamespace(api.namespace()).withName("gone").delete();
    await().atMost(WAIT).until(() -> tenant("gone") == null
        && client.services().inNamespace(api.namespace()).withName("gone").get() == null
        && client.secrets().inNamespace(api.namespace()).withName("gone-reflex").get() == null
        && client.resources(EndpointSlice.class).inNamespace(api.namespace()).withName("gone-reflex").get() == null);
    // The freed extent lets the waiting tenant in.
    assertThat(awaitPhase("waiter", TenantPhase.Placed).getStatus().getPlacement().getLbaOffset()).isZero();
    client.resources(FlashTenant.class).inNamespace(api.namespace()).withName("waiter").delete();
    await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withName("op-d-1").get().getStatus(),
        s -> s.getTenantCount() == 0 && s.getAllocatedBytes() == 0 && s.getReservedTokens() == 0);
  }

  @Test
  void aTenantFromAnOlderOperatorLosesItsFinalizerAndLabelAndCanBeDeleted() {
    device(client, "op-l-1", "op-node-a", "10Gi", "legacy", Map.of());
    FlashTenant old = lc("old", 10_000, 50, 1000, "1Gi", "legacy");
    old.getMetadata().setFinalizers(List.of(FlashTenantReconciler.LEGACY_FINALIZER));
    old.getMetadata().setLabels(Map.of(FlashTenant.LEGACY_DEVICE_LABEL, "somewhere-else"));
    apply(old);
    awaitPhase("old", TenantPhase.Placed);
    await().atMost(WAIT).until(() -> tenant("old").getMetadata().getLabels(),
        l -> l == null || !l.containsKey(FlashTenant.LEGACY_DEVICE_LABEL));
    client.resources(FlashTenant.class).inNamespace(api.namespace()).withName("old").delete();
    await().atMost(WAIT).until(() -> tenant("old") == null
        && client.services().inNamespace(api.namespace()).withName("old").get() == null);
    await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withName("op-l-1").get().getStatus(),
        s -> s.getTenantCount() == 0 && s.getAllocatedBytes() == 0);
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  static Map<String, String> decode(Secret s) {
    Map<String, String> m = new HashMap<>();
    s.getData().forEach((k, v) -> m.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    return m;
  }

  static List<FlashTenant> group(String group) {
    return client.resources(FlashTenant.class).inNamespace(api.namespace()).list().getItems().stream()
        .filter(t -> group.equals(t.getSpec().getPlacement().getDeviceSelector().getMatchLabels().get(Fixtures.GROUP_LABEL)))
        .toList();
  }

  static Map<String, TenantPlacement> placed(String group) {
    Map<String, TenantPlacement> m = new HashMap<>();
    for (FlashTenant t : group(group)) {
      if (t.getStatus() != null && t.getStatus().getPhase() == TenantPhase.Placed) {
        m.put(t.getMetadata().getName(), t.getStatus().getPlacement());
      }
    }
    return m;
  }

  static int settled(String group) {
    return (int) group(group).stream().filter(t -> t.getStatus() != null
        && t.getMetadata().getGeneration().equals(t.getStatus().getObservedGeneration())
        && (t.getStatus().getPhase() == TenantPhase.Placed || t.getStatus().getPhase() == TenantPhase.Pending)).count();
  }

  static void checkNoOvercommit(String group) {
    Map<String, List<FlashTenant>> byDevice = new HashMap<>();
    Set<String> ports = new HashSet<>();
    for (FlashTenant t : group(group)) {
      if (t.getStatus().getPhase() != TenantPhase.Placed) {
        assertThat(condition(t, FlashTenantReconciler.ADMITTED).getMessage()).contains("no device fits");
        continue;
      }
      TenantPlacement p = t.getStatus().getPlacement();
      byDevice.computeIfAbsent(p.getDevice(), k -> new ArrayList<>()).add(t);
      assertThat(ports.add(p.getNode() + ":" + p.getPort())).as("port reused: %s", p.getPort()).isTrue();
    }
    for (var e : byDevice.entrySet()) {
      List<TenantDemand> demands = e.getValue().stream().map(Translate::demand).toList();
      Budget.Evaluation ev = Budget.evaluate(DeviceModels.load("sample"), demands);
      assertThat(ev.overcommitted()).as("device %s overcommitted: %s", e.getKey(), ev).isFalse();
      List<long[]> extents = e.getValue().stream().map(t -> new long[] {t.getStatus().getPlacement().getLbaOffset(),
          t.getStatus().getPlacement().getLbaCount()}).sorted((a, b) -> Long.compare(a[0], b[0])).toList();
      long end = 0;
      for (long[] x : extents) {
        assertThat(x[0]).as("extent overlap on %s", e.getKey()).isGreaterThanOrEqualTo(end);
        end = x[0] + x[1];
      }
      assertThat(end * 512).isLessThanOrEqualTo(64L << 30);
      FlashDevice d = client.resources(FlashDevice.class).withName(e.getKey()).get();
      await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withName(e.getKey()).get().getStatus()
          .getTenantCount(), n -> n != null && n == e.getValue().size());
      assertThat(d).isNotNull();
    }
  }
}

package io.reflex.agent.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.agent.kube.Heartbeat;
import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.DeviceSelector;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.PlacementConstraints;
import io.reflex.crds.v1alpha1.SelectorOperator;
import io.reflex.crds.v1alpha1.SelectorRequirement;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.PlacementService;
import io.reflex.operator.device.FlashDeviceReconciler;
import io.reflex.operator.liveness.AgentHeartbeats;
import io.reflex.operator.liveness.LeaderFence;
import io.reflex.operator.placement.PlacementPolicy;
import io.reflex.operator.tenant.FlashTenantReconciler;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An agent (or its node) disappears (issue 15): two stand-in nodes, each with an agent process that renews its
 * heartbeat Lease every 1.5 s (6 s duration), and the operator with replace-on-device-loss. Agent A is killed -9:
 * after the Lease's duration its device is not Ready (AgentHeartbeat=False) although its phase still says Ready (the
 * agent could not write anything), a tenant that may only live on node A is told (DeviceReady=False, AgentLost; phase
 * back to Placed), a tenant that may live on either node is re-placed on node B's device and served there. Agent A
 * restarted: its device is Ready again, the pinned tenant is served again with its data, and nothing listens any more
 * on the moved tenant's old port on node A.
 */
@KubeApiTest
class AgentLossTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  static KubeApi api;
  static KubernetesClient client;
  static Operator operator;
  static AgentHeartbeats heartbeats;
  static StandInNodes nodes;
  static LocalAgent agentA;
  static LocalAgent agentB;
  static Path dir;
  static String[] argsA;
  static String node;
  static String addrA;

  @BeforeAll
  static void start(KubeApi kubeApi) throws Exception {
    Assumptions.assumeTrue(StandInNodes.available(), "needs root and iproute2 for stand-in node addresses");
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(NodeAgentLoopTest.crds());
    String ns = api.namespace();
    node = "loss-" + Integer.toHexString(ns.hashCode() & 0xfff);
    OperatorSettings settings = new OperatorSettings(PlacementPolicy.BEST_FIT, 20000, 29999, false, true, Duration.ofSeconds(60));
    OperatorMetrics metrics = new OperatorMetrics(new SimpleMeterRegistry());
    // The agents' Leases live in this test's namespace (REFLEX_HEARTBEAT_NAMESPACE below).
    heartbeats = new AgentHeartbeats(client, ns, Duration.ofSeconds(30), Duration.ofMillis(250));
    PlacementService placement = new PlacementService(settings, metrics, Set.of(ns), heartbeats, LeaderFence.NONE);
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));
    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(ns));
    operator.start();

    nodes = new StandInNodes();
    addrA = nodes.add(21);
    String addrB = nodes.add(22);
    dir = Files.createTempDirectory("agent-loss");
    Path kubeconfig = api.controlPlane().kubeconfig();
    argsA = new String[] {"--node", node + "-a", "--address", addrA, "--device",
        NodeAgentLoopTest.file(dir.resolve("a.img"), 16) + ",model=sample", "--state-dir", dir.resolve("state-a").toString(),
        "--rescan", "0.5", "--poll", "block", "--nbd-port", "0"};
    agentA = agent(kubeconfig, "agent-a.log", argsA);
    agentB = agent(kubeconfig, "agent-b.log", "--node", node + "-b", "--address", addrB, "--device",
        NodeAgentLoopTest.file(dir.resolve("b.img"), 16) + ",model=sample", "--state-dir", dir.resolve("state-b").toString(),
        "--rescan", "0.5", "--poll", "block", "--nbd-port", "0");
  }

  static LocalAgent agent(Path kubeconfig, String log, String... args) throws Exception {
    return new LocalAgent(kubeconfig, dir.resolve(log), args).env("REFLEX_HEARTBEAT_SECONDS", "6")
        .env("REFLEX_HEARTBEAT_NAMESPACE", api.namespace()).start();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (operator != null) {
        client.resources(FlashTenant.class).inNamespace(api.namespace()).delete();
        await().atMost(WAIT).until(() -> client.resources(FlashTenant.class).inNamespace(api.namespace()).list().getItems().isEmpty());
      }
    } finally {
      if (agentA != null) agentA.close();
      if (agentB != null) agentB.close();
      if (operator != null) {
        client.resources(FlashDevice.class).withLabel("reflex.io/node", node + "-a").delete();
        client.resources(FlashDevice.class).withLabel("reflex.io/node", node + "-b").delete();
        await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withLabel("reflex.io/node", node + "-a").list()
            .getItems().isEmpty() && client.resources(FlashDevice.class).withLabel("reflex.io/node", node + "-b").list()
            .getItems().isEmpty());
        operator.stop();
      }
      if (heartbeats != null) heartbeats.close();
      if (nodes != null) nodes.close();
      if (dir != null) deleteTree(dir);
    }
  }

  @Test
  void aKilledAgentsDeviceIsNotReadyItsTenantsAreToldOrMovedAndItDoesNotServeAMovedTenantWhenBack() throws Exception {
    String devA = node + "-a-a.img";
    String devB = node + "-b-b.img";
    // Published with the Lease that the agent renews, and judged alive by the operator.
    FlashDevice a = await().atMost(WAIT).until(() -> device(devA), d -> d != null && heartbeat(d) != null
        && "True".equals(heartbeat(d).getStatus()) && d.getStatus().getPhase() == DevicePhase.Ready);
    assertThat(a.getMetadata().getAnnotations()).containsEntry(Heartbeat.LEASE_ANNOTATION,
        api.namespace() + "/" + Heartbeat.NAME_PREFIX + node + "-a");
    Lease lease = client.resources(Lease.class).inNamespace(api.namespace()).withName(Heartbeat.NAME_PREFIX + node + "-a").get();
    assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(node + "-a");
    assertThat(lease.getSpec().getLeaseDurationSeconds()).isEqualTo(6);
    await().atMost(WAIT).until(() -> device(devB), d -> d != null && heartbeat(d) != null && "True".equals(heartbeat(d).getStatus()));

    // "pinned" may only live on node A; "mobile" on either, and best-fit puts it next to "pinned".
    apply(tenant("pinned", node + "-a"));
    TenantPlacement pinned = awaitServing("pinned").getStatus().getPlacement();
    apply(tenant("mobile", node + "-a", node + "-b"));
    TenantPlacement before = awaitServing("mobile").getStatus().getPlacement();
    assertThat(pinned.getDevice()).isEqualTo(devA);
    assertThat(before.getDevice()).as("best-fit packs mobile next to pinned").isEqualTo(devA);
    try (ReflexClient c = connect("pinned")) {
      writeAndVerify(c, 0, 16, 5);
    }

    agentA.kill();

    // The device's phase stays what the dead agent wrote; the operator's AgentHeartbeat condition says why it is out.
    FlashDevice lost = await().atMost(WAIT).until(() -> device(devA), d -> heartbeat(d) != null && "False".equals(heartbeat(d).getStatus()));
    assertThat(lost.getStatus().getPhase()).isEqualTo(DevicePhase.Ready);
    assertThat(heartbeat(lost).getReason()).isEqualTo("HeartbeatMissed");
    assertThat(heartbeat(lost).getMessage()).contains(Heartbeat.NAME_PREFIX + node + "-a").contains("stopped renewing");
    // Pinned: nowhere else to go; told, and no longer reported Serving.
    FlashTenant told = await().atMost(WAIT).until(() -> tenant("pinned"), t -> "AgentLost".equals(reason(t, "DeviceReady")));
    assertThat(condition(told, "DeviceReady").getStatus()).isEqualTo("False");
    assertThat(condition(told, "DeviceReady").getMessage()).contains(devA).contains("stopped renewing");
    await().atMost(WAIT).until(() -> tenant("pinned").getStatus().getPhase() == TenantPhase.Placed);
    assertThat(tenant("pinned").getStatus().getPlacement()).usingRecursiveComparison().isEqualTo(pinned);
    // Mobile: re-placed on node B (an empty extent), served there, reachable through what the operator published.
    FlashTenant moved = await().atMost(WAIT).until(() -> tenant("mobile"), t -> devB.equals(t.getStatus().getPlacement().getDevice())
        && t.getStatus().getPhase() == TenantPhase.Serving);
    assertThat(condition(moved, "Admitted").getReason()).isEqualTo("Replaced");
    assertThat(condition(moved, "DeviceReady").getStatus()).isEqualTo("True");
    await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> {
      try (ReflexClient c = connect("mobile")) {
        writeAndVerify(c, 0, 16, 6);
      }
    });

    agentA = agent(api.controlPlane().kubeconfig(), "agent-a2.log", argsA);

    await().atMost(WAIT).until(() -> device(devA), d -> "True".equals(heartbeat(d).getStatus()));
    FlashTenant back = awaitServing("pinned");
    assertThat(condition(back, "DeviceReady").getStatus()).isEqualTo("True");
    await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> {
      try (ReflexClient c = connect("pinned")) {
        verify(c, 0, 16, 5);
      }
    });
    // Agent A has run its passes (it serves "pinned" again) and does not serve "mobile", which moved away.
    assertThatThrownBy(() -> ReflexClient.connect(addrA, before.getPort(), ClientOptions.defaults().withToken(token("mobile"))).close())
        .as("the old port of the moved tenant on node A").isInstanceOf(ConnectException.class);
    assertThat(tenant("mobile").getStatus().getPlacement().getDevice()).isEqualTo(devB);
    assertThat(condition(tenant("mobile"), "Serving").getMessage()).contains(devB);
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  static FlashTenant tenant(String name, String... onNodes) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(TenantClass.LC);
    s.setIops(1000L);
    s.setReadPercent(90);
    s.setP95LatencyMicros(2000);
    s.setCapacity(new Quantity("8Mi"));
    SelectorRequirement r = new SelectorRequirement();
    r.setKey("reflex.io/node");
    r.setOperator(SelectorOperator.In);
    r.setValues(List.of(onNodes));
    DeviceSelector ds = new DeviceSelector();
    ds.setMatchExpressions(List.of(r));
    PlacementConstraints pc = new PlacementConstraints();
    pc.setDeviceSelector(ds);
    s.setPlacement(pc);
    t.setSpec(s);
    return t;
  }

  static void apply(FlashTenant t) {
    client.resource(t).inNamespace(api.namespace()).fieldManager("user").forceConflicts().serverSideApply();
  }

  static FlashTenant tenant(String name) {
    return client.resources(FlashTenant.class).inNamespace(api.namespace()).withName(name).get();
  }

  static FlashDevice device(String name) {
    return client.resources(FlashDevice.class).withName(name).get();
  }

  static FlashTenant awaitServing(String name) {
    return await().atMost(WAIT).until(() -> tenant(name), t -> t != null && t.getStatus() != null
        && t.getStatus().getPhase() == TenantPhase.Serving);
  }

  static Condition heartbeat(FlashDevice d) {
    return d == null || d.getStatus() == null ? null : NodeAgentLoopTest.condition(d.getStatus().getConditions(),
        FlashDeviceReconciler.AGENT_HEARTBEAT);
  }

  static Condition condition(FlashTenant t, String type) {
    return t == null || t.getStatus() == null ? null : NodeAgentLoopTest.condition(t.getStatus().getConditions(), type);
  }

  static String reason(FlashTenant t, String type) {
    Condition c = condition(t, type);
    return c == null ? null : c.getReason();
  }

  static String token(String tenant) {
    Secret s = client.secrets().inNamespace(api.namespace()).withName(tenant + "-reflex").get();
    return new String(Base64.getDecoder().decode(s.getData().get("token")), StandardCharsets.UTF_8);
  }

  /** Port and token from the Secret, the address from the EndpointSlice (what DNS answers for the Service). */
  static ReflexClient connect(String tenant) throws IOException {
    Secret s = client.secrets().inNamespace(api.namespace()).withName(tenant + "-reflex").get();
    EndpointSlice eps = client.resources(EndpointSlice.class).inNamespace(api.namespace()).withName(tenant + "-reflex").get();
    int port = Integer.parseInt(new String(Base64.getDecoder().decode(s.getData().get("port")), StandardCharsets.UTF_8));
    return ReflexClient.connect(eps.getEndpoints().getFirst().getAddresses().getFirst(), port,
        ClientOptions.defaults().withToken(token(tenant)));
  }

  static void writeAndVerify(ReflexClient c, long first, int blocks, int seed) throws Exception {
    for (int i = 0; i < blocks; i++) c.write((first + i) * 8, NodeAgentLoopTest.block(first + i, seed)).get(10, TimeUnit.SECONDS);
    verify(c, first, blocks, seed);
  }

  static void verify(ReflexClient c, long first, int blocks, int seed) throws Exception {
    for (int i = 0; i < blocks; i++) {
      ByteBuffer got = c.read((first + i) * 8, 8).get(10, TimeUnit.SECONDS);
      assertThat(got).as("block %d", first + i).isEqualTo(NodeAgentLoopTest.block(first + i, seed));
    }
  }

  static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}

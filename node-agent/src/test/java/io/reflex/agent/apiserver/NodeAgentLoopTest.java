package io.reflex.agent.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.client.ReflexException;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.DeviceSelector;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.PlacementConstraints;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.PlacementService;
import io.reflex.operator.device.FlashDeviceReconciler;
import io.reflex.operator.tenant.FlashTenantReconciler;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The loop from {@code kubectl apply} to a client's I/O: a real kube-apiserver, the operator's reconcilers, and two
 * node agents as separate processes on file-backed devices, each on its own stand-in node address. Tenants reach the
 * client only through what the operator published: the Secret (port, token) and the EndpointSlice (address).
 */
@KubeApiTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeAgentLoopTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static KubeApi api;
  static KubernetesClient client;
  static Operator operator;
  static StandInNodes nodes;
  static LocalAgent agentA;
  static LocalAgent agentB;
  static Path dir;
  static Path deviceA;
  static String[] argsA;
  static String node = "";

  @BeforeAll
  static void start(KubeApi kubeApi) throws Exception {
    Assumptions.assumeTrue(StandInNodes.available(), "needs root and iproute2 for stand-in node addresses");
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(crds());
    String ns = api.namespace();
    node = "loop-" + Integer.toHexString(ns.hashCode() & 0xfff);
    OperatorSettings settings = OperatorSettings.defaults();
    OperatorMetrics metrics = new OperatorMetrics(new SimpleMeterRegistry());
    PlacementService placement = new PlacementService(settings, metrics, Set.of(ns));
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));
    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(ns));
    operator.start();

    nodes = new StandInNodes();
    String addrA = nodes.add(11);
    String addrB = nodes.add(12);
    dir = Files.createTempDirectory("agent-loop");
    deviceA = file(dir.resolve("a.img"), 64);
    Path deviceB = file(dir.resolve("b.img"), 64);
    Path kubeconfig = api.controlPlane().kubeconfig();
    nbdBase = freePort();
    argsA = new String[] {"--node", node + "-a", "--address", addrA, "--device", deviceA + ",model=sample",
        "--state-dir", dir.resolve("state-a").toString(), "--rescan", "0.5", "--poll", "block",
        "--nbd-port", Integer.toString(nbdBase)};
    agentA = new LocalAgent(kubeconfig, dir.resolve("agent-a.log"), argsA).start();
    agentB = new LocalAgent(kubeconfig, dir.resolve("agent-b.log"), "--node", node + "-b", "--address", addrB,
        "--device", deviceB + ",model=sample,engine=file", "--state-dir", dir.resolve("state-b").toString(),
        "--rescan", "0.5", "--poll", "block", "--nbd-port", Integer.toString(nbdBase)).start();
  }

  static int nbdBase;

  static int freePort() throws IOException {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
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
        operator.stop();
      }
      if (nodes != null) nodes.close();
    }
  }

  @Test
  @Order(1)
  void publishesEachConfiguredDeviceReadyWithItsCapacity() {
    FlashDevice a = awaitDevice(node + "-a-a.img", DevicePhase.Ready);
    assertThat(a.getSpec().getNodeName()).isEqualTo(node + "-a");
    assertThat(a.getSpec().getDevicePath()).isEqualTo(deviceA.toString());
    assertThat(a.getStatus().getCapacityBytes()).isEqualTo(64L << 20);
    assertThat(a.getMetadata().getAnnotations()).containsEntry("reflex.io/node-address", "10.213.11.1");
    assertThat(condition(a.getStatus().getConditions(), "Claimed").getStatus()).isEqualTo("True");
    // The operator's fields sit next to the agent's: neither overwrites the other.
    FlashDevice budgeted = await().atMost(WAIT).until(() -> device(node + "-a-a.img"),
        d -> d.getStatus().getTokenBudget() != null && d.getStatus().getPhase() == DevicePhase.Ready);
    assertThat(condition(budgeted.getStatus().getConditions(), "Budgeted")).isNotNull();
    assertThat(condition(budgeted.getStatus().getConditions(), "Serving").getStatus()).isEqualTo("True");
    awaitDevice(node + "-b-b.img", DevicePhase.Ready);
  }

  @Test
  @Order(2)
  void anAppliedTenantIsServedAndAClientUsingItsSecretWritesAndReadsBack() throws Exception {
    apply(tenant("db", TenantClass.LC, node + "-a"));
    FlashTenant t = awaitPhase("db", TenantPhase.Serving);
    assertThat(condition(t.getStatus().getConditions(), "Serving").getMessage()).contains("10.213.11.1:" + t.getStatus().getPlacement().getPort());
    try (ReflexClient c = connect("db", null)) {
      writeAndVerify(c, 0, 64, 1);
    }
  }

  @Test
  @Order(3)
  void theSecretsNbdUriOpensTheSameDataForNbdcopy() throws Exception {
    Assumptions.assumeTrue(StandInNodes.run("nbdcopy", "--version") == 0, "needs nbdcopy (libnbd-bin)");
    FlashDevice dev = device(tenant("db").getStatus().getPlacement().getDevice());
    assertThat(dev.getStatus().getNbdPort()).isEqualTo(nbdBase);
    Secret s = client.secrets().inNamespace(api.namespace()).withName("db-reflex").get();
    Endpoint e = endpoint("db");
    String export = api.namespace() + ".db:" + e.token;
    assertThat(decode(s.getData().get("nbdExport"))).isEqualTo(export);
    assertThat(decode(s.getData().get("nbdUri"))).isEqualTo("nbd://db." + api.namespace() + ".svc:" + nbdBase + "/" + export);
    var svcPorts = client.services().inNamespace(api.namespace()).withName("db").get().getSpec().getPorts();
    assertThat(svcPorts).extracting(p -> p.getName() + ":" + p.getPort()).contains("nbd:" + nbdBase);
    // What DNS answers for the Service in a pod: the EndpointSlice's address.
    String uri = "nbd://" + e.address + ":" + nbdBase + "/" + export;

    Path out = dir.resolve("db-read.img");
    assertThat(StandInNodes.run("nbdcopy", uri, out.toString())).as("nbdcopy %s -> file", uri).isZero();
    assertThat(Files.size(out)).isEqualTo(8L << 20);
    byte[] read = Files.readAllBytes(out);
    for (int i = 0; i < 64; i++) { // what the ReFlex client wrote in the test before
      assertThat(ByteBuffer.wrap(read, i * 4096, 4096)).as("block %d over NBD", i).isEqualTo(block(i, 1));
    }
    Path in = dir.resolve("db-write.img");
    ByteBuffer img = ByteBuffer.allocate(8 << 20);
    for (int i = 0; i < 64; i++) img.put(block(i, 3));
    Files.write(in, img.array());
    assertThat(StandInNodes.run("nbdcopy", in.toString(), uri)).as("nbdcopy file -> %s", uri).isZero();
    try (ReflexClient c = connect("db", null)) {
      verify(c, 0, 64, 3);
    }
    assertThat(StandInNodes.run("nbdinfo", "--size", "nbd://" + e.address + ":" + nbdBase + "/" + api.namespace() + ".db:wrong"))
        .as("a wrong token in the export name").isNotZero();
  }

  @Test
  @Order(4)
  void aWrongTokenIsRefused() {
    Endpoint e = endpoint("db");
    assertThatThrownBy(() -> ReflexClient.connect(e.address, e.port, ClientOptions.defaults().withToken("not-the-token")).close())
        .isInstanceOf(ReflexException.class).hasMessageContaining("token");
  }

  @Test
  @Order(5)
  void deletingTheSecretRotatesTheTokenAndConnectedClientsStay() throws Exception {
    Endpoint before = endpoint("db");
    try (ReflexClient connected = connect("db", null)) {
      client.secrets().inNamespace(api.namespace()).withName("db-reflex").delete();
      String rotated = await().atMost(WAIT).until(() -> {
        Secret x = client.secrets().inNamespace(api.namespace()).withName("db-reflex").get();
        return x == null ? null : decode(x.getData().get("token"));
      }, tok -> tok != null && !tok.equals(before.token));
      // The agent takes the new hash from the tenant's status: new connections need the new token ...
      await().atMost(WAIT).ignoreExceptions().untilAsserted(() ->
          ReflexClient.connect(before.address, before.port, ClientOptions.defaults().withToken(rotated)).close());
      assertThatThrownBy(() -> ReflexClient.connect(before.address, before.port,
          ClientOptions.defaults().withToken(before.token)).close()).isInstanceOf(ReflexException.class).hasMessageContaining("token");
      // ... and the connection let in with the old one is still served.
      writeAndVerify(connected, 100, 8, 21);
    }
  }

  @Test
  @Order(6)
  void deletingOneTenantClosesItsPortAndLeavesTheOtherOnTheSameDeviceAlone() throws Exception {
    apply(tenant("logs", TenantClass.BE, node + "-a"));
    awaitPhase("logs", TenantPhase.Serving);
    FlashTenant logs = tenant("logs");
    assertThat(logs.getStatus().getPlacement().getDevice()).isEqualTo(tenant("db").getStatus().getPlacement().getDevice());
    Endpoint db = endpoint("db");
    try (ReflexClient c = connect("logs", null)) {
      writeAndVerify(c, 0, 32, 7);
      client.resources(FlashTenant.class).inNamespace(api.namespace()).withName("db").delete();
      await().atMost(WAIT).until(() -> tenant("db") == null);
      await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> ReflexClient.connect(db.address, db.port,
          ClientOptions.defaults().withToken(db.token)).close()).isInstanceOf(ConnectException.class));
      writeAndVerify(c, 32, 32, 8); // the same connection, still served
    }
  }

  @Test
  @Order(7)
  void afterKillMinus9TheRestartedAgentServesTheSameTenantsOnTheSamePortsWithTheirData() throws Exception {
    FlashTenant before = tenant("logs");
    agentA.kill();
    agentA = new LocalAgent(api.controlPlane().kubeconfig(), dir.resolve("agent-a2.log"), argsA).start();
    await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> {
      try (ReflexClient c = connect("logs", null)) {
        verify(c, 0, 32, 7);
        verify(c, 32, 32, 8);
      }
    });
    FlashTenant after = awaitPhase("logs", TenantPhase.Serving);
    assertThat(after.getStatus().getPlacement().getPort()).isEqualTo(before.getStatus().getPlacement().getPort());
    assertThat(after.getStatus().getPlacement().getLbaOffset()).isEqualTo(before.getStatus().getPlacement().getLbaOffset());
  }

  @Test
  @Order(8)
  void aDeviceThatBecomesInUseIsGivenUpAndItsTenantsAreToldSo() throws Exception {
    Assumptions.assumeTrue(StandInNodes.run("losetup", "--version") == 0, "needs losetup");
    Process p = new ProcessBuilder("losetup", "-f", "--show", deviceA.toString()).start();
    String loop = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    Assumptions.assumeTrue(p.waitFor() == 0 && loop.startsWith("/dev/loop"), "no free loop device");
    try {
      FlashDevice d = awaitDevice(node + "-a-a.img", DevicePhase.Unavailable);
      assertThat(condition(d.getStatus().getConditions(), "Claimed").getMessage()).contains(loop);
      FlashTenant t = await().atMost(WAIT).until(() -> tenant("logs"),
          x -> "False".equals(condition(x.getStatus().getConditions(), "DeviceReady").getStatus()));
      assertThat(condition(t.getStatus().getConditions(), "Serving").getStatus()).isEqualTo("False");
      Endpoint e = endpoint("logs");
      assertThatThrownBy(() -> ReflexClient.connect(e.address, e.port, ClientOptions.defaults().withToken(e.token)).close())
          .isInstanceOf(ConnectException.class);
    } finally {
      StandInNodes.run("losetup", "-d", loop);
    }
    // Free again, and still ours: served again with its data.
    awaitDevice(node + "-a-a.img", DevicePhase.Ready);
    awaitPhase("logs", TenantPhase.Serving);
    try (ReflexClient c = connect("logs", null)) {
      verify(c, 0, 32, 7);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  record Endpoint(String address, int port, String token) {}

  /** What a client in the cluster learns: port and token from the Secret, the address as DNS would answer for the Service. */
  static Endpoint endpoint(String tenant) {
    Secret s = await().atMost(WAIT).until(() -> client.secrets().inNamespace(api.namespace()).withName(tenant + "-reflex").get(),
        x -> x != null);
    Map<String, String> data = s.getData();
    String host = decode(data.get("host"));
    assertThat(host).isEqualTo(tenant + "." + api.namespace() + ".svc");
    EndpointSlice eps = await().atMost(WAIT).until(() -> client.resources(EndpointSlice.class).inNamespace(api.namespace())
        .withName(tenant + "-reflex").get(), x -> x != null && x.getEndpoints() != null && !x.getEndpoints().isEmpty());
    return new Endpoint(eps.getEndpoints().getFirst().getAddresses().getFirst(), Integer.parseInt(decode(data.get("port"))),
        decode(data.get("token")));
  }

  static ReflexClient connect(String tenant, String token) throws IOException {
    Endpoint e = endpoint(tenant);
    return ReflexClient.connect(e.address, e.port, ClientOptions.defaults().withToken(token != null ? token : e.token));
  }

  static void writeAndVerify(ReflexClient c, long firstBlock, int blocks, int seed) throws Exception {
    for (int i = 0; i < blocks; i++) c.write((firstBlock + i) * 8, block(firstBlock + i, seed)).get(10, TimeUnit.SECONDS);
    verify(c, firstBlock, blocks, seed);
  }

  static void verify(ReflexClient c, long firstBlock, int blocks, int seed) throws InterruptedException, ExecutionException,
      java.util.concurrent.TimeoutException {
    for (int i = 0; i < blocks; i++) {
      ByteBuffer got = c.read((firstBlock + i) * 8, 8).get(10, TimeUnit.SECONDS);
      assertThat(got).as("block %d", firstBlock + i).isEqualTo(block(firstBlock + i, seed));
    }
  }

  static ByteBuffer block(long n, int seed) {
    ByteBuffer b = ByteBuffer.allocate(4096);
    long x = n * 0x9E3779B97F4A7C15L + seed;
    while (b.hasRemaining()) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      b.putLong(x);
    }
    return b.flip();
  }

  static FlashTenant tenant(String name, TenantClass cls, String onNode) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(cls);
    if (cls == TenantClass.LC) {
      s.setIops(1000L);
      s.setReadPercent(90);
      s.setP95LatencyMicros(2000);
    }
    s.setCapacity(new Quantity("8Mi"));
    PlacementConstraints pc = new PlacementConstraints();
    DeviceSelector ds = new DeviceSelector();
    ds.setMatchLabels(Map.of("reflex.io/node", onNode));
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

  static FlashTenant awaitPhase(String name, TenantPhase phase) {
    return await().atMost(WAIT).until(() -> tenant(name), t -> t != null && t.getStatus() != null && t.getStatus().getPhase() == phase);
  }

  static FlashDevice awaitDevice(String name, DevicePhase phase) {
    return await().atMost(WAIT).until(() -> device(name), d -> d != null && d.getStatus() != null && d.getStatus().getPhase() == phase);
  }

  static Condition condition(java.util.List<Condition> conds, String type) {
    return conds == null ? null : conds.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
  }

  static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }

  static Path file(Path p, int mib) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      byte[] zero = new byte[1 << 20];
      for (int i = 0; i < mib; i++) f.write(zero);
    }
    return p;
  }

  static Path[] crds() {
    Path d = Path.of(System.getProperty("reflex.crds.dir", "../crds/generated"));
    return new Path[] {d.resolve("flashdevices.reflex.io-v1.yml"), d.resolve("flashtenants.reflex.io-v1.yml")};
  }
}

package io.reflex.agent.apiserver;

import static io.reflex.agent.apiserver.AgentLossTest.condition;
import static io.reflex.agent.apiserver.AgentLossTest.heartbeat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.check.crash.BlockTarget;
import io.reflex.check.crash.NbdTarget;
import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.crds.access.TenantNames;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
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
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A partitioned agent fences itself (issue 15): agent A is alive and its dataplane serving, but its API traffic goes
 * through a proxy ({@link ApiProxy}) that the test cuts. Its heartbeat (6 s Lease, renewed every 1.5 s) stops; after
 * the fence interval (3 s, the default half of the duration) it closes every tenant listener and connection, ReFlex
 * and NBD, before the operator (replace-on-device-loss) declares it lost after 6 s and re-places a tenant that may
 * live elsewhere on node B. A ReFlex client writing to A the whole time has its connection closed before that verdict
 * and is refused from then on; what A acknowledged before the fence is on A's device. Proxy restored: A renews,
 * re-reads the tenants placed on its node, serves the one pinned to it again (ReFlex and NBD, with its data) and never
 * the one that moved.
 */
@KubeApiTest
class AgentPartitionTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  static final long FIRST_BLOCK = 16;
  static final int SPAN = 1000;
  static KubeApi api;
  static KubernetesClient client;
  static Operator operator;
  static AgentHeartbeats heartbeats;
  static StandInNodes nodes;
  static ApiProxy proxy;
  static LocalAgent agentA;
  static LocalAgent agentB;
  static Path dir;
  static String node;
  static String addrA;
  static int nbdPortA;

  @BeforeAll
  static void start(KubeApi kubeApi) throws Exception {
    Assumptions.assumeTrue(StandInNodes.available(), "needs root and iproute2 for stand-in node addresses");
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(NodeAgentLoopTest.crds());
    String ns = api.namespace();
    node = "part-" + Integer.toHexString(ns.hashCode() & 0xfff);
    OperatorSettings settings = new OperatorSettings(PlacementPolicy.BEST_FIT, 20000, 29999, false, true, Duration.ofSeconds(60));
    OperatorMetrics metrics = new OperatorMetrics(new SimpleMeterRegistry());
    heartbeats = new AgentHeartbeats(client, ns, Duration.ofSeconds(30), Duration.ofMillis(250));
    PlacementService placement = new PlacementService(settings, metrics, Set.of(ns), heartbeats, LeaderFence.NONE);
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));
    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(ns));
    operator.start();

    nodes = new StandInNodes();
    addrA = nodes.add(23);
    String addrB = nodes.add(24);
    dir = Files.createTempDirectory("agent-partition");
    Path kubeconfig = api.controlPlane().kubeconfig();
    proxy = ApiProxy.forKubeconfig(kubeconfig);
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName(addrA))) {
      nbdPortA = free.getLocalPort();
    }
    // Agent A reaches the API server only through the proxy; the operator and agent B directly.
    agentA = agent(proxy.kubeconfig(kubeconfig, dir), "agent-a.log", "--node", node + "-a", "--address", addrA,
        "--device", NodeAgentLoopTest.file(dir.resolve("a.img"), 16) + ",model=sample", "--state-dir",
        dir.resolve("state-a").toString(), "--rescan", "0.5", "--poll", "block", "--nbd-port", Integer.toString(nbdPortA));
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
      if (proxy != null) proxy.restore(); // whatever happened, let agent A see the deletions
    } catch (IOException | RuntimeException e) {
      // already listening
    }
    try {
      if (operator != null) {
        client.resources(FlashTenant.class).inNamespace(api.namespace()).delete();
        await().atMost(WAIT).until(() -> client.resources(FlashTenant.class).inNamespace(api.namespace()).list().getItems().isEmpty());
      }
    } finally {
      if (agentA != null) {
        // What agent A said about its heartbeat and fence (JUL: a time line, then the message), for the report.
        List<String> lines = agentA.log().lines().toList();
        for (int i = 1; i < lines.size(); i++) {
          String l = lines.get(i);
          if (l.contains("FENCED") || l.contains("heartbeat") || l.contains("still fenced")) {
            System.out.println("agent A: " + lines.get(i - 1) + " | " + l);
          }
        }
      }
      if (agentA != null) agentA.close();
      if (agentB != null) agentB.close();
      if (operator != null) {
        for (String n : List.of(node + "-a", node + "-b")) client.resources(FlashDevice.class).withLabel("reflex.io/node", n).delete();
        await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withLabel("reflex.io/node", node + "-a").list()
            .getItems().isEmpty() && client.resources(FlashDevice.class).withLabel("reflex.io/node", node + "-b").list()
            .getItems().isEmpty());
        operator.stop();
      }
      if (heartbeats != null) heartbeats.close();
      if (proxy != null) proxy.close();
      if (nodes != null) nodes.close();
      if (dir != null) AgentLossTest.deleteTree(dir);
    }
  }

  @Test
  void aPartitionedAgentStopsServingBeforeItsTenantsMoveAndServesOnlyThoseStillPlacedOnItWhenBack() throws Exception {
    String devA = node + "-a-a.img";
    String devB = node + "-b-b.img";
    await().atMost(WAIT).until(() -> device(devA), d -> d != null && heartbeat(d) != null
        && "True".equals(heartbeat(d).getStatus()) && d.getStatus().getPhase() == DevicePhase.Ready
        && d.getStatus().getNbdPort() != null);
    await().atMost(WAIT).until(() -> device(devB), d -> d != null && heartbeat(d) != null && "True".equals(heartbeat(d).getStatus()));
    assertThat(proxy.accepted()).as("agent A talks to the API server through the proxy").isPositive();

    // "pinned" may only live on node A; "mobile" on either, and best-fit puts it next to "pinned".
    apply(AgentLossTest.tenant("pinned", node + "-a"));
    TenantPlacement pinned = awaitServing("pinned").getStatus().getPlacement();
    apply(AgentLossTest.tenant("mobile", node + "-a", node + "-b"));
    TenantPlacement before = awaitServing("mobile").getStatus().getPlacement();
    assertThat(pinned.getDevice()).isEqualTo(devA);
    assertThat(before.getDevice()).as("best-fit packs mobile next to pinned").isEqualTo(devA);
    try (ReflexClient c = connect("pinned")) {
      AgentLossTest.writeAndVerify(c, 0, 16, 5);
    }
    String pinnedExport = await().atMost(WAIT).until(() -> secret("pinned", "nbdExport"), e -> e != null);
    NbdTarget nbd = NbdTarget.connect(addrA, nbdPortA, pinnedExport, 5000);
    byte[] nbdBlock = NodeAgentLoopTest.block(100, 7).array();
    nbd.write(100, nbdBlock, false).get(10, TimeUnit.SECONDS);
    assertThat(nbd.read(100, 1).get(10, TimeUnit.SECONDS)).isEqualTo(nbdBlock);

    // A client of "mobile" on node A writes the whole time, one block after the other.
    Writer writer = new Writer(addrA, before.getPort(), token("mobile"));
    writer.start();
    await().atMost(WAIT).until(() -> writer.acked.get() > 50);

    proxy.cut();

    // A fences itself: the writer's connection is closed, the NBD connection too. All before the operator's verdict.
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> writer.failure != null);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> nbdClosed(nbd));
    FlashDevice lost = await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> device(devA),
        d -> heartbeat(d) != null && "False".equals(heartbeat(d).getStatus()));
    assertThat(writer.failure).as("agent A closed the connection before the operator declared it lost").isNotNull();
    assertThat(nbdClosed(nbd)).as("NBD connections too").isTrue();
    assertThat(heartbeat(lost).getReason()).isEqualTo("HeartbeatMissed");
    assertThat(lost.getStatus().getPhase()).as("the device is left as it was").isEqualTo(DevicePhase.Ready);
    assertThat(agentA.log()).contains("FENCED: no successful renewal of Lease");
    assertThatThrownBy(() -> ReflexClient.connect(addrA, pinned.getPort(), ClientOptions.defaults()
        .withToken(token("pinned"))).close()).as("pinned's port on node A while fenced")
        .isInstanceOf(ConnectException.class);
    assertThatThrownBy(() -> NbdTarget.connect(addrA, nbdPortA, pinnedExport, 5000).close())
        .as("no NBD export while fenced").isInstanceOf(IOException.class);

    // The operator moves "mobile" to node B (an empty extent); "pinned" has nowhere to go and is told.
    FlashTenant moved = await().atMost(WAIT).until(() -> tenant("mobile"), t -> devB.equals(t.getStatus().getPlacement().getDevice())
        && t.getStatus().getPhase() == TenantPhase.Serving);
    assertThat(condition(moved, "Admitted").getReason()).isEqualTo("Replaced");
    await().atMost(WAIT).until(() -> "AgentLost".equals(reason(tenant("pinned"), "DeviceReady")));
    await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> {
      try (ReflexClient c = connect("mobile")) {
        AgentLossTest.writeAndVerify(c, 0, 16, 6);
      }
    });

    // Every write A acknowledged before the fence is on A's device, in mobile's old extent.
    List<Long> wrong = writer.checkDurable(dir.resolve("a.img"), before.getLbaOffset() * 512);
    assertThat(wrong).as("acknowledged blocks missing from A's device").isEmpty();

    proxy.restore();

    // A renews, re-reads its tenants and serves "pinned" again, with its data, over ReFlex and NBD.
    await().atMost(WAIT).until(() -> device(devA), d -> "True".equals(heartbeat(d).getStatus()));
    await().atMost(WAIT).until(() -> {
      FlashTenant t = tenant("pinned");
      return t.getStatus().getPhase() == TenantPhase.Serving && "True".equals(condition(t, "DeviceReady").getStatus())
          && "True".equals(condition(t, "Serving").getStatus());
    });
    await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> {
      try (ReflexClient c = connect("pinned")) {
        AgentLossTest.verify(c, 0, 16, 5);
      }
    });
    try (NbdTarget again = NbdTarget.connect(addrA, nbdPortA, pinnedExport, 5000)) {
      assertThat(again.read(100, 1).get(10, TimeUnit.SECONDS)).isEqualTo(nbdBlock);
    }
    assertThat(agentA.log()).contains("UNFENCED");
    // ...and never "mobile", which moved while it was cut off: its old port on A stays closed.
    assertThatThrownBy(() -> ReflexClient.connect(addrA, before.getPort(), ClientOptions.defaults()
        .withToken(token("mobile"))).close()).as("the old port of the moved tenant on node A")
        .isInstanceOf(ConnectException.class);
    String mobileOnA = TenantNames.nbdExport(tenant("mobile"), token("mobile")); // node B has no NBD: no nbdExport
    assertThatThrownBy(() -> NbdTarget.connect(addrA, nbdPortA, mobileOnA, 5000).close())
        .as("the moved tenant's NBD export on node A").isInstanceOf(IOException.class);
    assertThat(tenant("mobile").getStatus().getPlacement().getDevice()).isEqualTo(devB);
    assertThat(condition(tenant("mobile"), "Serving").getMessage()).contains(devB);

    // The writer kept knocking on A's old port from its first failure until now: never served again.
    writer.stop();
    assertThat(writer.attemptsAfterFailure.get()).as("reconnects tried after the fence").isPositive();
    assertThat(writer.served).as("reconnects to A that were served").isEmpty();
    assertThat(writer.ackedAfterFailure.get()).as("writes A acknowledged after the fence").isZero();
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  // AgentLossTest's helpers that talk to the API server use its own static client: these use this class's.

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

  static String reason(FlashTenant t, String type) {
    var c = condition(t, type);
    return c == null ? null : c.getReason();
  }

  static String token(String tenant) {
    return secret(tenant, "token");
  }

  /** Port and token from the Secret, the address from the EndpointSlice (what DNS answers for the Service). */
  static ReflexClient connect(String tenant) throws IOException {
    EndpointSlice eps = client.resources(EndpointSlice.class).inNamespace(api.namespace()).withName(tenant + "-reflex").get();
    return ReflexClient.connect(eps.getEndpoints().getFirst().getAddresses().getFirst(),
        Integer.parseInt(secret(tenant, "port")), ClientOptions.defaults().withToken(token(tenant)));
  }

  static String secret(String tenant, String key) {
    Secret s = client.secrets().inNamespace(api.namespace()).withName(tenant + "-reflex").get();
    String v = s == null || s.getData() == null ? null : s.getData().get(key);
    return v == null ? null : new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
  }

  /** Whether the NBD connection was closed by the server (a read fails with "closed"). */
  static boolean nbdClosed(NbdTarget nbd) {
    try {
      nbd.read(100, 1).get(5, TimeUnit.SECONDS);
      return false;
    } catch (Exception e) {
      return BlockTarget.isClosed(e);
    }
  }

  /**
   * Writes distinct blocks of one tenant at QD1 (block FIRST_BLOCK + i % SPAN, seed 1000 + i / SPAN), remembering
   * the last acknowledged seed per block; once a write fails, keeps trying to reconnect (and write) to the same
   * address and port, counting what is served.
   */
  static final class Writer {
    final String host;
    final int port;
    final String token;
    final int[] seedOf = new int[SPAN];
    final java.util.concurrent.atomic.AtomicLong acked = new java.util.concurrent.atomic.AtomicLong();
    final AtomicInteger attemptsAfterFailure = new AtomicInteger();
    final AtomicInteger ackedAfterFailure = new AtomicInteger();
    final List<String> served = Collections.synchronizedList(new ArrayList<>());
    volatile Throwable failure;
    volatile int inDoubt = -1;
    volatile boolean stopped;
    private Thread thread;

    Writer(String host, int port, String token) {
      this.host = host;
      this.port = port;
      this.token = token;
    }

    void start() {
      thread = Thread.ofPlatform().daemon().name("partition-writer").start(this::run);
    }

    void stop() throws InterruptedException {
      stopped = true;
      thread.join(30_000);
    }

    private void run() {
      ClientOptions opts = ClientOptions.defaults().withToken(token);
      try (ReflexClient c = ReflexClient.connect(host, port, opts)) {
        for (long i = 0; !stopped; i++) {
          int j = (int) (i % SPAN);
          int seed = 1000 + (int) (i / SPAN);
          try {
            c.write((FIRST_BLOCK + j) * 8, NodeAgentLoopTest.block(FIRST_BLOCK + j, seed)).get(10, TimeUnit.SECONDS);
          } catch (Exception e) {
            inDoubt = j;
            failure = e;
            break;
          }
          synchronized (seedOf) {
            seedOf[j] = seed;
          }
          acked.incrementAndGet();
          Thread.sleep(2);
        }
      } catch (Exception e) {
        if (failure == null) failure = e;
      }
      while (!stopped) {
        attemptsAfterFailure.incrementAndGet();
        ReflexClient again;
        try {
          again = ReflexClient.connect(host, port, opts);
        } catch (IOException e) {
          // Refused (nothing listens), or closed before HELLO was answered (a connection the kernel queued while the
          // listener was being closed): not served either way.
          again = null;
        }
        if (again != null) {
          served.add("HELLO answered by " + host + ":" + port);
          try (ReflexClient c = again) {
            c.write((FIRST_BLOCK + SPAN + 1) * 8, NodeAgentLoopTest.block(FIRST_BLOCK + SPAN + 1, 999)).get(5, TimeUnit.SECONDS);
            ackedAfterFailure.incrementAndGet();
          } catch (Exception e) {
            // not acknowledged
          }
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /** Blocks acknowledged (and not overwritten by the write in doubt) whose content is not on the device file. */
    List<Long> checkDurable(Path device, long extentByteOffset) throws IOException {
      List<Long> wrong = new ArrayList<>();
      try (FileChannel f = FileChannel.open(device, StandardOpenOption.READ)) {
        synchronized (seedOf) {
          for (int j = 0; j < SPAN; j++) {
            if (seedOf[j] == 0 || j == inDoubt) continue;
            ByteBuffer got = ByteBuffer.allocate(4096);
            long at = extentByteOffset + (FIRST_BLOCK + j) * 4096;
            while (got.hasRemaining() && f.read(got, at + got.position()) >= 0) {
              // a short read goes on where it stopped
            }
            if (!got.flip().equals(NodeAgentLoopTest.block(FIRST_BLOCK + j, seedOf[j]))) wrong.add(FIRST_BLOCK + j);
          }
        }
      }
      return wrong;
    }
  }
}

package io.reflex.agent.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.client.ReflexException;
import io.reflex.crds.v1alpha1.AuthMode;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.DeviceSelector;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.PlacementConstraints;
import io.reflex.crds.v1alpha1.TenantAuth;
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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A device failing under load (issue 15): one agent process serving two file devices, one of them a sparse 64 MiB
 * file on an 8 MiB ext4 filesystem (loop-mounted) that fills up. Writes the device cannot take (ENOSPC from the
 * kernel) come back as EIO to extended clients, whose connection stays, and close a legacy client's connection
 * (it cannot read a status); no write that failed is ever acknowledged, every acknowledged one reads back, and the
 * tenant on the other device is served throughout.
 */
@KubeApiTest
class DeviceFailureTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  static final String DISK_LABEL = "test.reflex.io/disk";
  static KubeApi api;
  static KubernetesClient client;
  static Operator operator;
  static StandInNodes nodes;
  static LocalAgent agent;
  static Path dir;
  static Path mount;
  static String node;

  @BeforeAll
  static void start(KubeApi kubeApi) throws Exception {
    Assumptions.assumeTrue(StandInNodes.available(), "needs root and iproute2 for stand-in node addresses");
    Assumptions.assumeTrue(StandInNodes.run("mkfs.ext4", "-V") == 0, "needs mkfs.ext4 (e2fsprogs)");
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(NodeAgentLoopTest.crds());
    String ns = api.namespace();
    node = "fail-" + Integer.toHexString(ns.hashCode() & 0xfff);
    OperatorSettings settings = OperatorSettings.defaults();
    OperatorMetrics metrics = new OperatorMetrics(new SimpleMeterRegistry());
    PlacementService placement = new PlacementService(settings, metrics, Set.of(ns));
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));
    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(ns));
    operator.start();

    dir = Files.createTempDirectory("device-failure");
    // The small filesystem: 8 MiB of ext4 (4 KiB blocks, nothing reserved for root), the device a 64 MiB sparse file in it.
    Path image = dir.resolve("small-fs.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(8 << 20);
    }
    assertThat(StandInNodes.run("mkfs.ext4", "-q", "-F", "-b", "4096", "-m", "0", image.toString())).as("mkfs.ext4").isZero();
    mount = Files.createDirectories(dir.resolve("small"));
    assertThat(StandInNodes.run("mount", "-o", "loop", image.toString(), mount.toString())).as("mount -o loop").isZero();
    Path full = mount.resolve("full.img");
    try (RandomAccessFile f = new RandomAccessFile(full.toFile(), "rw")) {
      f.setLength(64 << 20);
    }
    Path ok = NodeAgentLoopTest.file(dir.resolve("ok.img"), 16);

    nodes = new StandInNodes();
    String address = nodes.add(31);
    agent = new LocalAgent(api.controlPlane().kubeconfig(), dir.resolve("agent.log"), "--node", node, "--address", address,
        "--device", full + ",model=sample", "--device", ok + ",model=sample", "--state-dir", dir.resolve("state").toString(),
        "--rescan", "0.5", "--poll", "block", "--nbd-port", "0").env("REFLEX_HEARTBEAT_SECONDS", "0").start();
    label(node + "-full.img", "full");
    label(node + "-ok.img", "ok");
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (operator != null) {
        client.resources(FlashTenant.class).inNamespace(api.namespace()).delete();
        await().atMost(WAIT).until(() -> client.resources(FlashTenant.class).inNamespace(api.namespace()).list().getItems().isEmpty());
      }
    } finally {
      if (agent != null) agent.close();
      if (operator != null) {
        client.resources(FlashDevice.class).withLabel("reflex.io/node", node).delete();
        await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withLabel("reflex.io/node", node).list().getItems().isEmpty());
        operator.stop();
      }
      if (mount != null) StandInNodes.run("umount", mount.toString());
      if (nodes != null) nodes.close();
      if (dir != null) deleteTree(dir);
    }
  }

  @Test
  void writesTheDeviceCannotTakeFailAndNeverSucceedWhileTheOtherDeviceKeepsServing() throws Exception {
    apply(tenant("legacy", "full", "8Mi", false));
    apply(tenant("filler", "full", "24Mi", true));
    apply(tenant("steady", "ok", "8Mi", true));
    for (String t : List.of("legacy", "filler", "steady")) {
      await().atMost(WAIT).until(() -> tenant(t), x -> x != null && x.getStatus() != null && x.getStatus().getPhase() == TenantPhase.Serving);
    }

    try (ReflexClient legacy = connect("legacy", false); ReflexClient steady = connect("steady", true);
         ReflexClient filler = connect("filler", true)) {
      NodeAgentLoopTest.writeAndVerify(legacy, 0, 64, 1); // while there is room: plain acknowledgements
      NodeAgentLoopTest.writeAndVerify(steady, 0, 16, 2);

      // Fill the filesystem through "filler" until its writes fail, and on for a while after; "steady", on the other
      // device, writes between them.
      List<Long> acked = new ArrayList<>();
      List<String> failures = new ArrayList<>();
      int steadyWrites = 0;
      for (long b = 0; b < 6144 && failures.size() < 64; b++) {
        try {
          filler.write(b * 8, NodeAgentLoopTest.block(b, 3)).get(10, TimeUnit.SECONDS);
          acked.add(b);
        } catch (ExecutionException e) {
          failures.add(e.getCause() instanceof ReflexException r ? r.statusName() : String.valueOf(e.getCause()));
        }
        if (b % 128 == 0) {
          steady.write((16 + steadyWrites) * 8L, NodeAgentLoopTest.block(16 + steadyWrites, 2)).get(10, TimeUnit.SECONDS);
          steadyWrites++;
        }
      }
      assertThat(failures).as("writes past the filesystem's free space").isNotEmpty();
      assertThat(failures).as("an extended client is told EIO, its connection stays").containsOnly("EIO");
      assertThat(acked).as("writes before the filesystem filled up").hasSizeGreaterThan(100);
      assertThat(acked.size()).as("the filesystem holds at most 8 MiB").isLessThan(2048);
      // Nothing acknowledged was lost: every acknowledged block reads back (the connection is still usable).
      for (long b : acked) {
        assertThat(filler.read(b * 8, 8).get(10, TimeUnit.SECONDS)).as("acknowledged block %d", b)
            .isEqualTo(NodeAgentLoopTest.block(b, 3));
      }

      // A legacy client cannot read a status: its connection closes at the first write that fails, and no reply
      // ever says a failed write succeeded.
      List<Long> legacyAcked = new ArrayList<>();
      ReflexException closed = null;
      for (long b = 64; b < 2048 && closed == null; b++) {
        try {
          legacy.write(b * 8, NodeAgentLoopTest.block(b, 4)).get(10, TimeUnit.SECONDS);
          legacyAcked.add(b);
        } catch (ExecutionException e) {
          assertThat(e.getCause()).isInstanceOf(ReflexException.class);
          closed = (ReflexException) e.getCause();
        }
      }
      assertThat(closed).as("a failed write closes a legacy connection").isNotNull();
      assertThat(closed.isConnectionClosed()).as("legacy: %s", closed.statusName()).isTrue();

      // The other device served throughout and still does, and the full one still serves what it holds.
      NodeAgentLoopTest.verify(steady, 0, 16, 2);
      for (int i = 0; i < steadyWrites; i++) {
        assertThat(steady.read((16L + i) * 8, 8).get(10, TimeUnit.SECONDS)).isEqualTo(NodeAgentLoopTest.block(16 + i, 2));
      }
      NodeAgentLoopTest.writeAndVerify(steady, 100, 16, 5);
      try (ReflexClient again = connect("legacy", false)) {
        NodeAgentLoopTest.verify(again, 0, 64, 1);
        for (long b : legacyAcked) {
          assertThat(again.read(b * 8, 8).get(10, TimeUnit.SECONDS)).as("legacy block %d", b).isEqualTo(NodeAgentLoopTest.block(b, 4));
        }
      }
    }
    assertThat(device(node + "-ok.img").getStatus().getPhase()).isEqualTo(DevicePhase.Ready);
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  static void label(String device, String value) {
    await().atMost(WAIT).until(() -> device(device) != null);
    client.resources(FlashDevice.class).withName(device).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"" + DISK_LABEL + "\":\"" + value + "\"}}}");
  }

  static FlashTenant tenant(String name, String disk, String capacity, boolean token) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(TenantClass.BE);
    s.setCapacity(new Quantity(capacity));
    DeviceSelector ds = new DeviceSelector();
    ds.setMatchLabels(Map.of(DISK_LABEL, disk, "reflex.io/node", node));
    PlacementConstraints pc = new PlacementConstraints();
    pc.setDeviceSelector(ds);
    s.setPlacement(pc);
    if (!token) {
      TenantAuth auth = new TenantAuth();
      auth.setMode(AuthMode.None);
      s.setAuth(auth);
    }
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

  /** Port (and token) from the Secret, the address from the EndpointSlice; legacy mode when {@code extended} is false. */
  static ReflexClient connect(String tenant, boolean extended) throws IOException {
    Secret s = client.secrets().inNamespace(api.namespace()).withName(tenant + "-reflex").get();
    EndpointSlice eps = client.resources(EndpointSlice.class).inNamespace(api.namespace()).withName(tenant + "-reflex").get();
    int port = Integer.parseInt(decode(s.getData().get("port")));
    ClientOptions o = extended ? ClientOptions.defaults().withToken(decode(s.getData().get("token"))) : ClientOptions.defaults();
    return ReflexClient.connect(eps.getEndpoints().getFirst().getAddresses().getFirst(), port, o);
  }

  static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }

  static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}

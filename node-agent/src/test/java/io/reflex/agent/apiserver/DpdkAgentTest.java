package io.reflex.agent.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.client.ReflexException;
import io.reflex.client.UdpOptions;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
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
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node agent in DPDK mode ({@code --net dpdk}, net_af_packet on one end of a veth pair, {@code --no-huge}) against a
 * real kube-apiserver with the operator's reconcilers: its device is published Ready with {@code status.transport:
 * udp} at the DPDK port's address; a tenant placed there is exposed as UDP (Service, EndpointSlice, Secret
 * {@code transport: udp}) and served over UDP to a client in the network namespace at the other end of the veth pair,
 * which knows only what the operator published: write, read back, verify; a wrong token is refused. The agent's second
 * device is served over kernel TCP (one DPDK port per process) and says so. Needs root,
 * iproute2 and DPDK's af_packet driver (CI has them).
 */
@KubeApiTest
class DpdkAgentTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  static final UdpOptions UDP = new UdpOptions(Duration.ofMillis(50), 8, 8972);
  static KubeApi api;
  static KubernetesClient client;
  static Operator operator;
  static LocalAgent agent;
  static String node;
  static String tag;
  static String hostIf;
  static String clientNs;
  static String serverIp;
  static Path dir;

  @BeforeAll
  static void start(KubeApi kubeApi) throws Exception {
    Assumptions.assumeTrue(StandInNodes.available(), "needs root and iproute2 (a veth pair and a network namespace)");
    Assumptions.assumeTrue(io.reflex.dataplane.dpdk.DpdkLib.available(), io.reflex.dataplane.dpdk.DpdkLib.reason());
    Assumptions.assumeTrue(afPacketDriver(), "DPDK's net_af_packet driver is not installed");
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(NodeAgentLoopTest.crds());
    String ns = api.namespace();
    node = "dpdk-" + Integer.toHexString(ns.hashCode() & 0xfff);
    OperatorSettings settings = OperatorSettings.defaults();
    OperatorMetrics metrics = new OperatorMetrics(new SimpleMeterRegistry());
    PlacementService placement = new PlacementService(settings, metrics, Set.of(ns));
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));
    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(ns));
    operator.start();

    // The DPDK port: af_packet on the host end of a veth pair (no kernel address, forwarding off); the client sits in a
    // network namespace at the other end. The agent itself stays in the host namespace, where the API server is.
    int n = 100 + (int) (ProcessHandle.current().pid() % 100);
    tag = Integer.toString(n);
    hostIf = "rfxag" + tag + "s";
    clientNs = "rfxag" + tag + "c";
    serverIp = "10.79." + n + ".1";
    cleanNetwork();
    must("ip", "netns", "add", clientNs);
    must("ip", "link", "add", hostIf, "type", "veth", "peer", "name", clientNs);
    // Checksums in software on the client end: over veth the kernel would leave UDP checksums partial, which a packet
    // socket (af_packet) sees as wrong (a real NIC fills them in), as bench/dpdk/netns.sh does.
    if (StandInNodes.run("ethtool", "-K", clientNs, "tx", "off") != 0) {
      must("python3", "-c", "import ctypes,fcntl,socket,struct,sys\n"
          + "v=ctypes.create_string_buffer(struct.pack('II',0x17,0),8)\n"
          + "fcntl.ioctl(socket.socket().fileno(),0x8946,struct.pack('16sP',sys.argv[1].encode(),ctypes.addressof(v)))",
          clientNs);
    }
    must("ip", "link", "set", clientNs, "netns", clientNs);
    StandInNodes.run("sysctl", "-qw", "net.ipv6.conf." + hostIf + ".disable_ipv6=1");
    StandInNodes.run("sysctl", "-qw", "net.ipv4.conf." + hostIf + ".forwarding=0");
    must("ip", "link", "set", hostIf, "mtu", "9000", "up");
    must("ip", "-n", clientNs, "link", "set", clientNs, "mtu", "9000", "up");
    must("ip", "-n", clientNs, "addr", "add", "10.79." + n + ".2/24", "dev", clientNs);

    dir = Files.createTempDirectory("agent-dpdk");
    Path device = NodeAgentLoopTest.file(dir.resolve("d.img"), 64);
    Path second = NodeAgentLoopTest.file(dir.resolve("e.img"), 16);
    String eal = "--no-huge --no-pci --no-shconf -m 256 --no-telemetry --log-level warning --vdev net_af_packet0,iface="
        + hostIf + ",qpairs=1,framesz=9216,blocksz=36864,framecnt=512";
    agent = new LocalAgent(api.controlPlane().kubeconfig(), dir.resolve("agent.log"), "--node", node, "--address",
        "127.0.0.1", "--device", device + ",model=sample", "--device", second + ",model=sample", "--state-dir", dir.resolve("state").toString(),
        "--rescan", "0.5", "--threads", "1", "--nbd-port", "0", "--net", "dpdk", "--dpdk-args", eal,
        "--dpdk-address", serverIp + "/24", "--mtu", "9000").start();
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
        operator.stop();
      }
      if (hostIf != null) cleanNetwork();
    }
  }

  @Test
  void aTenantOnTheDpdkDeviceIsExposedAsUdpAndServedFromTheOtherNamespace() throws Exception {
    FlashDevice d = await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withName(node + "-d.img").get(),
        x -> x != null && x.getStatus() != null && x.getStatus().getPhase() == DevicePhase.Ready);
    assertThat(d.getStatus().getTransport()).isEqualTo("udp");
    assertThat(d.getStatus().getNbdPort()).as("NBD needs kernel TCP").isNull();
    assertThat(d.getMetadata().getAnnotations()).containsEntry("reflex.io/node-address", serverIp);
    assertThat(NodeAgentLoopTest.condition(d.getStatus().getConditions(), "Network").getMessage())
        .contains("UDP on the DPDK port at " + serverIp + "/24", "MTU 9000", "interface " + hostIf);

    // One DPDK port per process: the agent's other device is served over kernel TCP, and says so.
    FlashDevice e = await().atMost(WAIT).until(() -> client.resources(FlashDevice.class).withName(node + "-e.img").get(),
        x -> x != null && x.getStatus() != null && x.getStatus().getPhase() == DevicePhase.Ready);
    assertThat(e.getStatus().getTransport()).isEqualTo("tcp");
    assertThat(e.getMetadata().getAnnotations()).containsEntry("reflex.io/node-address", "127.0.0.1");
    assertThat(NodeAgentLoopTest.condition(e.getStatus().getConditions(), "Network").getMessage())
        .isEqualTo("kernel TCP on 127.0.0.1: the agent's one DPDK port serves device " + node + "-d.img");

    FlashTenant db = NodeAgentLoopTest.tenant("db", TenantClass.BE, node);
    db.getSpec().setCapacity(new io.fabric8.kubernetes.api.model.Quantity("32Mi")); // fits the DPDK device (64 MiB) only
    client.resource(db).inNamespace(api.namespace()).fieldManager("user").forceConflicts().serverSideApply();
    FlashTenant t = await().atMost(WAIT).until(() -> client.resources(FlashTenant.class).inNamespace(api.namespace())
        .withName("db").get(), x -> x != null && x.getStatus() != null && x.getStatus().getPhase() == TenantPhase.Serving);
    int port = t.getStatus().getPlacement().getPort();
    assertThat(NodeAgentLoopTest.condition(t.getStatus().getConditions(), "Serving").getMessage())
        .contains(serverIp + ":" + port + "/udp");

    // What a client learns from the cluster: UDP Service and EndpointSlice at the DPDK port's address, Secret with transport.
    Service svc = await().atMost(WAIT).until(() -> client.services().inNamespace(api.namespace()).withName("db").get(),
        x -> x != null);
    assertThat(svc.getSpec().getPorts()).extracting(p -> p.getName() + ":" + p.getProtocol() + ":" + p.getPort())
        .containsExactly("reflex:UDP:" + port);
    EndpointSlice eps = await().atMost(WAIT).until(() -> client.resources(EndpointSlice.class).inNamespace(api.namespace())
        .withName("db-reflex").get(), x -> x != null && x.getEndpoints() != null && !x.getEndpoints().isEmpty());
    assertThat(eps.getPorts()).extracting(p -> p.getProtocol() + ":" + p.getPort()).containsExactly("UDP:" + port);
    String address = eps.getEndpoints().getFirst().getAddresses().getFirst();
    assertThat(address).isEqualTo(serverIp);
    Secret s = await().atMost(WAIT).until(() -> client.secrets().inNamespace(api.namespace()).withName("db-reflex").get(),
        x -> x != null);
    Map<String, String> data = s.getData();
    assertThat(NodeAgentLoopTest.decode(data.get("transport"))).isEqualTo("udp");
    assertThat(Integer.parseInt(NodeAgentLoopTest.decode(data.get("port")))).isEqualTo(port);
    String token = NodeAgentLoopTest.decode(data.get("token"));

    // From the other end of the veth pair: ordinary kernel UDP sockets.
    try (ReflexClient c = NetNs.call(clientNs, () -> ReflexClient.connectUdp(address, port,
        ClientOptions.defaults().withToken(token), UDP))) {
      for (int i = 0; i < 64; i++) c.write(i * 8L, NodeAgentLoopTest.block(i, 5)).get(10, TimeUnit.SECONDS);
      for (int i = 0; i < 64; i++) {
        ByteBuffer got = c.read(i * 8L, 8).get(10, TimeUnit.SECONDS);
        assertThat(got).as("block %d", i).isEqualTo(NodeAgentLoopTest.block(i, 5));
      }
    }
    assertThatThrownBy(() -> NetNs.call(clientNs, () -> ReflexClient.connectUdp(address, port,
        ClientOptions.defaults().withToken("not-the-token"), UDP)).close())
        .isInstanceOf(ReflexException.class);
    assertThat(agent.log()).contains("served over UDP from DPDK port");
  }

  static boolean afPacketDriver() {
    for (String d : List.of("/usr/lib/x86_64-linux-gnu/dpdk", "/usr/lib/aarch64-linux-gnu/dpdk")) {
      try (var s = Files.walk(Path.of(d), 2)) {
        if (s.anyMatch(p -> p.getFileName().toString().startsWith("librte_net_af_packet"))) return true;
      } catch (IOException e) {
        // not this one
      }
    }
    return false;
  }

  private static void cleanNetwork() {
    StandInNodes.run("ip", "link", "del", hostIf);
    StandInNodes.run("ip", "netns", "del", clientNs);
  }

  private static void must(String... cmd) {
    if (StandInNodes.run(cmd) != 0) throw new IllegalStateException("failed: " + String.join(" ", cmd));
  }
}

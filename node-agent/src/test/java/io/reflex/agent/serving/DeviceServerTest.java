package io.reflex.agent.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.discovery.HostRoots;
import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import io.reflex.dataplane.tenant.TenantClass;
import io.reflex.dataplane.tenant.TenantSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceServerTest {
  @TempDir Path state;

  DeviceServer memoryDevice() {
    return memoryDevice(0);
  }

  DeviceServer memoryDevice(int nbdPort) {
    AgentSettings s = new AgentSettings("n1", HostRoots.REAL, List.of(), InetAddress.getLoopbackAddress(), state, 1,
        PollMode.BLOCK, true, true, Duration.ofSeconds(10), 0, 0, false, true, 0);
    return new DeviceServer(new ManagedDevice("n1-mem", null, null, Engine.MEMORY, "null", ClaimPolicy.Never, 256L << 20,
        true, 0), s, nbdPort);
  }

  @Test
  void fixedFlagsAreKeptAndCpusGivenPinTheLoops() {
    int cpu = io.reflex.dataplane.net.Layout.Facts.probe(null).allowed().getFirst();
    AgentSettings s = new AgentSettings("n1", HostRoots.REAL, List.of(), InetAddress.getLoopbackAddress(), state, 2,
        PollMode.BLOCK, true, true, Duration.ofSeconds(10), 0, 0, false, true, 0, List.of(cpu));
    try (DeviceServer d = new DeviceServer(new ManagedDevice("n1-mem", null, null, Engine.MEMORY, "null",
        ClaimPolicy.Never, 256L << 20, true, 0), s, 0)) {
      assertThat(d.layout().threads()).isEqualTo(2);
      assertThat(d.layout().poll()).isEqualTo(PollMode.BLOCK);
      assertThat(d.layout().pins()).containsOnly(cpu); // --cpus given: every loop on the CPUs it names
      assertThat(d.dataplane().loops()).hasSize(2);
    }
  }

  @Test
  void autoLetsTheDataplaneChooseFromTheAgentsCpus() {
    AgentSettings s = new AgentSettings("n1", HostRoots.REAL, List.of(), InetAddress.getLoopbackAddress(), state, 0,
        null, true, true, Duration.ofSeconds(10), 0, 0, false, true, 0);
    try (DeviceServer d = new DeviceServer(new ManagedDevice("n1-mem", null, null, Engine.MEMORY, "null",
        ClaimPolicy.Never, 256L << 20, true, 0), s, 0)) {
      assertThat(d.layout().threads()).isPositive();
      assertThat(d.layout().poll()).isNotNull();
      assertThat(d.layout().reasons()).isNotEmpty(); // what it chose and why, logged at start
      assertThat(d.dataplane().loops()).hasSize(d.layout().threads());
    }
  }

  static List<Integer> freePorts(int n) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
      return held.stream().map(ServerSocket::getLocalPort).toList();
    } finally {
      for (ServerSocket s : held) s.close();
    }
  }

  static TenantSpec be(String name, int port, long base) {
    return new TenantSpec(name, port, TenantClass.BE, 0, 100, 0, base, 2048, "t");
  }

  @Test
  void tenantsBeyondWhatTheDataplaneServesAreRefusedOneByOneAndTheRestServed() throws IOException {
    int n = DataplaneConfig.MAX_TENANTS + 6;
    List<Integer> ports = freePorts(n);
    List<TenantSpec> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) rows.add(be("t" + i, ports.get(i), i * 2048L));
    try (DeviceServer d = memoryDevice()) {
      Map<String, String> refused = d.apply(rows);
      assertThat(d.listening()).hasSize(DataplaneConfig.MAX_TENANTS);
      assertThat(refused).hasSize(6).allSatisfy((name, why) -> assertThat(why).contains("at most 64 tenants"));
    }
  }

  @Test
  void aRowThatOverlapsAnotherIsLeftOutAloneWithTheReason() throws IOException {
    List<Integer> ports = freePorts(3);
    try (DeviceServer d = memoryDevice()) {
      Map<String, String> refused = d.apply(List.of(be("a", ports.get(0), 0), be("b", ports.get(1), 1024),
          be("c", ports.get(2), 4096)));
      assertThat(d.listening()).containsExactlyInAnyOrder("a", "c");
      assertThat(refused).containsOnlyKeys("b");
      assertThat(refused.get("b")).contains("overlapping");
    }
  }

  @Test
  void aServingDeviceIsLiveAndAClosedOneIsNot() throws Exception {
    DeviceServer d = memoryDevice();
    assertThat(d.live()).isTrue();
    Thread.sleep(50);
    assertThat(d.live()).isTrue(); // the first no-op has been answered
    d.close();
    assertThat(d.live()).isFalse();
  }

  /**
   * Over a DPDK port (an in-process net_null vdev that receives nothing, no hugepages): the same Dataplane takes the
   * tables, its UDP loops answer liveness pings, no NBD; tenants are reached at the port's address over UDP. The EAL
   * initialises once per JVM: the only test here that starts it.
   */
  @Test
  void aDeviceServedFromADpdkPortTakesTablesAndIsLive() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(io.reflex.dataplane.dpdk.DpdkLib.available(),
        io.reflex.dataplane.dpdk.DpdkLib.reason());
    AgentSettings s = new AgentSettings("n1", HostRoots.REAL, List.of(), InetAddress.getLoopbackAddress(), state, 1,
        PollMode.ADAPTIVE, true, true, Duration.ofSeconds(10), 0, 0, false, true, 0);
    var dpdk = new DeviceServer.Dpdk(List.of("--no-huge", "--no-pci", "--no-shconf", "-m", "256", "--no-telemetry",
        "--log-level", "warning", "--vdev", "net_null0,no-rx=1"), 0x0A000009, InetAddress.getByName("10.0.0.9"), 9000,
        "net_null");
    DeviceServer d = new DeviceServer(new ManagedDevice("n1-mem", null, null, Engine.MEMORY, "null", ClaimPolicy.Never,
        256L << 20, true, 0), s, 10809, dpdk);
    try (d) {
      assertThat(d.transport()).isEqualTo("udp");
      assertThat(d.address().getHostAddress()).isEqualTo("10.0.0.9");
      assertThat(d.nbdListening()).as("NBD needs kernel TCP").isNull();
      assertThat(d.apply(List.of(be("a", 5000, 0), be("b", 5001, 4096)))).isEmpty();
      assertThat(d.listening()).containsExactlyInAnyOrder("a", "b");
      assertThat(d.apply(List.of(be("b", 5001, 4096)))).isEmpty();
      assertThat(d.listening()).containsExactly("b");
      assertThat(d.live()).isTrue();
      Thread.sleep(50);
      assertThat(d.live()).isTrue();
      assertThat(d.dpdkSummary()).contains("dpdk port");
    }
    assertThat(d.live()).isFalse();
  }

  @Test
  void aBusyNbdPortLeavesTheDeviceServingWithTheReasonAndIsTakenOnceFree() throws Exception {
    List<Integer> ports = freePorts(1);
    int tenantPort = ports.getFirst();
    DeviceServer d;
    try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      d = memoryDevice(squatter.getLocalPort());
      assertThat(d.nbdListening()).isNull();
      assertThat(d.nbdProblem()).contains("NBD cannot listen on 127.0.0.1:" + squatter.getLocalPort());
      assertThat(d.apply(List.of(be("a", tenantPort, 0)))).isEmpty(); // ReFlex serves regardless
      assertThat(d.listening()).containsExactly("a");
    }
    try (d) {
      d.retryNbd();
      assertThat(d.nbdProblem()).isNull();
      assertThat(d.nbdListening()).isNotNull();
      try (java.net.Socket c = new java.net.Socket(InetAddress.getLoopbackAddress(), d.nbdListening())) {
        byte[] hello = c.getInputStream().readNBytes(8); // the NBD server's greeting
        assertThat(new String(hello, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("NBDMAGIC");
      }
    }
  }
}

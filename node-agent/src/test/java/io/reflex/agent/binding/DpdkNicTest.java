package io.reflex.agent.binding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.reflex.agent.config.NetSettings;
import io.reflex.agent.discovery.Discovery;
import io.reflex.agent.discovery.FakeHost;
import io.reflex.agent.discovery.InUse;
import io.reflex.agent.discovery.Nics;
import io.reflex.agent.discovery.SysFiles;
import io.reflex.agent.network.DpdkPort;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DPDK port's NIC on fake sysfs/procfs trees: a NIC that carries the node's traffic (default route, an address,
 * the agent's own address, a bond) is refused and never touched; a free one is bound to vfio-pci and given back on
 * exit; a node without a usable NIC says why, NIC by NIC.
 */
class DpdkNicTest {
  static final String ETH0 = "0000:00:03.0"; // virtio-net, the node's own interface
  static final String ETH1 = "0000:00:08.0"; // ixgbe, free
  static final String ETH2 = "0000:00:09.0"; // ixgbe, free

  @TempDir
  Path tmp;
  FakeHost host;
  FakeKernel kernel;
  Map<String, List<InetAddress>> addresses = new java.util.HashMap<>();
  Set<InetAddress> agentAddress;

  @BeforeEach
  void host() throws Exception {
    host = new FakeHost(tmp.resolve("host")).driver("vfio-pci").driver("uio_pci_generic")
        .pci(ETH0, "0x020000", "virtio-pci", 0, 3).netdev(ETH0, "eth0", true)
        .route("eth0", "0.0.0.0", 0).route("eth0", "192.0.2.0", 24)
        .ipv6Address("eth0", "fe800000000000000000000000000001", "20");
    kernel = new FakeKernel(host).matches(ETH0, "virtio-pci").matches(ETH1, "ixgbe").matches(ETH2, "ixgbe");
    agentAddress = Set.of(InetAddress.getByName("192.0.2.10"));
    addresses.put("eth0", List.of(InetAddress.getByName("192.0.2.10")));
  }

  Discovery discovery() {
    return new Discovery(host.roots(), w -> {}, new Nics(host.roots(), n -> addresses.getOrDefault(n, List.of()), agentAddress));
  }

  DriverBinder binder(Discovery d) {
    return new DriverBinder(host.roots(), tmp.resolve("state"), d, kernel);
  }

  DpdkPort port(String nicSpec, String eal) {
    Discovery d = discovery();
    return new DpdkPort(NetSettings.parse("dpdk", nicSpec, eal, "10.0.0.9/24", 9000), d, binder(d), true);
  }

  String driver(String bdf) {
    return SysFiles.linkName(host.pciDir(bdf).resolve("driver")).orElse(null);
  }

  @Test
  void theNicWithTheDefaultRouteAndTheAgentsAddressIsRefusedAndNeverTouched() {
    DpdkPort.Outcome o = port(ETH0 + ",claim=IfUnused", null).prepare();
    assertThat(o.ok()).isFalse();
    assertThat(o.refused().reason()).isEqualTo("NicInUse");
    assertThat(o.refused().message()).contains("refusing NIC " + ETH0, "eth0 has address 192.0.2.10 (the agent's --address",
        "eth0 carries the node's default route", "eth0 is routed to 192.0.2.0/24", "carries the node's own traffic");
    assertThat(o.refused().message()).as("link-local IPv6 is no traffic").doesNotContain("fe80");
    assertThat(kernel.writes).isEmpty();
    assertThat(driver(ETH0)).isEqualTo("virtio-pci");

    // The binder itself refuses it too, whoever asks.
    BindingException e = catchThrowableOfType(BindingException.class, () -> binder(discovery()).bind(ETH0));
    assertThat(e.reasons()).extracting(InUse::kind).containsOnly(InUse.Kind.NETWORK);
    assertThat(kernel.writes).isEmpty();
  }

  @Test
  void aNicWithOnlyAnAddressOrInABondIsRefused() throws Exception {
    host.pci(ETH1, "0x020000", "ixgbe", 0, 7).netdev(ETH1, "eth1", false)
        .pci(ETH2, "0x020000", "ixgbe", 0, 8).netdev(ETH2, "eth2", false).virtualNetdev("bond0").master("eth2", "bond0");
    addresses.put("eth1", List.of(InetAddress.getByName("10.1.0.4")));
    DpdkPort.Outcome o1 = port(ETH1 + ",claim=IfUnused", null).prepare();
    assertThat(o1.refused().message()).contains("eth1 has address 10.1.0.4").doesNotContain("--address");
    DpdkPort.Outcome o2 = port(ETH2 + ",claim=IfUnused", null).prepare();
    assertThat(o2.refused().message()).contains("eth2 is a member of bond0");
    addresses.clear();
    host.ipv6Address("eth1", "20010db8000000000000000000000004", "00");
    assertThat(port(ETH1 + ",claim=IfUnused", null).prepare().refused().message()).contains("eth1 has address 2001:db8:0:0:0:0:0:4");
    assertThat(kernel.writes).isEmpty();
  }

  @Test
  void aFreeNicIsBoundToVfioUsedByTheEalAndGivenBackOnExit() {
    host.pci(ETH1, "0x020000", "ixgbe", 0, 7).netdev(ETH1, "eth1", false);
    DpdkPort port = port(ETH1 + ",claim=IfUnused", null);
    DpdkPort.Outcome o = port.prepare();
    assertThat(o.ok()).as("%s", o.refused()).isTrue();
    assertThat(driver(ETH1)).isEqualTo("vfio-pci");
    assertThat(o.ready().nic()).isEqualTo(ETH1);
    assertThat(o.ready().ealArgs()).containsExactly("--in-memory", "--no-telemetry", "-a", ETH1);
    assertThat(o.ready().description()).contains("bound to vfio-pci (from ixgbe)");
    assertThat(kernel.writes).containsExactly(
        "sys/" + FakeHost.PCI_ROOT + "/" + ETH1 + "/driver_override=vfio-pci",
        "sys/bus/pci/drivers/ixgbe/unbind=" + ETH1,
        "sys/bus/pci/drivers_probe=" + ETH1);
    assertThat(port.prepare().ready()).as("ready once, kept").isEqualTo(o.ready());

    port.close();
    assertThat(driver(ETH1)).isEqualTo("ixgbe");
  }

  @Test
  void claimNeverLeavesAKernelNicAloneAndUsesOneAlreadyOnVfio() {
    host.pci(ETH1, "0x020000", "ixgbe", 0, 7).netdev(ETH1, "eth1", false).pci(ETH2, "0x020000", "vfio-pci", 0, 8);
    DpdkPort.Outcome o = port(ETH1, null).prepare();
    assertThat(o.refused().reason()).isEqualTo("NotBound");
    assertThat(o.refused().message()).contains("bound to ixgbe", "--dpdk-nic " + ETH1 + ",claim=IfUnused");
    DpdkPort.Outcome o2 = port(ETH2, null).prepare();
    assertThat(o2.ok()).isTrue();
    assertThat(o2.ready().description()).contains("already bound to vfio-pci");
    assertThat(kernel.writes).isEmpty();
  }

  @Test
  void aNodeWithoutAUsableNicSaysWhyNicByNic() {
    DpdkPort.Outcome o = port(null, null).prepare(); // auto
    assertThat(o.refused().reason()).isEqualTo("NoNic");
    assertThat(o.refused().message()).startsWith("this node has no NIC for a DPDK port: " + ETH0 + " (virtio-pci): ")
        .contains("eth0 carries the node's default route");

    FakeHost bare = new FakeHost(tmp.resolve("bare"));
    Discovery d = new Discovery(bare.roots(), w -> {}, new Nics(bare.roots(), n -> List.of(), Set.of()));
    DpdkPort.Outcome none = new DpdkPort(NetSettings.parse("dpdk", "auto", null, "10.0.0.9/24", 9000), d,
        new DriverBinder(bare.roots(), tmp.resolve("state2"), d, kernel), true).prepare();
    assertThat(none.refused().message()).contains("no network controller (PCI class 0x02)");

    host.pci(ETH1, "0x020000", "ixgbe", 0, 7).netdev(ETH1, "eth1", false);
    assertThat(port("auto", null).prepare().refused().message()).contains(ETH1 + " (ixgbe): not bound to vfio-pci");
    host.pci(ETH2, "0x020000", "ixgbe", 0, 8).netdev(ETH2, "eth2", false);
    DpdkPort.Outcome two = port("auto,claim=IfUnused", null).prepare();
    assertThat(two.refused().reason()).isEqualTo("AmbiguousNic");
    assertThat(two.refused().message()).contains(ETH1 + ", " + ETH2);
    assertThat(kernel.writes).isEmpty();

    assertThat(port(ETH2 + ",claim=IfUnused", null).prepare().ok()).isTrue();
    assertThat(driver(ETH2)).isEqualTo("vfio-pci");
  }

  @Test
  void aVdevsInterfaceIsHeldToTheSameRules() {
    host.virtualNetdev("veth1");
    String eal = "--no-huge --no-pci -m 256 --vdev net_af_packet0,iface=%s,framesz=9216";
    DpdkPort.Outcome o = port(null, eal.formatted("eth0")).prepare();
    assertThat(o.refused().reason()).isEqualTo("NicInUse");
    assertThat(o.refused().message()).contains("refusing interface eth0", "default route");
    assertThat(port(null, eal.formatted("nope0")).prepare().refused().message()).contains("interface nope0, which this node does not have");
    DpdkPort.Outcome ok = port(null, eal.formatted("veth1")).prepare();
    assertThat(ok.ok()).isTrue();
    assertThat(ok.ready().ealArgs()).containsExactly("--no-huge", "--no-pci", "-m", "256", "--vdev",
        "net_af_packet0,iface=veth1,framesz=9216");
    assertThat(ok.ready().nic()).isNull();
  }

  @Test
  void nicsAnEarlierRunBoundAndThisOneDoesNotUseGoBack() throws Exception {
    host.pci(ETH1, "0x020000", "ixgbe", 0, 7).netdev(ETH1, "eth1", false);
    assertThat(port(ETH1 + ",claim=IfUnused", null).prepare().ok()).isTrue();
    assertThat(driver(ETH1)).isEqualTo("vfio-pci");
    Discovery d = discovery();
    new DpdkPort(NetSettings.TCP, d, binder(d), true).releaseStale();
    assertThat(driver(ETH1)).isEqualTo("ixgbe");
  }
}

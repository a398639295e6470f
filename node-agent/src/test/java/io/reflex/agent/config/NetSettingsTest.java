package io.reflex.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reflex.agent.cli.AgentCommand;
import io.reflex.crds.v1alpha1.ClaimPolicy;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class NetSettingsTest {
  static AgentSettings parse(String... args) {
    AgentCommand c = new AgentCommand();
    new CommandLine(c).parseArgs(args);
    return c.settings();
  }

  @Test
  void tcpIsTheDefaultAndDpdkFlagsNeedDpdk() {
    assertThat(parse("--node", "n1").net()).isEqualTo(NetSettings.TCP);
    assertThatThrownBy(() -> parse("--node", "n1", "--dpdk-nic", "0000:3b:00.0")).hasMessageContaining("need --net dpdk");
    assertThatThrownBy(() -> parse("--node", "n1", "--net", "rdma")).hasMessageContaining("--net must be tcp or dpdk");
  }

  @Test
  void dpdkFlags() {
    NetSettings n = parse("--node", "n1", "--net", "dpdk", "--dpdk-nic", "0000:3b:00.0,claim=IfUnused",
        "--dpdk-address", "10.0.0.9/24").net();
    assertThat(n.dpdk()).isTrue();
    assertThat(n.nic()).isEqualTo("0000:3b:00.0");
    assertThat(n.nicClaim()).isEqualTo(ClaimPolicy.IfUnused);
    assertThat(n.mtu()).isEqualTo(9000);
    assertThat(n.noHuge()).isFalse();
    assertThat(n.ealArgs("0000:3b:00.0")).containsExactly("--in-memory", "--no-telemetry", "-a", "0000:3b:00.0");
    assertThat(n.ip()).isEqualTo(0x0A000009);
    assertThat(n.inetAddress().getHostAddress()).isEqualTo("10.0.0.9");

    NetSettings v = parse("--node", "n1", "--net", "dpdk", "--dpdk-args",
        "--no-huge --no-pci -m 256 --vdev net_af_packet0,iface=veth1,framesz=9216", "--dpdk-address", "10.0.0.9/24",
        "--mtu", "4200").net();
    assertThat(v.nic()).as("the EAL arguments name the port").isNull();
    assertThat(v.noHuge()).isTrue();
    assertThat(v.vdevInterfaces()).containsExactly("veth1");
    assertThat(parse("--node", "n1", "--net", "dpdk", "--dpdk-address", "10.0.0.9/24").net().nic()).isEqualTo("auto");
  }

  @Test
  void clearErrors() {
    assertThatThrownBy(() -> parse("--node", "n1", "--net", "dpdk")).hasMessageContaining("--dpdk-address IP/PREFIX");
    assertThatThrownBy(() -> parse("--node", "n1", "--net", "dpdk", "--dpdk-address", "10.0.0.9"))
        .hasMessageContaining("IP/PREFIX");
    assertThatThrownBy(() -> parse("--node", "n1", "--net", "dpdk", "--dpdk-address", "10.0.0.9/24", "--mtu", "1500"))
        .hasMessageContaining("jumbo frames");
    assertThatThrownBy(() -> parse("--node", "n1", "--net", "dpdk", "--dpdk-address", "10.0.0.9/24", "--dpdk-nic", "eth1"))
        .hasMessageContaining("PCI address");
    assertThatThrownBy(() -> parse("--node", "n1", "--net", "dpdk", "--dpdk-address", "10.0.0.9/24", "--dpdk-nic",
        "0000:3b:00.0,claim=Always")).hasMessageContaining("Never or IfUnused");
  }
}

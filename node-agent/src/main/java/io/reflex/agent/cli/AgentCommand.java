package io.reflex.agent.cli;

import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.config.CalibrationSettings;
import io.reflex.agent.config.DeviceSpec;
import io.reflex.agent.config.NetSettings;
import io.reflex.agent.discovery.HostRoots;
import io.reflex.dataplane.cli.ConnectionOptions;
import io.reflex.dataplane.net.Layout;
import io.reflex.dataplane.net.PollMode;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The agent's command line; every option can also come from the environment (the DaemonSet sets REFLEX_*). */
@Command(name = "reflex-node-agent", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs one node's agent against the current kubeconfig: publishes its FlashDevices and serves the "
        + "FlashTenants placed on them.")
public final class AgentCommand {
  public AgentCommand() {}

  @Option(names = "--node", defaultValue = "${env:REFLEX_NODE_NAME}", description = "Node this agent stands for (env REFLEX_NODE_NAME)")
  String node;

  @Option(names = "--device", paramLabel = "SPEC", description = "Device to use: PATH|PCI|GLOB[,engine=uring|file|memory|spdk]"
      + "[,model=NAME][,claim=Never|IfUnused][,name=FD][,capacity=SIZE][,create=SIZE]; repeatable (env REFLEX_DEVICES, ';'-separated)")
  List<String> devices = new ArrayList<>();

  @Option(names = "--address", defaultValue = "${env:REFLEX_NODE_ADDRESS:-127.0.0.1}",
      description = "The node's IP: tenants listen there and clients reach them there (default: ${DEFAULT-VALUE})")
  String address;

  @Option(names = "--http", defaultValue = "${env:REFLEX_AGENT_HTTP}",
      description = "ADDR:PORT of /metrics and /q/health (default: ADDRESS:9500)")
  String http;

  @Option(names = "--sysfs-root", defaultValue = "/sys", description = "sysfs root (default: ${DEFAULT-VALUE})")
  Path sysfsRoot;

  @Option(names = "--proc-root", defaultValue = "/proc", description = "procfs root (default: ${DEFAULT-VALUE})")
  Path procRoot;

  @Option(names = "--dev-root", defaultValue = "/dev", description = "device node root (default: ${DEFAULT-VALUE})")
  Path devRoot;

  @Option(names = "--state-dir", defaultValue = "${env:REFLEX_STATE_DIR}",
      description = "Claims and bindings that survive restarts (default: /var/lib/reflex/agent/NODE)")
  Path stateDir;

  @Option(names = "--threads", defaultValue = "1", description = "Dataplane loops per device, or auto: one per CPU when "
      + "the agent's CPUs are set aside for it, else one per four (default: ${DEFAULT-VALUE})")
  String threads;

  @Option(names = "--poll", defaultValue = "adaptive", description = "auto | busy | yield | adaptive | block: how idle "
      + "loops wait (auto: the dataplane chooses from the CPUs it has) (default: ${DEFAULT-VALUE})")
  String poll;

  @Option(names = "--cpus", paramLabel = "LIST", description = "CPUs the dataplanes may use, cpuset list form (e.g. 2-3); "
      + "the agent's JIT compiler threads are kept on the rest of its cpuset, if any; "
      + "default: the agent's own affinity, i.e. its container's cpuset (what the kubelet's CPU manager gave the pod)")
  String cpus;

  @Option(names = "--no-qos", description = "Serve without the QoS scheduler (to see what it is for)")
  boolean noQos;

  @Option(names = "--sync-writes", defaultValue = "true", arity = "1",
      description = "Acknowledge writes only once durable (default: ${DEFAULT-VALUE})")
  boolean syncWrites;

  @Option(names = "--rescan", defaultValue = "10", description = "Seconds between device inspections (default: ${DEFAULT-VALUE})")
  double rescanSeconds;

  @Option(names = "--hugepages-2m", defaultValue = "0", description = "2 MiB hugepages per NUMA node to ensure (0: leave alone)")
  long hugePages2M;

  @Option(names = "--hugepages-1g", defaultValue = "0", description = "1 GiB hugepages per NUMA node to ensure (0: leave alone)")
  long hugePages1G;

  @Option(names = "--lower-hugepages", description = "Also lower hugepage counts to the request (default: only raise)")
  boolean lowerHugePages;

  @Option(names = "--restore-drivers", defaultValue = "true", arity = "1",
      description = "Give released PCI functions back to their original driver (default: ${DEFAULT-VALUE})")
  boolean restoreDrivers;

  @Option(names = "--nbd-port", defaultValue = "${env:REFLEX_NBD_PORT:-10809}",
      description = "First TCP port for the devices' NBD front-ends on --address: every tenant of a device is an export "
          + "there; a device keeps its port across restarts (0: no NBD; default: ${DEFAULT-VALUE}, env REFLEX_NBD_PORT)")
  int nbdPort;

  @Option(names = "--calibration-plan", defaultValue = "${env:REFLEX_CALIBRATION_PLAN:-standard}",
      description = "How devices with model=calibrate are measured: standard (minutes, preconditioning included) or "
          + "quick (seconds; tests, demos) (default: ${DEFAULT-VALUE}, env REFLEX_CALIBRATION_PLAN)")
  String calibrationPlan;

  @Option(names = "--calibrate-through", defaultValue = "${env:REFLEX_CALIBRATE_THROUGH:-dataplane}",
      description = "dataplane: measure through a dataplane on loopback (the node's CPU included; the default) | device: "
          + "the storage engine alone (default: ${DEFAULT-VALUE})")
  String calibrateThrough;

  @Option(names = "--calibration-duration-per-point", paramLabel = "SECONDS",
      defaultValue = "${env:REFLEX_CALIBRATION_DURATION_PER_POINT}",
      description = "Measured seconds per open-loop calibration point (default: the plan's; env "
          + "REFLEX_CALIBRATION_DURATION_PER_POINT)")
  Double calibrationPerPoint;

  @Option(names = "--net", defaultValue = "${env:REFLEX_NET:-tcp}",
      description = "tcp | dpdk: the network engine. dpdk: one device is served over ReFlex-on-UDP from a DPDK port "
          + "(--dpdk-nic or --dpdk-args, --dpdk-address, --mtu), the others over kernel TCP (default: ${DEFAULT-VALUE}, "
          + "env REFLEX_NET)")
  String net;

  @Option(names = "--dpdk-nic", paramLabel = "PCI|auto[,claim=Never|IfUnused]", defaultValue = "${env:REFLEX_DPDK_NIC}",
      description = "The NIC of the DPDK port: a PCI address, or auto (the one NIC that carries none of the node's traffic). "
          + "claim=IfUnused: the agent binds it to vfio-pci (uio_pci_generic without an IOMMU) and gives it back on exit; "
          + "Never (default): it must be bound already. A NIC with an address or a route, in a bond or with VLANs is never "
          + "used (default: auto unless --dpdk-args name the port; env REFLEX_DPDK_NIC)")
  String dpdkNic;

  @Option(names = "--dpdk-args", paramLabel = "EAL_ARGS", defaultValue = "${env:REFLEX_DPDK_ARGS}",
      description = "DPDK EAL arguments, space-separated (default with a NIC: --in-memory --no-telemetry, plus -a PCI), "
          + "e.g. \"--no-huge --no-pci --no-shconf -m 256 --vdev net_af_packet0,iface=veth1,framesz=9216,blocksz=36864\" "
          + "(env REFLEX_DPDK_ARGS)")
  String dpdkArgs;

  @Option(names = "--dpdk-address", paramLabel = "IP/PREFIX", defaultValue = "${env:REFLEX_DPDK_ADDRESS}",
      description = "The DPDK port's IPv4 address, e.g. 10.0.0.9/24: tenants of the DPDK device are reached there "
          + "(env REFLEX_DPDK_ADDRESS)")
  String dpdkAddress;

  @Option(names = "--mtu", defaultValue = "${env:REFLEX_MTU:-9000}",
      description = "MTU of the DPDK port: at least 4200, a 4 KiB block per datagram (default: ${DEFAULT-VALUE}, env REFLEX_MTU)")
  int mtu;

  /** Client-connection limits of the kernel-TCP dataplanes, the same flags as reflex-dataplane's. */
  @Mixin
  ConnectionOptions connections = new ConnectionOptions();

  public AgentSettings settings() {
    if (node == null || node.isBlank()) throw new IllegalArgumentException("--node is required (or REFLEX_NODE_NAME)");
    List<DeviceSpec> specs = new ArrayList<>();
    devices.forEach(d -> specs.add(DeviceSpec.parse(d)));
    String env = System.getenv("REFLEX_DEVICES");
    if (devices.isEmpty() && env != null) {
      for (String d : env.split(";")) if (!d.isBlank()) specs.add(DeviceSpec.parse(d));
    }
    InetAddress ip;
    try {
      if (!address.matches("[0-9.]+|[0-9a-fA-F:]+")) throw new UnknownHostException();
      ip = InetAddress.getByName(address);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--address must be an IP address, got '" + address + "'");
    }
    PollMode mode = Layout.parsePoll(poll);      // null = auto: the dataplane's Layout chooses
    int loops = Layout.parseThreads(threads);    // 0 = auto
    List<Integer> cpuList = cpus == null || cpus.isBlank() ? List.of() : Layout.parseCpus(cpus);
    if (rescanSeconds <= 0) throw new IllegalArgumentException("--rescan must be > 0 seconds");
    Path state = stateDir != null ? stateDir : Path.of("/var/lib/reflex/agent", node);
    return new AgentSettings(node, new HostRoots(sysfsRoot, procRoot, devRoot), specs, ip, state, loops, mode, !noQos,
        syncWrites, Duration.ofMillis((long) (rescanSeconds * 1000)), hugePages2M, hugePages1G, lowerHugePages, restoreDrivers, nbdPort,
        cpuList, new CalibrationSettings(calibrationPlan,
            calibrationPerPoint == null ? null : Duration.ofMillis(Math.round(calibrationPerPoint * 1000)), calibrateThrough),
        NetSettings.parse(net, dpdkNic, dpdkArgs, dpdkAddress, mtu), connections.limits());
  }

  /** host and port of the HTTP endpoint. */
  String[] http(AgentSettings s) {
    String h = http != null && !http.isBlank() ? http : s.address().getHostAddress() + ":9500";
    int colon = h.lastIndexOf(':');
    if (colon < 0) throw new IllegalArgumentException("--http must be ADDR:PORT, got '" + h + "'");
    return new String[] {h.substring(0, colon), h.substring(colon + 1)};
  }
}

package io.reflex.agent.config;

import io.reflex.agent.discovery.HostRoots;
import io.reflex.dataplane.net.ConnectionLimits;
import io.reflex.dataplane.net.PollMode;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How one node agent runs (from the CLI, or the DaemonSet's environment).
 *
 * @param node          the node this agent stands for (FlashDevices it publishes carry it; it serves only tenants placed here)
 * @param roots         sysfs, procfs and /dev roots
 * @param devices       the devices it may use (admins may add more with FlashDevices for this node)
 * @param address       the node's address: tenants listen on it and clients reach it there (EndpointSlices)
 * @param stateDir      where claims and bindings survive restarts
 * @param threads       dataplane loops per device (0: the dataplane chooses, {@code Layout})
 * @param pollMode      how idle loops wait (null: the dataplane chooses)
 * @param scheduler     QoS on (off only to show what it is for)
 * @param syncWrites    acknowledge writes only once durable
 * @param rescan        how often devices are inspected again (a device that becomes in use is given up)
 * @param hugePages2M   2 MiB hugepages per NUMA node the engines need (0: don't touch)
 * @param hugePages1G   1 GiB hugepages per NUMA node (0: don't touch)
 * @param lowerHugePages allow lowering the hugepage counts to the request
 * @param restoreDrivers give PCI functions back to their original driver on release
 * @param nbdPort       first TCP port of the devices' NBD front-ends (each device keeps its own; 0: no NBD)
 * @param cpus          CPUs the dataplanes may use (empty: the agent's affinity, i.e. its container's cpuset)
 * @param calibration   how devices whose model is {@code calibrate} are measured
 * @param net           the network engine: kernel TCP, or DPDK for one device ({@link NetSettings})
 * @param connections   the kernel-TCP dataplanes' client-connection limits: timeouts, buffers per connection, per-tenant
 *                      connect rate and cap (null: the dataplane's defaults)
 */
public record AgentSettings(String node, HostRoots roots, List<DeviceSpec> devices, InetAddress address, Path stateDir,
                            int threads, PollMode pollMode, boolean scheduler, boolean syncWrites, Duration rescan,
                            long hugePages2M, long hugePages1G, boolean lowerHugePages, boolean restoreDrivers,
                            int nbdPort, List<Integer> cpus, CalibrationSettings calibration, NetSettings net,
                            ConnectionLimits connections) {
  public static final String FIELD_MANAGER_PREFIX = "reflex-agent-";

  public AgentSettings {
    if (node == null || !node.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
      throw new IllegalArgumentException("--node must be a Kubernetes node name (lower-case letters, digits, '-', '.'), got '"
          + node + "'");
    }
    devices = List.copyOf(devices);
    if (threads < 0) throw new IllegalArgumentException("--threads must be at least 1 (or 0: auto)");
    cpus = cpus == null ? List.of() : List.copyOf(cpus);
    if (calibration == null) calibration = CalibrationSettings.DEFAULT;
    if (net == null) net = NetSettings.TCP;
    if (connections == null) connections = ConnectionLimits.DEFAULTS;
    if (nbdPort < 0 || nbdPort > 65535) throw new IllegalArgumentException("--nbd-port must be 0 (off) or 1-65535, got " + nbdPort);
  }

  /** The dataplane's default connection limits. */
  public AgentSettings(String node, HostRoots roots, List<DeviceSpec> devices, InetAddress address, Path stateDir,
                       int threads, PollMode pollMode, boolean scheduler, boolean syncWrites, Duration rescan,
                       long hugePages2M, long hugePages1G, boolean lowerHugePages, boolean restoreDrivers, int nbdPort,
                       List<Integer> cpus, CalibrationSettings calibration, NetSettings net) {
    this(node, roots, devices, address, stateDir, threads, pollMode, scheduler, syncWrites, rescan, hugePages2M,
        hugePages1G, lowerHugePages, restoreDrivers, nbdPort, cpus, calibration, net, null);
  }

  /** Kernel TCP networking. */
  public AgentSettings(String node, HostRoots roots, List<DeviceSpec> devices, InetAddress address, Path stateDir,
                       int threads, PollMode pollMode, boolean scheduler, boolean syncWrites, Duration rescan,
                       long hugePages2M, long hugePages1G, boolean lowerHugePages, boolean restoreDrivers, int nbdPort,
                       List<Integer> cpus, CalibrationSettings calibration) {
    this(node, roots, devices, address, stateDir, threads, pollMode, scheduler, syncWrites, rescan, hugePages2M,
        hugePages1G, lowerHugePages, restoreDrivers, nbdPort, cpus, calibration, NetSettings.TCP);
  }

  /** The default calibration settings. */
  public AgentSettings(String node, HostRoots roots, List<DeviceSpec> devices, InetAddress address, Path stateDir,
                       int threads, PollMode pollMode, boolean scheduler, boolean syncWrites, Duration rescan,
                       long hugePages2M, long hugePages1G, boolean lowerHugePages, boolean restoreDrivers, int nbdPort,
                       List<Integer> cpus) {
    this(node, roots, devices, address, stateDir, threads, pollMode, scheduler, syncWrites, rescan, hugePages2M,
        hugePages1G, lowerHugePages, restoreDrivers, nbdPort, cpus, CalibrationSettings.DEFAULT);
  }

  /** The agent's CPUs: its affinity. */
  public AgentSettings(String node, HostRoots roots, List<DeviceSpec> devices, InetAddress address, Path stateDir,
                       int threads, PollMode pollMode, boolean scheduler, boolean syncWrites, Duration rescan,
                       long hugePages2M, long hugePages1G, boolean lowerHugePages, boolean restoreDrivers, int nbdPort) {
    this(node, roots, devices, address, stateDir, threads, pollMode, scheduler, syncWrites, rescan, hugePages2M,
        hugePages1G, lowerHugePages, restoreDrivers, nbdPort, List.of());
  }

  /** The field manager of this agent's server-side applies: one per node, so agents never take each other's fields. */
  public String fieldManager() {
    String m = FIELD_MANAGER_PREFIX + node;
    return m.length() <= 128 ? m : m.substring(0, 128);
  }
}

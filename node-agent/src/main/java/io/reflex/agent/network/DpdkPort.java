package io.reflex.agent.network;

import io.reflex.agent.binding.BindResult;
import io.reflex.agent.binding.BindingException;
import io.reflex.agent.binding.DriverBinder;
import io.reflex.agent.config.NetSettings;
import io.reflex.agent.discovery.Discovery;
import io.reflex.agent.discovery.InUse;
import io.reflex.agent.discovery.Inspection;
import io.reflex.agent.discovery.PciFunction;
import io.reflex.crds.v1alpha1.ClaimPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The node's DPDK port (agent setting {@code --net dpdk}): finds the NIC, refuses one that carries the node's own
 * traffic exactly as a disk in use is refused (an address, a route, the agent's {@code --address}, a bond or VLAN on
 * it: {@link io.reflex.agent.discovery.Nics}), binds it to vfio-pci / uio_pci_generic with the {@link DriverBinder}
 * when its claim policy is IfUnused (recording its driver first), and gives it back when the agent exits
 * ({@code --restore-drivers}). A vdev's kernel interface ({@code --vdev net_af_packet0,iface=IF}) is held to the same
 * rules. Until the port is ready the DPDK device is Unavailable with the reason ({@link Outcome#refused}), retried every
 * pass.
 */
public final class DpdkPort {
  private static final Logger LOG = Logger.getLogger(DpdkPort.class.getName());

  /** The port is usable: the EAL arguments that open it and what it is. */
  public record Ready(List<String> ealArgs, String nic, String description) {
    public Ready {
      ealArgs = List.copyOf(ealArgs);
    }
  }

  /** Why there is no port: a condition reason (NoNic, AmbiguousNic, NicInUse, NotBound, BindFailed) and message. */
  public record Refused(String reason, String message) {}

  public record Outcome(Ready ready, Refused refused) {
    public boolean ok() {
      return ready != null;
    }
  }

  private final NetSettings net;
  private final Discovery discovery;
  private final DriverBinder binder;
  private final boolean restoreDrivers;
  /** Once ready, the port stays this process's: its NIC has no kernel interface any more to re-check. */
  private Ready ready;

  public DpdkPort(NetSettings net, Discovery discovery, DriverBinder binder, boolean restoreDrivers) {
    this.net = net;
    this.discovery = discovery;
    this.binder = binder;
    this.restoreDrivers = restoreDrivers;
  }

  /** Finds, checks and (claim IfUnused) binds the NIC; once ready, answers the same. */
  public synchronized Outcome prepare() {
    if (ready != null) return new Outcome(ready, null);
    for (String ifname : net.vdevInterfaces()) {
      if (!discovery.nics().exists(ifname)) {
        return refused("NoNic", "the EAL arguments put a vdev on interface " + ifname + ", which this node does not have");
      }
      List<InUse> inUse = discovery.nics().inUse(ifname);
      if (!inUse.isEmpty()) {
        return refused("NicInUse", "refusing interface " + ifname + " for the DPDK port: " + join(inUse)
            + "; it carries the node's own traffic");
      }
    }
    String bdf = net.nic();
    if (bdf == null) {
      ready = new Ready(net.ealArgs(null), null, "EAL ports from --dpdk-args" + (net.vdevInterfaces().isEmpty() ? ""
          : " on interface " + String.join(", ", net.vdevInterfaces())));
      return new Outcome(ready, null);
    }
    if (bdf.equals(NetSettings.AUTO)) {
      Outcome pick = pick();
      if (!pick.ok()) return pick;
      bdf = pick.ready().nic();
    }
    PciFunction f = discovery.pciFunction(bdf);
    if (f == null) return refused("NoNic", "PCI function " + bdf + " (--dpdk-nic) does not exist on this node");
    if (!f.isNic()) {
      return refused("NoNic", bdf + " (--dpdk-nic) is not a network controller (class 0x" + String.format("%06x", f.classCode()) + ")");
    }
    Inspection in = discovery.inspectNic(bdf);
    if (!in.inUse().isEmpty()) {
      return refused("NicInUse", "refusing NIC " + bdf + " for the DPDK port: " + join(in.inUse())
          + "; it carries the node's own traffic");
    }
    String driver = f.driver();
    String how;
    if (DriverBinder.userSpace(driver)) {
      how = "already bound to " + driver;
    } else if (net.nicClaim() == ClaimPolicy.IfUnused) {
      try {
        BindResult r = binder.bind(bdf, false);
        how = "bound to " + r.driver() + (r.originalDriver() != null ? " (from " + r.originalDriver() + ")" : "")
            + (r.warnings().isEmpty() ? "" : "; " + String.join("; ", r.warnings()));
        LOG.info("DPDK port: NIC " + bdf + " " + how);
      } catch (BindingException e) {
        return refused(e.reasons().isEmpty() ? "BindFailed" : "NicInUse", e.getMessage());
      }
    } else {
      return refused("NotBound", "NIC " + bdf + " is bound to " + (driver == null ? "no driver" : driver) + "; the agent "
          + "binds it to " + binder.targetDriver() + " only with --dpdk-nic " + bdf + ",claim=IfUnused (or bind it yourself)");
    }
    ready = new Ready(net.ealArgs(bdf), bdf, "NIC " + bdf + ", " + how);
    return new Outcome(ready, null);
  }

  /**
   * {@code --dpdk-nic auto}: the one NIC that carries none of the node's traffic and is bound to a user-space driver
   * or (claim IfUnused) may be. None, or several: refused with every NIC and why.
   */
  private Outcome pick() {
    List<String> why = new ArrayList<>();
    List<String> usable = new ArrayList<>();
    List<PciFunction> nics = discovery.pciFunctions().stream().filter(PciFunction::isNic).toList();
    for (PciFunction f : nics) {
      Inspection in = discovery.inspectNic(f.address());
      String name = f.address() + " (" + (f.driver() == null ? "no driver" : f.driver()) + ")";
      if (!in.inUse().isEmpty()) {
        why.add(name + ": " + join(in.inUse()));
      } else if (!DriverBinder.userSpace(f.driver()) && net.nicClaim() != ClaimPolicy.IfUnused) {
        why.add(name + ": not bound to vfio-pci or uio_pci_generic, and claim=Never (--dpdk-nic auto,claim=IfUnused lets the agent bind it)");
      } else {
        usable.add(f.address());
      }
    }
    if (nics.isEmpty()) {
      return refused("NoNic", "this node has no NIC for a DPDK port: no network controller (PCI class 0x02) in "
          + "/sys/bus/pci/devices; give --dpdk-args with a vdev, or serve over --net tcp");
    }
    if (usable.isEmpty()) {
      return refused("NoNic", "this node has no NIC for a DPDK port: " + String.join("; ", why));
    }
    if (usable.size() > 1) {
      return refused("AmbiguousNic", "several NICs could be the DPDK port (" + String.join(", ", usable)
          + "): name one with --dpdk-nic");
    }
    return new Outcome(new Ready(List.of(), usable.getFirst(), null), null);
  }

  /** NICs an earlier run bound that this one does not use (another --dpdk-nic, or --net tcp now): given back. */
  public void releaseStale() {
    if (net.dpdk() && NetSettings.AUTO.equals(net.nic())) return; // the pick may well be the one it bound before
    for (String bdf : binder.recorded()) {
      PciFunction f = discovery.pciFunction(bdf);
      if (f == null || !f.isNic() || bdf.equals(net.nic())) continue;
      try {
        var r = binder.release(bdf, restoreDrivers);
        LOG.info("NIC " + bdf + " (bound for DPDK by an earlier run) released: now " + r.driver());
      } catch (BindingException | RuntimeException e) {
        LOG.warning("cannot release NIC " + bdf + " (bound for DPDK by an earlier run): " + e.getMessage());
      }
    }
  }

  /**
   * On exit, after the DPDK device server closed its port: a NIC the agent bound goes back to its original driver
   * ({@code --restore-drivers}), once the EAL has let go of it (rte_eal_cleanup; nothing DPDK runs afterwards here).
   */
  public synchronized void close() {
    if (ready == null || ready.nic() == null || !restoreDrivers || !binder.recorded().contains(ready.nic())) return;
    // vfio-pci lets a function go only once no process holds it: the EAL's vfio container and group go first.
    if (io.reflex.dataplane.dpdk.DpdkLib.available() && io.reflex.dataplane.dpdk.Eal.initialised()) {
      try {
        io.reflex.dataplane.dpdk.Eal.cleanup();
      } catch (RuntimeException e) {
        LOG.warning("EAL cleanup: " + e.getMessage());
      }
    }
    try {
      var r = binder.release(ready.nic(), true);
      LOG.info("NIC " + ready.nic() + " given back: now " + (r.driver() == null ? "no driver" : r.driver()));
    } catch (BindingException | RuntimeException e) {
      LOG.warning("cannot give NIC " + ready.nic() + " back (the next start finishes it): " + e.getMessage());
    }
  }

  private static Outcome refused(String reason, String message) {
    return new Outcome(null, new Refused(reason, message));
  }

  private static String join(List<InUse> u) {
    return u.stream().map(InUse::message).collect(Collectors.joining("; "));
  }
}

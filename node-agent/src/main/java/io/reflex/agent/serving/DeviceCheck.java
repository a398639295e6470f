package io.reflex.agent.serving;

import io.fabric8.kubernetes.api.model.Condition;
import io.reflex.agent.binding.DriverBinder;
import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.discovery.Discovery;
import io.reflex.agent.discovery.InUse;
import io.reflex.agent.discovery.Inspection;
import io.reflex.agent.discovery.PciFunction;
import io.reflex.agent.hugepages.HugePages;
import io.reflex.crds.status.Conditions;
import io.reflex.agent.state.ClaimStore;
import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.Engine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides whether a device may be served: discovered, not in use by anyone else (a device whose identity the agent
 * has claimed before is ours, whatever signatures its tenants' data carries), bound to a user-space driver when its
 * engine needs one and its claim policy allows it, and with the hugepages its engine needs. Reports each step as a
 * condition (Discovered, Claimed, HugePages).
 */
public final class DeviceCheck {
  /** One condition's content. */
  record Cond(String type, boolean status, String reason, String message) {}

  /** The verdict on one device. */
  public record Outcome(boolean usable, DevicePhase phase, String reason, String summary, Long capacityBytes,
                        List<Cond> conds) {
    public List<Condition> conditions(List<Condition> old, Long generation) {
      return conds.stream().map(c -> Conditions.of(old, c.type(), c.status(), c.reason(), c.message(), generation)).toList();
    }

    /** Not served for a reason outside the device (its network: no DPDK port), which passed every check itself. */
    public Outcome unusable(String reason, String message) {
      return new Outcome(false, DevicePhase.Unavailable, reason, message, capacityBytes, conds);
    }

    /** The dataplane could not open the device although every check passed. */
    public Outcome openFailed(String message) {
      return new Outcome(false, DevicePhase.Unavailable, "OpenFailed", message, capacityBytes, conds);
    }
  }

  private final AgentSettings settings;
  private final Discovery discovery;
  private final DriverBinder binder;
  private final HugePages hugePages;
  /** The node's hugepages as ensured in this pass (they are per node, not per device); null: not yet. */
  private io.reflex.agent.hugepages.HugePageReport hugePageReport;
  private final ClaimStore claims;
  /** Device name -> its identity as last inspected (file dev:inode, block WWID/serial, PCI address). */
  private final java.util.Map<String, String> identities = new java.util.concurrent.ConcurrentHashMap<>();

  /** The device's identity as last inspected (a calibration is valid for this device only), or null. */
  public String identity(String deviceName) {
    return identities.get(deviceName);
  }

  public DeviceCheck(AgentSettings settings, Discovery discovery, DriverBinder binder, HugePages hugePages,
                     ClaimStore claims) {
    this.settings = settings;
    this.discovery = discovery;
    this.binder = binder;
    this.hugePages = hugePages;
    this.claims = claims;
  }

  /** A new control pass: hugepages are ensured (and read back) once in it, at the first device that reports them. */
  public void beginPass() {
    hugePageReport = null;
  }

  public List<PciFunction> pciFunctions() {
    return discovery.pciFunctions();
  }

  public Outcome check(ManagedDevice d, boolean serving) {
    return check(d, serving, false);
  }

  /**
   * @param dpdkHugePages the device is served from the DPDK port and its EAL uses hugepages (no {@code --no-huge}):
   *                      it is not started without them
   */
  public Outcome check(ManagedDevice d, boolean serving, boolean dpdkHugePages) {
    boolean needs = d.needsHugePages() || dpdkHugePages;
    List<Cond> conds = new ArrayList<>();
    if (d.engine() == Engine.MEMORY) {
      conds.add(new Cond("Discovered", true, "Memory", "engine memory: " + d.capacity() + " bytes of RAM"));
      conds.add(new Cond("Claimed", true, "Memory", "RAM needs no claim"));
      Cond hp = hugePagesCond(d, needs);
      conds.add(hp);
      if (needs && !hp.status()) {
        return new Outcome(false, DevicePhase.Unavailable, "HugePages", "the DPDK port is not started: " + hp.message(),
            d.capacity(), conds);
      }
      return new Outcome(true, DevicePhase.Pending, "Ready", "memory engine", d.capacity(), conds);
    }
    if (d.createBytes() > 0) createIfMissing(d);
    Inspection in = d.pciAddress() != null && d.path() == null ? discovery.inspectPci(d.pciAddress())
        : discovery.inspect(Path.of(d.path()));
    Long size = in.sizeBytes() > 0 ? Long.valueOf(d.capacity() > 0 ? Math.min(in.sizeBytes(), d.capacity()) : in.sizeBytes()) : null;
    List<InUse> missing = in.inUse().stream()
        .filter(u -> u.kind() == InUse.Kind.NOT_FOUND || u.kind() == InUse.Kind.UNREADABLE).toList();
    if (!missing.isEmpty()) {
      String msg = join(missing);
      conds.add(new Cond("Discovered", false, missing.getFirst().kind() == InUse.Kind.NOT_FOUND ? "NotFound" : "Unreadable", msg));
      conds.add(new Cond("Claimed", false, "NotDiscovered", "not claimed: " + msg));
      conds.add(hugePagesCond(d, needs));
      return new Outcome(false, DevicePhase.Unavailable, conds.getFirst().reason(), msg, size, conds);
    }
    conds.add(new Cond("Discovered", true, "Found", describe(in)));
    identities.put(d.name(), in.identity());
    boolean ours = claims.ours(in.identity());
    List<InUse> inUse = ours ? in.inUseIgnoringSignatures() : in.inUse();
    if (!inUse.isEmpty()) {
      String msg = join(inUse) + (serving ? "; stopped serving it" : "; it is not opened, bound or served");
      conds.add(new Cond("Claimed", false, "InUse", msg));
      conds.add(hugePagesCond(d, needs));
      return new Outcome(false, DevicePhase.Unavailable, "InUse", msg, size, conds);
    }
    String claimed = ours ? "ours since before this start (" + in.identity() + ")" : "claimed (" + in.identity() + ")";
    claims.claim(in.identity(), d.name(), in.path());
    if (d.pciAddress() != null && d.claim() == ClaimPolicy.IfUnused && userSpace(d.engine())) {
      try {
        var r = binder.bind(d.pciAddress(), ours);
        claimed = "bound " + d.pciAddress() + " to " + r.driver() + (r.warnings().isEmpty() ? "" : " (" + String.join("; ", r.warnings()) + ")");
      } catch (io.reflex.agent.binding.BindingException | RuntimeException e) {
        conds.add(new Cond("Claimed", false, "BindFailed", e.getMessage()));
        conds.add(hugePagesCond(d, needs));
        return new Outcome(false, DevicePhase.Unavailable, "BindFailed", e.getMessage(), size, conds);
      }
    }
    conds.add(new Cond("Claimed", true, ours ? "Ours" : "Claimed", claimed));
    Cond hp = hugePagesCond(d, needs);
    conds.add(hp);
    if (needs && !hp.status()) {
      return new Outcome(false, DevicePhase.Unavailable, "HugePages", (d.needsHugePages() ? "engine " + engineName(d)
          : "the DPDK port") + " is not started: " + hp.message(), size, conds);
    }
    if (d.engine() == Engine.SPDK) {
      return new Outcome(false, DevicePhase.Unavailable, "EngineUnavailable",
          "engine spdk is not part of this build (SPDK is not available here)", size, conds);
    }
    return new Outcome(true, DevicePhase.Pending, "Ready", claimed, size, conds);
  }

  /**
   * A configured file device with create=SIZE: made sparse (blocks are allocated as tenants write) when missing, never
   * resized or touched otherwise. Failures surface as the inspection's NOT_FOUND.
   */
  private static void createIfMissing(ManagedDevice d) {
    Path p = Path.of(d.path());
    if (java.nio.file.Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
    try {
      if (p.getParent() != null) java.nio.file.Files.createDirectories(p.getParent());
      try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW,
          java.nio.file.StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.allocate(1), d.createBytes() - 1); // sets the size without writing blocks
        ch.force(true);
      }
    } catch (java.io.IOException e) {
      System.getLogger(DeviceCheck.class.getName()).log(System.Logger.Level.WARNING,
          "cannot create " + p + ": " + e.getMessage());
    }
  }

  /** Gives up claims (and user-space bindings) of devices this agent is no longer responsible for. */
  public void releaseAllBut(Set<String> deviceNames) {
    claims.all().forEach((identity, c) -> {
      if (deviceNames.contains(c.device())) return;
      if (identity.startsWith("pci:")) {
        try {
          binder.release(identity.substring(4), settings.restoreDrivers());
        } catch (io.reflex.agent.binding.BindingException | RuntimeException e) {
          return; // keep the claim, retry on the next pass
        }
      }
      claims.release(identity);
    });
  }

  private Cond hugePagesCond(ManagedDevice d, boolean needs) {
    if (settings.hugePages2M() <= 0 && settings.hugePages1G() <= 0) {
      String who = d.needsHugePages() ? "engine " + engineName(d) : needs ? "the DPDK port" : null;
      return needs
          ? new Cond("HugePages", false, "NotConfigured", who + " needs hugepages: set --hugepages-2m"
              + (d.needsHugePages() ? "" : " (about 64 per DPDK loop at MTU 9000), or give the EAL --no-huge"))
          : new Cond("HugePages", true, "NotNeeded", "engine " + engineName(d) + " needs no hugepages");
    }
    if (hugePageReport == null) {
      hugePageReport = hugePages.ensure(settings.hugePages2M(), settings.hugePages1G(), settings.lowerHugePages());
    }
    var report = hugePageReport;
    return new Cond("HugePages", report.satisfied(), report.satisfied() ? "Granted" : "Short", report.message());
  }

  private static boolean userSpace(Engine e) {
    return e == Engine.SPDK;
  }

  private static String engineName(ManagedDevice d) {
    return d.engine().name().toLowerCase();
  }

  private static String describe(Inspection in) {
    StringBuilder b = new StringBuilder(in.kind().name().toLowerCase()).append(' ')
        .append(in.path() != null ? in.path() : in.pciAddress()).append(", ").append(in.sizeBytes()).append(" bytes");
    if (in.model() != null) b.append(", model ").append(in.model().trim());
    if (in.serial() != null) b.append(", serial ").append(in.serial().trim());
    return b.toString();
  }

  private static String join(List<InUse> u) {
    return u.stream().map(InUse::message).collect(Collectors.joining("; "));
  }
}

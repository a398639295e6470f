package io.reflex.agent.binding;

import io.reflex.agent.binding.BindState.Phase;
import io.reflex.agent.discovery.Discovery;
import io.reflex.agent.discovery.HostRoots;
import io.reflex.agent.discovery.HostStateException;
import io.reflex.agent.discovery.InUse;
import io.reflex.agent.discovery.SysFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Moves one PCI function between its kernel driver and a user-space one, the way SPDK's setup.sh does: set
 * driver_override, unbind, ask the bus to probe just that function. Only functions nothing uses are bound, and the
 * original driver is recorded first, so a restart at any step can finish or undo the move.
 */
public final class DriverBinder {
  public static final String VFIO = "vfio-pci";
  public static final String UIO = "uio_pci_generic";
  private static final Set<String> USER_SPACE = Set.of(VFIO, UIO);
  private static final Pattern BDF = Pattern.compile("\\p{XDigit}{4,}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.[0-7]");

  private final HostRoots roots;
  private final BindState.Store states;
  private final Discovery discovery;
  private final SysfsWriter sysfs;

  public DriverBinder(HostRoots roots, Path stateDir) {
    this(roots, stateDir, new Discovery(roots), SysfsWriter.REAL);
  }

  public DriverBinder(HostRoots roots, Path stateDir, Discovery discovery, SysfsWriter sysfs) {
    this.roots = roots;
    this.states = new BindState.Store(stateDir);
    this.discovery = discovery;
    this.sysfs = sysfs;
  }

  /** vfio-pci when the IOMMU is on (it isolates the device's DMA), else uio_pci_generic. */
  public String targetDriver() {
    return SysFiles.list(roots.sys("kernel/iommu_groups")).isEmpty() ? UIO : VFIO;
  }

  public BindResult bind(String bdf) throws BindingException {
    return bind(bdf, false);
  }

  /**
   * Binds the function to {@link #targetDriver()}, or does nothing if it already is. NVMe controllers are refused while
   * their namespaces are in use, NICs while one of their kernel interfaces carries the node's traffic
   * ({@link io.reflex.agent.discovery.Nics#inUse}).
   *
   * @param ours whether the device holds this agent's own tenants' data, whose filesystem signatures do not make
   *             it someone else's
   * @throws BindingException when it is in use (see {@link BindingException#reasons()}) or the driver would not take it
   */
  public synchronized BindResult bind(String bdf, boolean ours) throws BindingException {
    Path dev = device(bdf);
    String target = targetDriver();
    try {
      String current = driverOf(dev);
      Optional<BindState> state = states.read(bdf);
      List<String> warnings = sharedGroupWarnings(bdf, dev, target);
      if (target.equals(current)) {
        state.filter(s -> s.phase() != Phase.BOUND).ifPresent(s -> writeState(s.with(Phase.BOUND)));
        return new BindResult(bdf, target, state.map(BindState::original).orElse(null), false, warnings);
      }
      refuseIfInUse(bdf, ours);
      if (!Files.isDirectory(driverDir(target))) {
        throw new BindingException(target + " is not loaded (no " + driverDir(target) + "): modprobe " + target);
      }
      // A bind that died halfway already recorded the original driver; the function may have none by now.
      String original = state.map(BindState::original).orElse(current);
      states.write(new BindState(bdf, original, target, Phase.BINDING));
      sysfs.write(dev.resolve("driver_override"), target);
      if (current != null) {
        sysfs.write(dev.resolve("driver/unbind"), bdf);
      }
      sysfs.write(roots.sys("bus/pci/drivers_probe"), bdf);
      if (!target.equals(driverOf(dev))) {
        String restored = restore(bdf, dev, original);
        states.delete(bdf);
        throw new BindingException(target + " did not take " + bdf + ": is the module loaded?" + restored);
      }
      states.write(new BindState(bdf, original, target, Phase.BOUND));
      return new BindResult(bdf, target, original, true, warnings);
    } catch (IOException | HostStateException e) {
      throw new BindingException("binding " + bdf + " to " + target + " failed: " + e.getMessage()
          + " (the next bind or release finishes the job)", List.of(), e);
    }
  }

  /**
   * Takes the function away from the user-space driver and, if asked and known, gives it back to its original one.
   * Functions bound to a kernel driver are left alone, so releasing twice does nothing the second time.
   */
  public synchronized BindResult release(String bdf, boolean restoreOriginal) throws BindingException {
    Path dev = path(bdf);
    try {
      if (!Files.isDirectory(dev)) {
        states.delete(bdf); // hot-removed: nothing left to give back
        return new BindResult(bdf, null, null, false, List.of("PCI function " + bdf + " no longer exists"));
      }
      Optional<BindState> state = states.read(bdf);
      String original = state.map(BindState::original).orElse(null);
      List<String> warnings = new ArrayList<>();
      boolean changed = false;
      if (state.isPresent()) {
        states.write(state.get().with(Phase.RELEASING));
      }
      String current = driverOf(dev);
      boolean userSpace = current != null && USER_SPACE.contains(current);
      if (userSpace || state.isPresent()) {
        sysfs.write(dev.resolve("driver_override"), "\n");
        changed = true;
      }
      if (userSpace) {
        sysfs.write(dev.resolve("driver/unbind"), bdf);
      }
      if (restoreOriginal && original != null && driverOf(dev) == null) {
        String problem = restore(bdf, dev, original);
        if (!problem.isEmpty()) {
          warnings.add(problem.strip());
        }
      }
      states.delete(bdf);
      return new BindResult(bdf, driverOf(dev), original, changed, warnings);
    } catch (IOException | HostStateException e) {
      throw new BindingException("releasing " + bdf + " failed: " + e.getMessage()
          + " (the next release finishes the job)", List.of(), e);
    }
  }

  /** Override, probe, clear: binds exactly the original driver even if a user-space one also matches the ids. */
  private String restore(String bdf, Path dev, String original) throws IOException {
    if (original == null) {
      sysfs.write(dev.resolve("driver_override"), "\n");
      return "";
    }
    sysfs.write(dev.resolve("driver_override"), original);
    sysfs.write(roots.sys("bus/pci/drivers_probe"), bdf);
    sysfs.write(dev.resolve("driver_override"), "\n");
    return original.equals(driverOf(dev)) ? " (gave it back to " + original + ")"
        : " (" + original + " did not take it back either; it has no driver now)";
  }

  private void refuseIfInUse(String bdf, boolean ours) throws BindingException {
    var f = discovery.pciFunction(bdf);
    var inspection = f != null && f.isNic() ? discovery.inspectNic(bdf) : discovery.inspectPci(bdf);
    List<InUse> reasons = ours ? inspection.inUseIgnoringSignatures() : inspection.inUse();
    if (!reasons.isEmpty()) {
      throw new BindingException("refusing to bind " + bdf + ": "
          + String.join("; ", reasons.stream().map(InUse::message).toList()), reasons, null);
    }
  }

  /** The functions this agent has bound (or was binding or releasing when it last stopped): their state files. */
  public List<String> recorded() {
    return SysFiles.names(states.dir()).stream().filter(n -> n.endsWith(".state"))
        .map(n -> n.substring(0, n.length() - ".state".length())).filter(n -> BDF.matcher(n).matches()).toList();
  }

  /** The driver {@code bdf} is bound to now, or null (none, or no such function). */
  public String currentDriver(String bdf) {
    try {
      return driverOf(path(bdf));
    } catch (BindingException | RuntimeException e) {
      return null;
    }
  }

  /** Whether {@code driver} is one of the user-space drivers DPDK and SPDK use. */
  public static boolean userSpace(String driver) {
    return driver != null && USER_SPACE.contains(driver);
  }

  /** vfio can only hand out a whole IOMMU group; the other functions in it must be unbound or on vfio too. */
  private List<String> sharedGroupWarnings(String bdf, Path dev, String target) {
    if (!target.equals(VFIO)) {
      return List.of();
    }
    return SysFiles.linkName(dev.resolve("iommu_group"))
        .map(group -> {
          List<String> others = SysFiles.names(roots.sys("kernel/iommu_groups/" + group + "/devices")).stream()
              .filter(other -> !other.equals(bdf)).toList();
          return others.isEmpty() ? List.<String>of()
              : List.of("IOMMU group " + group + " also holds " + String.join(", ", others)
                  + ": vfio-pci can only use " + bdf + " when those are bound to vfio-pci or to no driver");
        })
        .orElse(List.of());
  }

  private Path device(String bdf) throws BindingException {
    Path dev = path(bdf);
    if (!Files.isDirectory(dev)) {
      throw new BindingException("PCI function " + bdf + " does not exist");
    }
    return dev;
  }

  /** The function's sysfs directory; the address is checked first since it also names the state file. */
  private Path path(String bdf) throws BindingException {
    if (!BDF.matcher(bdf).matches()) {
      throw new BindingException("PCI function " + bdf + " does not exist");
    }
    return roots.sys("bus/pci/devices/" + bdf);
  }

  private Path driverDir(String driver) {
    return roots.sys("bus/pci/drivers/" + driver);
  }

  private static String driverOf(Path dev) {
    return SysFiles.linkName(dev.resolve("driver")).orElse(null);
  }

  private void writeState(BindState s) {
    try {
      states.write(s);
    } catch (IOException e) {
      throw new HostStateException("cannot record " + s + ": " + e.getMessage(), e);
    }
  }
}

package io.reflex.agent.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the host has (NVMe controllers, NICs, block devices) and whether a configured device is someone else's. Reads
 * only; every host-state problem becomes a warning or an {@link InUse.Kind#UNREADABLE} reason, never an exception, so a
 * garbled sysfs file cannot crash-loop the agent — and never a "free" verdict, so it cannot cost anyone their data.
 */
public final class Discovery {
  private static final System.Logger LOG = System.getLogger(Discovery.class.getName());
  private static final int S_IFMT = 0170000;
  private static final int S_IFBLK = 0060000;

  private final HostRoots roots;
  private final BlockTree blocks;
  private final PciBus pci;
  private final Nics nics;
  private final Consumer<String> warnings;

  public Discovery(HostRoots roots) {
    this(roots, w -> LOG.log(System.Logger.Level.WARNING, w));
  }

  /** @param warnings told about entries skipped while listing (a garbled file, a vanished device) */
  public Discovery(HostRoots roots, Consumer<String> warnings) {
    this(roots, warnings, new Nics(roots, Nics.defaultAddresses(roots), java.util.Set.of()));
  }

  /** @param nics how NICs' kernel interfaces and their traffic are judged (the agent's address among them) */
  public Discovery(HostRoots roots, Consumer<String> warnings, Nics nics) {
    this.roots = roots;
    this.blocks = new BlockTree(roots);
    this.pci = new PciBus(roots);
    this.nics = nics;
    this.warnings = warnings;
  }

  /** The NIC side: interfaces on PCI functions and the traffic they carry. */
  public Nics nics() {
    return nics;
  }

  /** A PCI function's class, ids and driver, or null when it does not exist or cannot be read. */
  public PciFunction pciFunction(String bdf) {
    return pci.exists(bdf) ? safely(() -> pci.function(bdf), null) : null;
  }

  /** NVMe controllers and NICs; functions whose files cannot be read are skipped with a warning. */
  public List<PciFunction> pciFunctions() {
    List<PciFunction> found = new ArrayList<>();
    for (String bdf : safely(pci::addresses, List.<String>of())) {
      Optional.ofNullable(safely(() -> pci.function(bdf), null))
          .filter(f -> f.isNvme() || f.isNic())
          .ifPresent(found::add);
    }
    return found;
  }

  public List<BlockDevice> blockDevices() {
    List<BlockDevice> found = new ArrayList<>();
    for (String name : safely(blocks::names, List.<String>of())) {
      Optional.ofNullable(safely(() -> blocks.device(name), null)).ifPresent(found::add);
    }
    return found;
  }

  /** A configured file or block device (/dev/vdb, /dev/disk/by-id/..., /var/tmp/x.img). */
  public Inspection inspect(Path devicePath) {
    String shown = devicePath.toString();
    if (!Files.exists(devicePath)) {
      return refused(shown, null, guessKind(devicePath), InUse.Kind.NOT_FOUND, shown + " does not exist");
    }
    try {
      Path real = devicePath.toRealPath();
      Map<String, Object> attrs = Files.readAttributes(real, "unix:mode,rdev,dev,ino");
      if (((int) attrs.get("mode") & S_IFMT) == S_IFBLK) {
        String majorMinor = majorMinor((long) attrs.get("rdev"));
        String name = blocks.byMajorMinor(majorMinor).orElseThrow(() -> new HostStateException(
            shown + " (" + majorMinor + ") is not in " + roots.sys("class/block")));
        return inspectBlock(name, real, shown);
      }
      if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
        return refused(shown, null, Inspection.Kind.FILE, InUse.Kind.UNREADABLE,
            shown + " is neither a regular file nor a block device");
      }
      String name = real.getFileName().toString();
      if (real.startsWith(realOrSelf(roots.devfs())) && blocks.exists(name)) {
        return inspectBlock(name, real, shown); // a fake tree's stand-in for the block device of that name
      }
      return new FileUsage(roots, swaps()).inspect(shown, real, attrs.get("dev") + ":" + attrs.get("ino"));
    } catch (IOException | RuntimeException e) {
      return refused(shown, null, guessKind(devicePath), InUse.Kind.UNREADABLE, problem(shown, e));
    }
  }

  /** An NVMe controller by PCI address: its namespaces' uses are its uses. */
  public Inspection inspectPci(String bdf) {
    if (!pci.exists(bdf)) {
      return refused(null, bdf, Inspection.Kind.PCI, InUse.Kind.NOT_FOUND, "PCI function " + bdf + " does not exist");
    }
    try {
      PciFunction f = pci.function(bdf);
      if (!f.isNvme()) {
        return refused(null, bdf, Inspection.Kind.PCI, InUse.Kind.NOT_FOUND,
            bdf + " is not an NVMe controller (class 0x" + String.format("%06x", f.classCode()) + ")");
      }
      List<String> namespaces = pci.namespaces(bdf);
      BlockUsage usage = usage();
      List<InUse> reasons = new ArrayList<>();
      long size = 0;
      int blockSize = 0;
      for (String ns : namespaces) {
        BlockDevice d = blocks.device(ns);
        size += d.sizeBytes();
        blockSize = blockSize == 0 ? d.logicalBlockSize() : blockSize;
        reasons.addAll(usage.of(ns));
        Path node = roots.dev(ns);
        if (Files.exists(node)) {
          reasons.addAll(signature(BlockUsage.dev(ns), node));
        }
      }
      Path controller = pci.controllers(bdf).stream().findFirst().orElse(null);
      return new Inspection(namespaces.isEmpty() ? null : roots.dev(namespaces.getFirst()).toString(), bdf,
          Inspection.Kind.PCI, size, blockSize == 0 ? 512 : blockSize, controllerFile(controller, "model"),
          controllerFile(controller, "serial"), "pci:" + bdf, reasons);
    } catch (RuntimeException e) {
      return refused(null, bdf, Inspection.Kind.PCI, InUse.Kind.UNREADABLE, problem(bdf, e));
    }
  }

  /**
   * A NIC: in use while one of its kernel interfaces carries the node's traffic ({@link Nics#inUse}); one bound to a
   * user-space driver has no kernel interface and carries none.
   */
  public Inspection inspectNic(String bdf) {
    if (!pci.exists(bdf)) {
      return refused(null, bdf, Inspection.Kind.PCI, InUse.Kind.NOT_FOUND, "PCI function " + bdf + " does not exist");
    }
    try {
      PciFunction f = pci.function(bdf);
      if (!f.isNic()) {
        return refused(null, bdf, Inspection.Kind.PCI, InUse.Kind.NOT_FOUND,
            bdf + " is not a network controller (class 0x" + String.format("%06x", f.classCode()) + ")");
      }
      return inspectNic(f);
    } catch (RuntimeException e) {
      return refused(null, bdf, Inspection.Kind.PCI, InUse.Kind.UNREADABLE, problem(bdf, e));
    }
  }

  private Inspection inspectNic(PciFunction f) {
    List<InUse> reasons = new ArrayList<>();
    List<String> netdevs = nics.netdevsOf(f.address());
    for (String ifname : netdevs) reasons.addAll(nics.inUse(ifname));
    String model = "NIC " + String.format("%04x:%04x", f.vendor(), f.device()) + (f.driver() == null ? ", no driver"
        : ", driver " + f.driver()) + (netdevs.isEmpty() ? "" : ", interface " + String.join(", ", netdevs));
    return new Inspection(null, f.address(), Inspection.Kind.PCI, 0, 512, model, null, "pci:" + f.address(), reasons);
  }

  /** @param shown the path as configured (a stable /dev/disk/by-id link, say), kept as the inspection's path */
  private Inspection inspectBlock(String name, Path node, String shown) {
    BlockDevice d = blocks.device(name);
    List<InUse> reasons = new ArrayList<>(usage().of(name));
    reasons.addAll(signature(BlockUsage.dev(name), node));
    return new Inspection(shown, d.pciAddress(), Inspection.Kind.BLOCK, d.sizeBytes(),
        d.logicalBlockSize(), d.model(), d.serial(), blocks.identity(name), reasons);
  }

  static List<InUse> signature(String shown, Path node) {
    try {
      return Signatures.detect(node)
          .map(s -> List.of(new InUse(InUse.Kind.SIGNATURE, shown + " carries " + s)))
          .orElse(List.of());
    } catch (IOException e) {
      return List.of(new InUse(InUse.Kind.UNREADABLE, "cannot read the start of " + shown + ": " + e.getMessage()));
    }
  }

  private BlockUsage usage() {
    return new BlockUsage(blocks, Mounts.read(mountinfo()), swaps());
  }

  /**
   * The host's mount table: init's (PID 1), which in a hostPID DaemonSet is the node's and not the container's own;
   * the agent's own when PID 1's is not readable (a test's fake tree, or no hostPID).
   */
  private java.nio.file.Path mountinfo() {
    java.nio.file.Path init = roots.proc("1/mountinfo");
    return java.nio.file.Files.isReadable(init) ? init : roots.proc("self/mountinfo");
  }

  private Swaps swaps() {
    return Swaps.read(roots.proc("swaps"));
  }

  private String controllerFile(Path controller, String file) {
    return controller == null ? null : SysFiles.read(controller.resolve(file)).orElse(null);
  }

  /** Linux's new_encode_dev: minor bits 0-7 and 20-31, major bits 8-19 (and 32+ for huge majors). */
  static String majorMinor(long rdev) {
    long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
    long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
    return major + ":" + minor;
  }

  private Inspection.Kind guessKind(Path p) {
    return p.toAbsolutePath().startsWith(roots.devfs().toAbsolutePath()) ? Inspection.Kind.BLOCK : Inspection.Kind.FILE;
  }

  private static Inspection refused(String path, String bdf, Inspection.Kind kind, InUse.Kind why, String message) {
    return new Inspection(path, bdf, kind, 0, 512, null, null, null, List.of(new InUse(why, message)));
  }

  private static String problem(String what, Exception e) {
    return e instanceof HostStateException ? e.getMessage() : "cannot inspect " + what + ": " + e;
  }

  private static Path realOrSelf(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }

  private <T> T safely(Supplier<T> read, T fallback) {
    try {
      return read.get();
    } catch (RuntimeException e) {
      warnings.accept("skipped: " + problem("host state", e));
      return fallback;
    }
  }
}

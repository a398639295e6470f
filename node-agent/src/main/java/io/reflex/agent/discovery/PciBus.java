package io.reflex.agent.discovery;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** The PCI functions under /sys/bus/pci/devices and the NVMe namespaces behind a controller. */
final class PciBus {
  private static final Pattern NAMESPACE = Pattern.compile("nvme\\d+n\\d+");
  /** A path to a namespace through one controller when the kernel does NVMe multipathing (nvme0c0n1). */
  private static final Pattern PATH_DEVICE = Pattern.compile("nvme\\d+c\\d+n\\d+");

  private final HostRoots roots;

  PciBus(HostRoots roots) {
    this.roots = roots;
  }

  Path dir(String bdf) {
    return roots.sys("bus/pci/devices/" + bdf);
  }

  boolean exists(String bdf) {
    return BlockTree.BDF.matcher(bdf).matches() && Files.isDirectory(dir(bdf));
  }

  List<String> addresses() {
    return SysFiles.names(roots.sys("bus/pci/devices"));
  }

  PciFunction function(String bdf) {
    Path d = dir(bdf);
    int numa = (int) SysFiles.readLong(d.resolve("numa_node"), -1);
    int group = SysFiles.linkName(d.resolve("iommu_group")).map(g -> parseGroup(d, g)).orElse(-1);
    return new PciFunction(bdf, SysFiles.readHex(d.resolve("class")), SysFiles.readHex(d.resolve("vendor")),
        SysFiles.readHex(d.resolve("device")), numa, SysFiles.linkName(d.resolve("driver")).orElse(null), group);
  }

  /** The controllers (nvme0...) the nvme driver made for this function; none when it is bound elsewhere. */
  List<Path> controllers(String bdf) {
    return SysFiles.list(dir(bdf).resolve("nvme"), "nvme*");
  }

  /**
   * The block devices of the namespaces behind this function. With multipathing the controller only holds path
   * devices (nvme0c0n1) and the namespaces live under the subsystem, which links back to its controllers.
   */
  List<String> namespaces(String bdf) {
    Set<String> names = new LinkedHashSet<>();
    boolean pathDevices = false;
    for (Path controller : controllers(bdf)) {
      for (String entry : SysFiles.names(controller)) {
        if (NAMESPACE.matcher(entry).matches()) {
          names.add(entry);
        }
        pathDevices |= PATH_DEVICE.matcher(entry).matches();
      }
      names.addAll(subsystemNamespaces(controller.getFileName().toString()));
    }
    if (pathDevices && names.isEmpty()) {
      throw new HostStateException(bdf + " has multipath namespaces but no subsystem under "
          + roots.sys("class/nvme-subsystem") + " lists its controller");
    }
    return List.copyOf(names);
  }

  private List<String> subsystemNamespaces(String controller) {
    for (Path subsystem : SysFiles.list(roots.sys("class/nvme-subsystem"))) {
      if (Files.exists(subsystem.resolve(controller))) {
        return SysFiles.names(subsystem).stream().filter(n -> NAMESPACE.matcher(n).matches()).toList();
      }
    }
    return List.of();
  }

  private static int parseGroup(Path device, String group) {
    try {
      return Integer.parseInt(group);
    } catch (NumberFormatException e) {
      throw SysFiles.unparsable(device.resolve("iommu_group"), group);
    }
  }
}

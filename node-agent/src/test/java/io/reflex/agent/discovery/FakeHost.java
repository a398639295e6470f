package io.reflex.agent.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Builds a fake /sys, /proc and /dev under a test's temporary directory, laid out as the kernel lays them out
 * (devices under sys/devices, reached through relative symlinks from sys/bus and sys/class), so discovery resolves
 * links exactly as it would on a host.
 */
public final class FakeHost {
  public static final String PCI_ROOT = "devices/pci0000:00";

  private final Path root;
  private final HostRoots roots;

  public FakeHost(Path root) {
    mkdirs(root);
    this.root = real(root);
    this.roots = new HostRoots(this.root.resolve("sys"), this.root.resolve("proc"), this.root.resolve("dev"));
    write("proc/self/mountinfo", "");
    write("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    write("sys/bus/pci/drivers_probe", "");
    mkdirs("sys/class/block");
    mkdirs("sys/block");
    mkdirs("dev");
  }

  public HostRoots roots() {
    return roots;
  }

  public Path root() {
    return root;
  }

  // ---- PCI

  /** A PCI function bound to {@code driver} (null: unbound) in IOMMU group {@code iommuGroup} (negative: none). */
  public FakeHost pci(String bdf, String classCode, String driver, int numaNode, int iommuGroup) {
    String dev = "sys/" + PCI_ROOT + "/" + bdf;
    write(dev + "/class", classCode + "\n");
    write(dev + "/vendor", "0x8086\n");
    write(dev + "/device", "0x0953\n");
    write(dev + "/numa_node", numaNode + "\n");
    write(dev + "/driver_override", "(null)\n");
    link("sys/bus/pci/devices/" + bdf, "../../../" + PCI_ROOT + "/" + bdf);
    if (driver != null) {
      bindDriver(bdf, driver);
    }
    if (iommuGroup >= 0) {
      link(dev + "/iommu_group", "../../../kernel/iommu_groups/" + iommuGroup);
      link("sys/kernel/iommu_groups/" + iommuGroup + "/devices/" + bdf, "../../../../" + PCI_ROOT + "/" + bdf);
    }
    return this;
  }

  /** A loaded PCI driver: its directory with the bind and unbind attributes. */
  public FakeHost driver(String name) {
    write("sys/bus/pci/drivers/" + name + "/bind", "");
    write("sys/bus/pci/drivers/" + name + "/unbind", "");
    return this;
  }

  public void bindDriver(String bdf, String driver) {
    driver(driver);
    link("sys/" + PCI_ROOT + "/" + bdf + "/driver", "../../../bus/pci/drivers/" + driver);
  }

  public Path pciDir(String bdf) {
    return root.resolve("sys/" + PCI_ROOT + "/" + bdf);
  }

  /** An NVMe namespace (and its controller, if new) behind a function the nvme driver holds. */
  public FakeHost namespace(String bdf, String controller, String ns, String majorMinor, long sectors) {
    String ctrl = "sys/" + PCI_ROOT + "/" + bdf + "/nvme/" + controller;
    write(ctrl + "/model", "FakeNVMe 9000\n");
    write(ctrl + "/serial", "SN-" + controller + "\n");
    String dir = ctrl + "/" + ns;
    blockFiles(dir, majorMinor, sectors);
    write(dir + "/wwid", "eui.00" + ns + "\n");
    write(dir + "/queue/logical_block_size", "4096\n");
    link(dir + "/device", "../../" + controller);
    link("sys/class/block/" + ns, "../../" + dir.substring("sys/".length()));
    return this;
  }

  /**
   * A namespace as the kernel shows it when it does NVMe multipathing: the controller only holds a hidden path
   * device (nvme2c2n1); the block device (nvme3n1) lives under the subsystem, which links to its controllers.
   */
  public FakeHost multipathNamespace(String bdf, String controller, int subsystem, int ns, String majorMinor,
                                     boolean withSubsystem) {
    String ctrl = "sys/" + PCI_ROOT + "/" + bdf + "/nvme/" + controller;
    write(ctrl + "/model", "FakeNVMe 9000\n");
    mkdirs(ctrl + "/nvme" + subsystem + "c" + controller.substring(4) + "n" + ns);
    if (withSubsystem) {
      String sub = "devices/virtual/nvme-subsystem/nvme-subsys" + subsystem;
      String head = "nvme" + subsystem + "n" + ns;
      blockFiles("sys/" + sub + "/" + head, majorMinor, 100);
      link("sys/class/block/" + head, "../../" + sub + "/" + head);
      link("sys/class/nvme-subsystem/nvme-subsys" + subsystem, "../../" + sub);
      linkTo("sys/" + sub + "/" + controller, root.resolve(ctrl));
    }
    return this;
  }

  // ---- network interfaces

  /**
   * A kernel network interface on PCI function {@code bdf}: directly ({@code virtio false}, as ixgbe or mlx5 make
   * them) or through a virtio device (virtio-net), with /sys/class/net/IF linking to it.
   */
  public FakeHost netdev(String bdf, String ifname, boolean virtio) {
    String devDir = "sys/" + PCI_ROOT + "/" + bdf + (virtio ? "/virtio0" : "");
    String netDir = devDir + "/net/" + ifname;
    write(netDir + "/mtu", "1500\n");
    link(netDir + "/device", "../../../" + (virtio ? "virtio0" : bdf));
    linkTo("sys/class/net/" + ifname, root.resolve(netDir));
    return this;
  }

  /** A virtual interface (bridge, bond, veth): no device link. */
  public FakeHost virtualNetdev(String ifname) {
    String netDir = "sys/devices/virtual/net/" + ifname;
    write(netDir + "/mtu", "1500\n");
    linkTo("sys/class/net/" + ifname, root.resolve(netDir));
    return this;
  }

  /** An IPv4 route through {@code ifname} in /proc/net/route ({@code dest}/{@code prefix}; 0.0.0.0/0: the default route). */
  public FakeHost route(String ifname, String dest, int prefix) {
    if (!Files.exists(root.resolve("proc/net/route"))) {
      write("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
    }
    String[] o = dest.split("\\.");
    int d = (Integer.parseInt(o[0]) << 24) | (Integer.parseInt(o[1]) << 16) | (Integer.parseInt(o[2]) << 8) | Integer.parseInt(o[3]);
    int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
    append("proc/net/route", String.format("%s\t%08X\t00000000\t0001\t0\t0\t0\t%08X\t0\t0\t0%n", ifname,
        Integer.reverseBytes(d), Integer.reverseBytes(mask)));
    return this;
  }

  /** An IPv6 address of {@code ifname} in /proc/net/if_inet6 ({@code scope} 00: global, 20: link). */
  public FakeHost ipv6Address(String ifname, String hex32, String scope) {
    if (!Files.exists(root.resolve("proc/net/if_inet6"))) write("proc/net/if_inet6", "");
    append("proc/net/if_inet6", hex32 + " 00000002 40 " + scope + " 80 " + ifname + "\n");
    return this;
  }

  /** {@code ifname} is a member of bond or bridge {@code master}. */
  public FakeHost master(String ifname, String master) {
    link("sys/class/net/" + ifname + "/master", "../" + master);
    return this;
  }

  // ---- block devices

  /** A virtio-style disk on PCI function 0000:00:05.0. */
  public FakeHost disk(String name, String majorMinor, long sectors) {
    String dir = "sys/" + PCI_ROOT + "/0000:00:05.0/virtio2/block/" + name;
    blockFiles(dir, majorMinor, sectors);
    write(dir + "/queue/logical_block_size", "512\n");
    write(dir + "/serial", "virtio-" + name + "\n");
    link(dir + "/device", "../../../virtio2");
    link("sys/class/block/" + name, "../../" + dir.substring("sys/".length()));
    link("sys/block/" + name, "../" + dir.substring("sys/".length()));
    return this;
  }

  public FakeHost partition(String disk, String name, String majorMinor, long sectors) {
    Path diskDir = real(roots.sys("class/block/" + disk));
    String dir = root.relativize(diskDir) + "/" + name;
    blockFiles(dir, majorMinor, sectors);
    write(dir + "/partition", "1\n");
    link("sys/class/block/" + name, "../../" + dir.substring("sys/".length()));
    return this;
  }

  /** A device-mapper device (an LVM volume) built on {@code slaves}. */
  public FakeHost dm(String name, String majorMinor, String dmName, String... slaves) {
    String dir = "sys/devices/virtual/block/" + name;
    blockFiles(dir, majorMinor, 2048);
    write(dir + "/dm/name", dmName + "\n");
    link("sys/class/block/" + name, "../../devices/virtual/block/" + name);
    for (String slave : slaves) {
      Path slaveDir = real(roots.sys("class/block/" + slave));
      linkTo(dir + "/slaves/" + slave, slaveDir);
      linkTo(root.relativize(slaveDir) + "/holders/" + name, root.resolve(dir));
    }
    return this;
  }

  /** A loop device backed by {@code backingFile}. */
  public FakeHost loop(String name, String majorMinor, String backingFile) {
    String dir = "sys/devices/virtual/block/" + name;
    blockFiles(dir, majorMinor, 0);
    write(dir + "/loop/backing_file", backingFile + "\n");
    link("sys/class/block/" + name, "../../devices/virtual/block/" + name);
    link("sys/block/" + name, "../devices/virtual/block/" + name);
    return this;
  }

  private void blockFiles(String dir, String majorMinor, long sectors) {
    write(dir + "/dev", majorMinor + "\n");
    write(dir + "/size", sectors + "\n");
    mkdirs(dir + "/holders");
    mkdirs(dir + "/slaves");
  }

  /** The /dev node of a block device: a regular file standing in for it, holding {@code head}. */
  public Path devNode(String name, byte[] head) {
    return write("dev/" + name, head);
  }

  // ---- procfs

  public FakeHost mount(String majorMinor, String mountPoint, String fsType, String source) {
    long id = 20 + lines("proc/self/mountinfo");
    append("proc/self/mountinfo",
        id + " 1 " + majorMinor + " / " + mountPoint + " rw,relatime shared:1 - " + fsType + " " + source + " rw\n");
    return this;
  }

  public FakeHost swap(String path) {
    append("proc/swaps", path + "\tpartition\t1048572\t0\t-2\n");
    return this;
  }

  // ---- plumbing

  public Path write(String relative, String text) {
    return write(relative, text.getBytes());
  }

  public Path write(String relative, byte[] bytes) {
    try {
      Path p = root.resolve(relative);
      Files.createDirectories(p.getParent());
      return Files.write(p, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void append(String relative, String text) {
    try {
      Files.writeString(root.resolve(relative), text, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private long lines(String relative) {
    try {
      return Files.readAllLines(root.resolve(relative)).size();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void mkdirs(String relative) {
    mkdirs(root.resolve(relative));
  }

  private static void mkdirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void link(String relative, String target) {
    try {
      Path p = root.resolve(relative);
      Files.createDirectories(p.getParent());
      Files.deleteIfExists(p);
      Files.createSymbolicLink(p, Path.of(target));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A relative link, as sysfs makes them, from {@code relative} to an absolute path in the tree. */
  public void linkTo(String relative, Path target) {
    link(relative, root.resolve(relative).getParent().relativize(target).toString());
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package io.reflex.agent.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The block devices under /sys/class/block and how they stack. A partition's directory sits inside its disk's (so the
 * disk is the parent of its real path); holders/ lists what is built on a device (dm, md, bcache) and slaves/ what a
 * device is built on.
 */
final class BlockTree {
  /** domain:bus:device.function, as it appears in a device's sysfs path. */
  static final Pattern BDF = Pattern.compile("\\p{XDigit}{4,}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.[0-7]");

  private final HostRoots roots;

  BlockTree(HostRoots roots) {
    this.roots = roots;
  }

  Path dir(String name) {
    return roots.sys("class/block/" + name);
  }

  boolean exists(String name) {
    return Files.isDirectory(dir(name));
  }

  List<String> names() {
    return SysFiles.names(roots.sys("class/block"));
  }

  BlockDevice device(String name) {
    boolean partition = isPartition(name);
    String disk = partition ? parentDisk(name) : name;
    return new BlockDevice(name, majorMinor(name), SysFiles.readLong(dir(name).resolve("size")) * 512,
        (int) SysFiles.readLong(dir(disk).resolve("queue/logical_block_size"), 512),
        SysFiles.read(dir(disk).resolve("device/model")).orElse(null), serial(disk),
        partition ? List.of() : partitions(name), holders(name), pciAddress(name), partition);
  }

  String majorMinor(String name) {
    String mm = SysFiles.require(dir(name).resolve("dev"));
    if (!mm.matches("\\d+:\\d+")) {
      throw SysFiles.unparsable(dir(name).resolve("dev"), mm);
    }
    return mm;
  }

  boolean isPartition(String name) {
    return Files.exists(dir(name).resolve("partition"));
  }

  String parentDisk(String partition) {
    return realPath(dir(partition)).getParent().getFileName().toString();
  }

  List<String> partitions(String disk) {
    return SysFiles.list(realPath(dir(disk))).stream()
        .filter(p -> Files.exists(p.resolve("partition")))
        .map(p -> p.getFileName().toString())
        .toList();
  }

  List<String> holders(String name) {
    return SysFiles.names(dir(name).resolve("holders"));
  }

  List<String> slaves(String name) {
    return SysFiles.names(dir(name).resolve("slaves"));
  }

  /** The device-mapper name (vg0-data) of a dm device, as in /dev/mapper, if any. */
  Optional<String> dmName(String name) {
    return SysFiles.read(dir(name).resolve("dm/name")).filter(n -> !n.isEmpty());
  }

  /** The block device with this MAJ:MIN; devices whose dev file is unreadable cannot be it. */
  Optional<String> byMajorMinor(String majorMinor) {
    for (String name : names()) {
      Optional<String> mm = readQuietly(dir(name).resolve("dev"));
      if (mm.isPresent() && mm.get().equals(majorMinor)) {
        return Optional.of(name);
      }
    }
    return Optional.empty();
  }

  /**
   * What stays the same across reboots and renames: the WWID when there is one (a namespace's own, where the
   * controller serial is shared by all its namespaces), else the serial, else MAJ:MIN.
   */
  String identity(String name) {
    String disk = isPartition(name) ? parentDisk(name) : name;
    String id = first(dir(name).resolve("wwid"), dir(name).resolve("device/wwid"))
        .or(() -> Optional.ofNullable(serial(disk)).map(s -> isPartition(name) ? s + "/" + name : s))
        .orElse(majorMinor(name));
    return "block:" + id;
  }

  private String serial(String disk) {
    Path d = dir(disk);
    return first(d.resolve("device/serial"), d.resolve("serial"), d.resolve("wwid"), d.resolve("device/wwid"))
        .orElse(null);
  }

  /** The PCI function nearest the device in the sysfs hierarchy (virtio and loop devices may have none). */
  private String pciAddress(String name) {
    Path device = dir(name).resolve("device");
    Path real = realPath(Files.exists(device) ? device : dir(name));
    for (Path p = real; p != null && p.getFileName() != null; p = p.getParent()) {
      if (BDF.matcher(p.getFileName().toString()).matches()) {
        return p.getFileName().toString();
      }
    }
    return null;
  }

  private static Optional<String> first(Path... files) {
    for (Path f : files) {
      Optional<String> v = SysFiles.read(f).filter(s -> !s.isEmpty());
      if (v.isPresent()) {
        return v;
      }
    }
    return Optional.empty();
  }

  private static Optional<String> readQuietly(Path file) {
    try {
      return SysFiles.read(file);
    } catch (HostStateException e) {
      return Optional.empty();
    }
  }

  static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      throw new HostStateException("cannot resolve " + p + ": " + e.getMessage(), e);
    }
  }
}

package io.reflex.agent.discovery;

import java.nio.file.Path;

/**
 * Where the host's kernel interfaces are: the real /sys, /proc and /dev, or fake trees built by tests (and by
 * nothing else). Every path the agent reads or writes about the host goes through one of these roots.
 */
public record HostRoots(Path sysfs, Path procfs, Path devfs) {
  public static final HostRoots REAL = new HostRoots(Path.of("/sys"), Path.of("/proc"), Path.of("/dev"));

  /** A path such as "/sys/bus/pci" or "/dev/nvme0n1" under these roots. */
  public Path sys(String relative) {
    return sysfs.resolve(strip(relative));
  }

  public Path proc(String relative) {
    return procfs.resolve(strip(relative));
  }

  public Path dev(String relative) {
    return devfs.resolve(strip(relative));
  }

  private static String strip(String p) {
    return p.startsWith("/") ? p.substring(1) : p;
  }
}

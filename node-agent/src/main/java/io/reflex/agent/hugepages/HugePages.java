package io.reflex.agent.hugepages;

import io.reflex.agent.binding.SysfsWriter;
import io.reflex.agent.discovery.HostRoots;
import io.reflex.agent.discovery.HostStateException;
import io.reflex.agent.discovery.SysFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reserves hugepages on every NUMA node so each node's dataplane threads get memory local to them. Only raises the
 * count (other software on the host may rely on what is there) unless told to lower it, and reports what the kernel
 * actually granted: it hands out fewer pages when memory is too fragmented.
 */
public final class HugePages {
  private final HostRoots roots;
  private final SysfsWriter sysfs;

  public HugePages(HostRoots roots) {
    this(roots, SysfsWriter.REAL);
  }

  public HugePages(HostRoots roots, SysfsWriter sysfs) {
    this.roots = roots;
    this.sysfs = sysfs;
  }

  /** Requests are pages per node (global when the host shows no nodes); 0 leaves that size alone. */
  public HugePageReport ensure(long pages2MiBPerNode, long pages1GiBPerNode, boolean allowLower) {
    List<HugePageReport.Entry> entries = new ArrayList<>();
    ensure("2 MiB", "hugepages-2048kB", pages2MiBPerNode, allowLower, entries);
    ensure("1 GiB", "hugepages-1048576kB", pages1GiBPerNode, allowLower, entries);
    return new HugePageReport(entries);
  }

  private void ensure(String size, String dir, long requested, boolean allowLower,
                      List<HugePageReport.Entry> entries) {
    if (requested <= 0) {
      return;
    }
    List<Path> nodes;
    try {
      nodes = nodes();
    } catch (HostStateException e) {
      entries.add(new HugePageReport.Entry(size, "all nodes", 0, requested, 0, e.getMessage()));
      return;
    }
    List<Path> files = nodes.isEmpty() ? List.of(roots.sys("kernel/mm/hugepages/" + dir + "/nr_hugepages"))
        : nodes.stream().map(n -> n.resolve("hugepages/" + dir + "/nr_hugepages")).toList();
    if (files.stream().noneMatch(Files::exists)) {
      entries.add(new HugePageReport.Entry(size, "all nodes", 0, requested, 0,
          "not supported on this host (no " + files.getFirst().getParent() + ")"));
      return;
    }
    for (int i = 0; i < files.size(); i++) {
      String node = nodes.isEmpty() ? "global" : nodes.get(i).getFileName().toString();
      entries.add(ensure(size, node, files.get(i), requested, allowLower));
    }
  }

  private HugePageReport.Entry ensure(String size, String node, Path file, long requested, boolean allowLower) {
    long before = 0;
    try {
      before = SysFiles.readLong(file);
      if (before < requested || (allowLower && before > requested)) {
        sysfs.write(file, Long.toString(requested));
        return new HugePageReport.Entry(size, node, before, requested, SysFiles.readLong(file), null);
      }
      return new HugePageReport.Entry(size, node, before, requested, before, null);
    } catch (IOException | HostStateException e) {
      String why = e instanceof HostStateException ? e.getMessage() : "cannot write " + file + ": " + e;
      return new HugePageReport.Entry(size, node, before, requested, before, why);
    }
  }

  /** node0, node1, ... in numeric order (node10 after node9). */
  private List<Path> nodes() {
    return SysFiles.list(roots.sys("devices/system/node"), "node*").stream()
        .filter(p -> p.getFileName().toString().matches("node\\d+"))
        .sorted(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(4))))
        .toList();
  }
}

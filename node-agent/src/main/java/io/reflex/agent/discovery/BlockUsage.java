package io.reflex.agent.discovery;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Who else uses a block device, judged from the host's state the way SPDK's setup.sh and Mayastor do: mounts, holders
 * (device-mapper, LVM, RAID), swap, partitions, and whether it backs "/". Uses of a partition, and of anything stacked
 * on the device or its partitions, count against the device. Signatures are checked by the caller, which has the data.
 */
final class BlockUsage {
  private final BlockTree tree;
  private final Mounts mounts;
  private final Swaps swaps;

  BlockUsage(BlockTree tree, Mounts mounts, Swaps swaps) {
    this.tree = tree;
    this.mounts = mounts;
    this.swaps = swaps;
  }

  List<InUse> of(String name) {
    List<InUse> reasons = new ArrayList<>();
    List<String> members = new ArrayList<>(List.of(name));
    if (!tree.isPartition(name)) {
      List<String> partitions = tree.partitions(name);
      if (!partitions.isEmpty()) {
        reasons.add(new InUse(InUse.Kind.PARTITIONS, dev(name) + " has partitions " + String.join(", ", partitions)));
      }
      members.addAll(partitions);
    }
    for (String member : members) {
      usedDirectly(member, dev(member), reasons);
      for (String holder : tree.holders(member)) {
        reasons.add(new InUse(InUse.Kind.HOLDER, dev(member) + " is held by " + holder + holderKind(holder)));
      }
      for (String stacked : stackedOn(member)) {
        usedDirectly(stacked, dev(stacked) + " (on " + dev(member) + ")", reasons);
      }
    }
    Set<String> backingRoot = backingRoot();
    if (members.stream().anyMatch(backingRoot::contains)) {
      reasons.add(new InUse(InUse.Kind.ROOT, dev(name) + " backs /"));
    }
    return reasons;
  }

  private void usedDirectly(String name, String label, List<InUse> reasons) {
    String majorMinor = tree.majorMinor(name);
    Set<String> sources = sources(name);
    for (Mounts.Mount m : mounts.all()) {
      if (m.majorMinor().equals(majorMinor) || sources.contains(m.source())) {
        reasons.add(new InUse(InUse.Kind.MOUNTED, label + " is mounted at " + m.mountPoint()));
      }
    }
    if (swaps.containsDevice(name) || tree.dmName(name).map(swaps::containsDevice).orElse(false)) {
      reasons.add(new InUse(InUse.Kind.SWAP, label + " is in use as swap"));
    }
  }

  /** The names a mount table may use for the device (btrfs, for one, shows an anonymous MAJ:MIN). */
  private Set<String> sources(String name) {
    Set<String> sources = new HashSet<>(Set.of(dev(name)));
    tree.dmName(name).ifPresent(dm -> sources.add("/dev/mapper/" + dm));
    return sources;
  }

  /** Everything built on the device, transitively through holders/ (dm-0 on vdb1, an LV on md0 on it...). */
  private Set<String> stackedOn(String name) {
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(tree.holders(name));
    while (!todo.isEmpty()) {
      String h = todo.pop();
      if (seen.add(h) && tree.exists(h)) {
        todo.addAll(tree.holders(h));
      }
    }
    seen.removeIf(h -> !tree.exists(h));
    return seen;
  }

  /** The device "/" is mounted from and everything under it: its slaves, transitively, and their disks. */
  private Set<String> backingRoot() {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    mounts.root().ifPresent(root -> tree.byMajorMinor(root.majorMinor()).or(() -> bySource(root.source()))
        .ifPresent(todo::add));
    while (!todo.isEmpty()) {
      String d = todo.pop();
      if (seen.add(d) && tree.exists(d)) {
        todo.addAll(tree.slaves(d));
        if (tree.isPartition(d)) {
          todo.add(tree.parentDisk(d));
        }
      }
    }
    return seen;
  }

  private Optional<String> bySource(String source) {
    String name = source.startsWith("/dev/") ? source.substring("/dev/".length()) : "";
    return name.matches("[\\w+-][\\w.+-]*") && tree.exists(name) ? Optional.of(name) : Optional.empty();
  }

  private String holderKind(String holder) {
    if (holder.startsWith("dm-")) {
      return tree.dmName(holder).map(n -> " (device-mapper/LVM " + n + ")").orElse(" (device-mapper/LVM)");
    }
    if (holder.startsWith("md")) {
      return " (software RAID)";
    }
    return holder.startsWith("bcache") ? " (bcache)" : "";
  }

  static String dev(String name) {
    return "/dev/" + name;
  }
}

package io.reflex.agent.hugepages;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What {@link HugePages#ensure} asked of the kernel per page size and NUMA node, and what it got. */
public record HugePageReport(List<Entry> entries) {
  /**
   * @param size      "2 MiB" or "1 GiB"
   * @param node      "node0", ..., or "global" on hosts without NUMA nodes in sysfs
   * @param before    pages before
   * @param requested pages asked for
   * @param granted   pages the kernel reports after the write (it may grant fewer)
   * @param problem   why nothing could be asked (unsupported size, unreadable file), or null
   */
  public record Entry(String size, String node, long before, long requested, long granted, String problem) {
    public boolean satisfied() {
      return problem == null && granted >= requested;
    }
  }

  public HugePageReport {
    entries = List.copyOf(entries);
  }

  public boolean satisfied() {
    return entries.stream().allMatch(Entry::satisfied);
  }

  /** E.g. "2 MiB pages: node0 256/256, node1 100/256 (the kernel granted fewer: not enough free contiguous memory)". */
  public String message() {
    Map<String, List<Entry>> bySize = new LinkedHashMap<>();
    entries.forEach(e -> bySize.computeIfAbsent(e.size(), s -> new ArrayList<>()).add(e));
    List<String> parts = new ArrayList<>();
    bySize.forEach((size, list) -> {
      List<String> nodes = list.stream()
          .map(e -> e.problem() == null ? e.node() + " " + e.granted() + "/" + e.requested()
              : e.node() + ": " + e.problem())
          .toList();
      boolean short_ = list.stream().anyMatch(e -> e.problem() == null && e.granted() < e.requested());
      parts.add(size + " pages: " + String.join(", ", nodes)
          + (short_ ? " (the kernel granted fewer: not enough free contiguous memory)" : ""));
    });
    return parts.isEmpty() ? "hugepages: nothing requested" : String.join("; ", parts);
  }
}

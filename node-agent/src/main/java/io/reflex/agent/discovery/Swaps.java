package io.reflex.agent.discovery;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The active swap areas from /proc/swaps (a header line, then one area per line, its path first). */
record Swaps(List<String> paths) {
  static Swaps read(Path procSwaps) {
    List<String> paths = new ArrayList<>();
    String[] lines = SysFiles.read(procSwaps).orElse("").split("\n");
    for (int i = 1; i < lines.length; i++) {
      String[] fields = lines[i].strip().split("\\s+");
      if (!fields[0].isEmpty()) {
        paths.add(Mounts.unescape(fields[0]));
      }
    }
    return new Swaps(paths);
  }

  /** Whether a swap area is this block device, listed as /dev/NAME or under another directory by NAME. */
  boolean containsDevice(String name) {
    return paths.stream().anyMatch(p -> p.startsWith("/dev/") && p.endsWith("/" + name));
  }

  boolean containsFile(String path) {
    return paths.contains(path);
  }
}

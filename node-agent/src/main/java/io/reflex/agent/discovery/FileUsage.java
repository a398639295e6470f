package io.reflex.agent.discovery;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Who else uses a plain file: a loop device it backs, swap, or data someone wrote into it (a filesystem image). */
final class FileUsage {
  private static final String DELETED = " (deleted)";

  private final HostRoots roots;
  private final Swaps swaps;

  FileUsage(HostRoots roots, Swaps swaps) {
    this.roots = roots;
    this.swaps = swaps;
  }

  Inspection inspect(String shown, Path real, String devInode) throws java.io.IOException {
    List<InUse> reasons = new ArrayList<>();
    for (Path loop : SysFiles.list(roots.sys("block"), "loop*")) {
      String backing = SysFiles.read(loop.resolve("loop/backing_file")).orElse("");
      if (!backing.endsWith(DELETED) && (backing.equals(shown) || backing.equals(real.toString()))) {
        reasons.add(new InUse(InUse.Kind.LOOP_BACKING, shown + " backs /dev/" + loop.getFileName()));
      }
    }
    if (swaps.containsFile(shown) || swaps.containsFile(real.toString())) {
      reasons.add(new InUse(InUse.Kind.SWAP, shown + " is in use as swap"));
    }
    reasons.addAll(Discovery.signature(shown, real));
    return new Inspection(shown, null, Inspection.Kind.FILE, Files.size(real), 512, null, null,
        "file:" + devInode, reasons);
  }
}

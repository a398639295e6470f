package io.reflex.agent.discovery;

import java.util.List;

/**
 * What discovery found out about one configured device (a file, a block device, or an NVMe PCI function).
 *
 * @param path             the device path (for a PCI function: its namespace's block device, or null when not bound to nvme)
 * @param pciAddress       the PCI function (domain:bus:dev.fn), or null
 * @param kind             FILE, BLOCK or PCI
 * @param sizeBytes        capacity in bytes (0 if unknown)
 * @param logicalBlockSize logical block size in bytes (512 for files)
 * @param model            model string from sysfs, or null
 * @param serial           serial from sysfs, or null
 * @param identity         stable identity used to recognise a device this agent already serves across restarts:
 *                         files "file:dev:inode", block devices "block:WWID or serial or MAJ:MIN", PCI "pci:BDF"
 * @param inUse            every reason it is in use (empty: free)
 */
public record Inspection(String path, String pciAddress, Kind kind, long sizeBytes, int logicalBlockSize, String model,
                         String serial, String identity, List<InUse> inUse) {
  public enum Kind { FILE, BLOCK, PCI }

  public Inspection {
    inUse = List.copyOf(inUse);
  }

  /** The reasons that still count when the device is known to be ours (everything except signatures). */
  public List<InUse> inUseIgnoringSignatures() {
    return inUse.stream().filter(u -> u.kind() != InUse.Kind.SIGNATURE).toList();
  }
}

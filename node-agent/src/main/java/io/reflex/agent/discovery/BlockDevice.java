package io.reflex.agent.discovery;

import java.util.List;

/**
 * A block device from /sys/class/block (a disk or a partition).
 *
 * @param name             kernel name, e.g. nvme0n1, vdb, vdb1, loop0
 * @param majorMinor       "MAJ:MIN" from its dev file
 * @param sizeBytes        size (the size file counts 512-byte sectors)
 * @param logicalBlockSize queue/logical_block_size (disks; partitions inherit their disk's)
 * @param model            device/model, or null
 * @param serial           device/serial (or wwid), or null
 * @param partitions       names of its partitions
 * @param holders          names under holders/ (dm-0, md0, ...)
 * @param pciAddress       the PCI function behind it, or null (virtio, loop)
 * @param partition        whether this is a partition
 */
public record BlockDevice(String name, String majorMinor, long sizeBytes, int logicalBlockSize, String model,
                          String serial, List<String> partitions, List<String> holders, String pciAddress,
                          boolean partition) {
  public BlockDevice {
    partitions = List.copyOf(partitions);
    holders = List.copyOf(holders);
  }
}

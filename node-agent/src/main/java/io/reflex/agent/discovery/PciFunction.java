package io.reflex.agent.discovery;

/**
 * A PCI function from /sys/bus/pci/devices: NVMe controllers (class 0x010802) and NICs (0x0200xx).
 *
 * @param address    domain:bus:device.function, e.g. 0000:00:04.0
 * @param classCode  e.g. 0x010802
 * @param vendor     e.g. 0x8086
 * @param device     e.g. 0x0953
 * @param numaNode   NUMA node, or -1 when the kernel reports none
 * @param driver     current driver name, or null when unbound
 * @param iommuGroup IOMMU group number, or -1 when there are no IOMMU groups
 */
public record PciFunction(String address, int classCode, int vendor, int device, int numaNode, String driver,
                          int iommuGroup) {
  public boolean isNvme() {
    return classCode == 0x010802;
  }

  public boolean isNic() {
    return (classCode & 0xFFFF00) == 0x020000;
  }
}

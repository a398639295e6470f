package io.reflex.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.reflex.agent.discovery.InUse.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiscoveryTest {
  static final String NVME = "0000:00:04.0";
  static final String BUSY_NVME = "0000:00:06.0";

  @TempDir
  Path tmp;
  FakeHost host;
  List<String> warnings = new ArrayList<>();
  Discovery discovery;

  @BeforeEach
  void host() {
    host = new FakeHost(tmp)
        .pci(NVME, "0x010802", "nvme", 0, 5)
        .namespace(NVME, "nvme0", "nvme0n1", "259:0", 2_097_152)
        .pci(BUSY_NVME, "0x010802", "nvme", 1, 6)
        .namespace(BUSY_NVME, "nvme1", "nvme1n1", "259:1", 2_097_152)
        .partition("nvme1n1", "nvme1n1p1", "259:2", 1_000_000)
        .pci("0000:00:03.0", "0x020000", "virtio-pci", 1, 4)
        .pci("0000:00:01.0", "0x060100", null, -1, 3)
        .disk("vda", "254:0", 100_000)
        .partition("vda", "vda1", "254:1", 99_000)
        .mount("254:1", "/", "ext4", "/dev/vda1")
        .mount("259:2", "/data", "xfs", "/dev/nvme1n1p1");
    discovery = new Discovery(host.roots(), warnings::add);
  }

  @Test
  void findsNvmeControllersAndNicsWithTheirNumaNodeDriverAndIommuGroup() {
    assertThat(discovery.pciFunctions())
        .extracting(PciFunction::address, PciFunction::classCode, PciFunction::numaNode, PciFunction::driver,
            PciFunction::iommuGroup, PciFunction::isNic)
        .containsExactly(
            tuple("0000:00:03.0", 0x020000, 1, "virtio-pci", 4, true),
            tuple(NVME, 0x010802, 0, "nvme", 5, false),
            tuple(BUSY_NVME, 0x010802, 1, "nvme", 6, false));
    assertThat(warnings).isEmpty();
  }

  @Test
  void functionsWithoutNumaNodeOrIommuGroupOrDriverReportNone() throws Exception {
    host.pci("0000:00:07.0", "0x020000", null, 0, -1);
    Files.delete(host.pciDir("0000:00:07.0").resolve("numa_node"));
    assertThat(discovery.pciFunctions()).filteredOn(f -> f.address().equals("0000:00:07.0"))
        .singleElement().isEqualTo(new PciFunction("0000:00:07.0", 0x020000, 0x8086, 0x0953, -1, null, -1));
  }

  @Test
  void skipsAFunctionWithAGarbledClassAndSaysWhichFile() {
    host.write("sys/" + FakeHost.PCI_ROOT + "/" + NVME + "/class", "xyz\n");
    assertThat(discovery.pciFunctions()).extracting(PciFunction::address).doesNotContain(NVME);
    assertThat(warnings).singleElement().asString().contains(NVME + "/class: 'xyz'");
  }

  @Test
  void describesBlockDevices() {
    assertThat(discovery.blockDevices()).extracting(BlockDevice::name).containsExactlyInAnyOrder(
        "nvme0n1", "nvme1n1", "nvme1n1p1", "vda", "vda1");
    BlockDevice ns = byName("nvme1n1");
    assertThat(ns).isEqualTo(new BlockDevice("nvme1n1", "259:1", 2_097_152L * 512, 4096, "FakeNVMe 9000", "SN-nvme1",
        List.of("nvme1n1p1"), List.of(), BUSY_NVME, false));
    BlockDevice part = byName("nvme1n1p1");
    assertThat(part.partition()).isTrue();
    assertThat(part.logicalBlockSize()).as("a partition has its disk's block size").isEqualTo(4096);
    assertThat(part.pciAddress()).isEqualTo(BUSY_NVME);
    assertThat(byName("vda").serial()).isEqualTo("virtio-vda");
    assertThat(byName("vda").pciAddress()).isEqualTo("0000:00:05.0");
  }

  @Test
  void skipsABlockDeviceWithAGarbledSize() {
    host.write("sys/class/block/nvme0n1/size", "xyz\n");
    assertThat(discovery.blockDevices()).extracting(BlockDevice::name).doesNotContain("nvme0n1");
    assertThat(warnings).singleElement().asString().endsWith("nvme0n1/size: 'xyz'");
  }

  @Test
  void aFreeNamespaceIsFree() {
    Path node = host.devNode("nvme0n1", new byte[8192]);
    Inspection i = discovery.inspect(node);
    assertThat(i.inUse()).isEmpty();
    assertThat(i.kind()).isEqualTo(Inspection.Kind.BLOCK);
    assertThat(i.sizeBytes()).isEqualTo(2_097_152L * 512);
    assertThat(i.logicalBlockSize()).isEqualTo(4096);
    assertThat(i.pciAddress()).isEqualTo(NVME);
    assertThat(i.identity()).isEqualTo("block:eui.00nvme0n1");
  }

  @Test
  void aDiskWithAMountedPartitionIsInUse() {
    Inspection i = discovery.inspect(host.devNode("nvme1n1", new byte[0]));
    assertThat(i.inUse()).containsExactly(
        new InUse(Kind.PARTITIONS, "/dev/nvme1n1 has partitions nvme1n1p1"),
        new InUse(Kind.MOUNTED, "/dev/nvme1n1p1 is mounted at /data"));
  }

  @Test
  void mountsAreMatchedBySourceTooAndUnescaped() {
    host.mount("0:45", "/mnt/my\\040data", "btrfs", "/dev/nvme0n1");
    assertThat(discovery.inspect(host.devNode("nvme0n1", new byte[0])).inUse())
        .containsExactly(new InUse(Kind.MOUNTED, "/dev/nvme0n1 is mounted at /mnt/my data"));
  }

  @Test
  void anLvmHolderMakesTheDiskInUse() {
    host.disk("vdb", "252:16", 10_000).dm("dm-0", "253:0", "vg0-data", "vdb").mount("253:0", "/srv", "ext4",
        "/dev/mapper/vg0-data");
    assertThat(discovery.inspect(host.devNode("vdb", new byte[0])).inUse()).containsExactly(
        new InUse(Kind.HOLDER, "/dev/vdb is held by dm-0 (device-mapper/LVM vg0-data)"),
        new InUse(Kind.MOUNTED, "/dev/dm-0 (on /dev/vdb) is mounted at /srv"));
  }

  @Test
  void swapIsInUse() {
    host.disk("vdc", "252:32", 10_000).swap("/dev/vdc");
    assertThat(discovery.inspect(host.devNode("vdc", new byte[0])).inUse())
        .containsExactly(new InUse(Kind.SWAP, "/dev/vdc is in use as swap"));
  }

  @Test
  void theDiskUnderTheRootVolumeBacksRoot() throws Exception {
    host.disk("vdd", "252:48", 10_000).partition("vdd", "vdd1", "252:49", 9_000)
        .dm("dm-1", "253:1", "vg-root", "vdd1");
    Files.writeString(host.roots().proc("self/mountinfo"), "");
    host.mount("253:1", "/", "xfs", "/dev/mapper/vg-root");
    assertThat(discovery.inspect(host.devNode("vdd", new byte[0])).inUse()).extracting(InUse::kind, InUse::message)
        .contains(tuple(Kind.ROOT, "/dev/vdd backs /"),
            tuple(Kind.HOLDER, "/dev/vdd1 is held by dm-1 (device-mapper/LVM vg-root)"),
            tuple(Kind.MOUNTED, "/dev/dm-1 (on /dev/vdd1) is mounted at /"));
  }

  @Test
  void theBootDiskIsRefused() {
    assertThat(discovery.inspect(host.devNode("vda", new byte[0])).inUse()).extracting(InUse::kind)
        .contains(Kind.ROOT, Kind.MOUNTED, Kind.PARTITIONS);
  }

  @Test
  void aSignatureOnABlockDeviceIsReported() {
    Inspection i = discovery.inspect(host.devNode("nvme0n1", SignaturesTest.ext4()));
    assertThat(i.inUse()).containsExactly(
        new InUse(Kind.SIGNATURE, "/dev/nvme0n1 carries an ext4 filesystem signature"));
    assertThat(i.inUseIgnoringSignatures()).isEmpty();
  }

  @Test
  void aZeroFileIsFree() throws Exception {
    Path file = Files.write(tmp.resolve("x.img"), new byte[1 << 20]);
    Inspection i = discovery.inspect(file);
    assertThat(i.inUse()).isEmpty();
    assertThat(i.kind()).isEqualTo(Inspection.Kind.FILE);
    assertThat(i.sizeBytes()).isEqualTo(1 << 20);
    assertThat(i.identity()).isEqualTo("file:" + Files.getAttribute(file, "unix:dev") + ":"
        + Files.getAttribute(file, "unix:ino"));
  }

  @Test
  void aFileWithAnExt4FilesystemIsInUse() throws Exception {
    Path file = Files.write(tmp.resolve("fs.img"), SignaturesTest.ext4());
    assertThat(discovery.inspect(file).inUse()).containsExactly(
        new InUse(Kind.SIGNATURE, file + " carries an ext4 filesystem signature"));
  }

  @Test
  void aFileBehindALoopDeviceIsInUse() throws Exception {
    Path file = Files.write(tmp.resolve("loop.img"), new byte[4096]);
    host.loop("loop3", "7:3", file.toString()).loop("loop4", "7:4", file + " (deleted)");
    assertThat(discovery.inspect(file).inUse())
        .containsExactly(new InUse(Kind.LOOP_BACKING, file + " backs /dev/loop3"));
  }

  @Test
  void aSwapFileIsInUse() throws Exception {
    Path file = Files.write(tmp.resolve("swap file"), new byte[4096]);
    host.swap(file.toString().replace(" ", "\\040"));
    assertThat(discovery.inspect(file).inUse()).containsExactly(new InUse(Kind.SWAP, file + " is in use as swap"));
  }

  @Test
  void aMissingPathIsNotFound() {
    Path missing = tmp.resolve("nope.img");
    assertThat(discovery.inspect(missing).inUse())
        .containsExactly(new InUse(Kind.NOT_FOUND, missing + " does not exist"));
  }

  @Test
  void aDirectoryIsNoDevice() {
    assertThat(discovery.inspect(tmp).inUse()).extracting(InUse::kind).containsExactly(Kind.UNREADABLE);
  }

  @Test
  void aGarbledSizeIsUnreadableNotAnException() {
    host.write("sys/class/block/nvme0n1/size", "xyz\n");
    assertThat(discovery.inspect(host.devNode("nvme0n1", new byte[0])).inUse()).singleElement()
        .satisfies(u -> {
          assertThat(u.kind()).isEqualTo(Kind.UNREADABLE);
          assertThat(u.message()).startsWith("cannot parse ").endsWith("/sys/class/block/nvme0n1/size: 'xyz'");
        });
  }

  @Test
  void aMissingDevFileIsUnreadable() throws Exception {
    Files.delete(host.roots().sys("class/block/nvme0n1/dev"));
    assertThat(discovery.inspect(host.devNode("nvme0n1", new byte[0])).inUse()).singleElement()
        .satisfies(u -> {
          assertThat(u.kind()).isEqualTo(Kind.UNREADABLE);
          assertThat(u.message()).startsWith("missing ").endsWith("/sys/class/block/nvme0n1/dev");
        });
  }

  @Test
  void aGarbledMountTableLineDoesNotHideTheOthers() throws Exception {
    Files.writeString(host.roots().proc("self/mountinfo"), "garbage\n\n1 2 3\n", java.nio.file.StandardOpenOption.APPEND);
    host.mount("259:0", "/x", "xfs", "/dev/nvme0n1");
    assertThat(discovery.inspect(host.devNode("nvme0n1", new byte[0])).inUse())
        .containsExactly(new InUse(Kind.MOUNTED, "/dev/nvme0n1 is mounted at /x"));
  }

  @Test
  void aControllerIsInUseWhenItsNamespacesAre() {
    Inspection busy = discovery.inspectPci(BUSY_NVME);
    assertThat(busy.kind()).isEqualTo(Inspection.Kind.PCI);
    assertThat(busy.identity()).isEqualTo("pci:" + BUSY_NVME);
    assertThat(busy.path()).isEqualTo(host.roots().dev("nvme1n1").toString());
    assertThat(busy.inUse()).contains(new InUse(Kind.MOUNTED, "/dev/nvme1n1p1 is mounted at /data"));

    Inspection free = discovery.inspectPci(NVME);
    assertThat(free.inUse()).isEmpty();
    assertThat(free.sizeBytes()).isEqualTo(2_097_152L * 512);
    assertThat(free.model()).isEqualTo("FakeNVMe 9000");
    assertThat(free.serial()).isEqualTo("SN-nvme0");
  }

  @Test
  void aControllerSeesItsNamespacesThroughTheMultipathSubsystem() {
    String bdf = "0000:00:08.0";
    host.pci(bdf, "0x010802", "nvme", 0, 8).multipathNamespace(bdf, "nvme2", 3, 1, "259:10", true);
    host.mount("259:10", "/fast", "xfs", "/dev/nvme3n1");
    assertThat(discovery.inspectPci(bdf).inUse()).contains(new InUse(Kind.MOUNTED, "/dev/nvme3n1 is mounted at /fast"));
  }

  @Test
  void aControllerWithUnmappablePathDevicesIsUnreadable() {
    String bdf = "0000:00:08.0";
    host.pci(bdf, "0x010802", "nvme", 0, 8).multipathNamespace(bdf, "nvme2", 3, 1, "259:10", false);
    assertThat(discovery.inspectPci(bdf).inUse()).extracting(InUse::kind).containsExactly(Kind.UNREADABLE);
  }

  @Test
  void onlyExistingNvmeControllersCanBeInspected() {
    assertThat(discovery.inspectPci("0000:00:09.0").inUse())
        .containsExactly(new InUse(Kind.NOT_FOUND, "PCI function 0000:00:09.0 does not exist"));
    assertThat(discovery.inspectPci("../../..").inUse()).extracting(InUse::kind).containsExactly(Kind.NOT_FOUND);
    assertThat(discovery.inspectPci("0000:00:03.0").inUse()).containsExactly(
        new InUse(Kind.NOT_FOUND, "0000:00:03.0 is not an NVMe controller (class 0x020000)"));
  }

  @Test
  void aControllerWithAGarbledClassIsUnreadable() {
    host.write("sys/" + FakeHost.PCI_ROOT + "/" + NVME + "/class", "\n");
    assertThat(discovery.inspectPci(NVME).inUse()).extracting(InUse::kind).containsExactly(Kind.UNREADABLE);
  }

  @Test
  void decodesTheKernelsDeviceNumbers() {
    assertThat(Discovery.majorMinor(0x810)).isEqualTo("8:16");
    assertThat(Discovery.majorMinor((259L << 8) | 0)).isEqualTo("259:0");
    long rdev = (272 & 0xff) | (8 << 8) | ((long) (272 & ~0xff) << 12); // new_encode_dev(8, 272)
    assertThat(Discovery.majorMinor(rdev)).isEqualTo("8:272");
  }

  private BlockDevice byName(String name) {
    return discovery.blockDevices().stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
  }
}

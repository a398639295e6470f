package io.reflex.agent.binding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.reflex.agent.discovery.Discovery;
import io.reflex.agent.discovery.FakeHost;
import io.reflex.agent.discovery.InUse;
import io.reflex.agent.discovery.SysFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriverBinderTest {
  static final String NVME = "0000:00:04.0";
  static final String BUSY = "0000:00:06.0";

  @TempDir
  Path tmp;
  FakeHost host;
  FakeKernel kernel;
  Path stateDir;

  @BeforeEach
  void host() {
    host = new FakeHost(tmp.resolve("host"))
        .driver("vfio-pci")
        .driver("uio_pci_generic")
        .pci(NVME, "0x010802", "nvme", 0, 5)
        .namespace(NVME, "nvme0", "nvme0n1", "259:0", 2_097_152)
        .pci(BUSY, "0x010802", "nvme", 1, 6)
        .namespace(BUSY, "nvme1", "nvme1n1", "259:1", 2_097_152)
        .partition("nvme1n1", "nvme1n1p1", "259:2", 1_000_000)
        .mount("259:2", "/data", "xfs", "/dev/nvme1n1p1");
    kernel = new FakeKernel(host).matches(NVME, "nvme").matches(BUSY, "nvme");
    stateDir = tmp.resolve("state");
  }

  DriverBinder binder() {
    return new DriverBinder(host.roots(), stateDir, new Discovery(host.roots()), kernel);
  }

  @Test
  void bindsAFreeControllerToVfioAndGivesItBack() throws Exception {
    BindResult bound = binder().bind(NVME);
    assertThat(bound).isEqualTo(new BindResult(NVME, "vfio-pci", "nvme", true, java.util.List.of()));
    assertThat(driver(NVME)).isEqualTo("vfio-pci");
    assertThat(kernel.writes).containsExactly(
        "sys/devices/pci0000:00/" + NVME + "/driver_override=vfio-pci",
        "sys/bus/pci/drivers/nvme/unbind=" + NVME,
        "sys/bus/pci/drivers_probe=" + NVME);
    assertThat(Files.readString(stateDir.resolve(NVME + ".state"))).contains("original=nvme", "phase=BOUND");

    BindResult released = binder().release(NVME, true);
    assertThat(released.driver()).isEqualTo("nvme");
    assertThat(released.changed()).isTrue();
    assertThat(driver(NVME)).isEqualTo("nvme");
    assertThat(SysFiles.read(host.pciDir(NVME).resolve("driver_override"))).contains("(null)");
    assertThat(stateDir.resolve(NVME + ".state")).doesNotExist();
  }

  @Test
  void bindingTwiceOrReleasingTwiceChangesNothingTheSecondTime() throws Exception {
    binder().bind(NVME);
    int writes = kernel.writes.size();
    BindResult again = binder().bind(NVME);
    assertThat(again.changed()).isFalse();
    assertThat(again.driver()).isEqualTo("vfio-pci");
    assertThat(again.originalDriver()).isEqualTo("nvme");
    assertThat(kernel.writes).hasSize(writes);

    binder().release(NVME, true);
    writes = kernel.writes.size();
    BindResult released = binder().release(NVME, true);
    assertThat(released.changed()).isFalse();
    assertThat(released.driver()).isEqualTo("nvme");
    assertThat(kernel.writes).as("a function on its kernel driver is left alone").hasSize(writes);
  }

  @Test
  void aBindThatDiedAfterUnbindIsFinishedByTheNextAgent() throws Exception {
    kernel.crashAfter("unbind");
    assertThatThrownBy(() -> binder().bind(NVME)).isInstanceOf(FakeKernel.Crash.class);
    assertThat(driver(NVME)).as("unbound, probe never happened").isNull();
    assertThat(Files.readString(stateDir.resolve(NVME + ".state"))).contains("original=nvme", "phase=BINDING");

    BindResult bound = binder().bind(NVME);
    assertThat(bound.driver()).isEqualTo("vfio-pci");
    assertThat(bound.originalDriver()).as("remembered across the crash").isEqualTo("nvme");

    binder().release(NVME, true);
    assertThat(driver(NVME)).isEqualTo("nvme");
  }

  @Test
  void aReleaseAfterABindThatDiedGivesTheFunctionBack() throws Exception {
    kernel.crashAfter("unbind");
    assertThatThrownBy(() -> binder().bind(NVME)).isInstanceOf(FakeKernel.Crash.class);

    BindResult released = binder().release(NVME, true);
    assertThat(released.driver()).isEqualTo("nvme");
    assertThat(SysFiles.read(host.pciDir(NVME).resolve("driver_override"))).contains("(null)");
    assertThat(stateDir.resolve(NVME + ".state")).doesNotExist();
  }

  @Test
  void aBindThatDiedBeforeUnbindLeavesNoOverrideBehindOnRelease() throws Exception {
    kernel.crashAfter("driver_override");
    assertThatThrownBy(() -> binder().bind(NVME)).isInstanceOf(FakeKernel.Crash.class);
    assertThat(driver(NVME)).isEqualTo("nvme");

    binder().release(NVME, true);
    assertThat(driver(NVME)).isEqualTo("nvme");
    assertThat(SysFiles.read(host.pciDir(NVME).resolve("driver_override"))).contains("(null)");
  }

  @Test
  void releasingWithoutRestoreLeavesTheFunctionWithoutADriver() throws Exception {
    binder().bind(NVME);
    BindResult released = binder().release(NVME, false);
    assertThat(released.driver()).isNull();
    assertThat(driver(NVME)).isNull();
  }

  @Test
  void usesUioWithoutAnIommu() throws Exception {
    FakeHost noIommu = new FakeHost(tmp.resolve("no-iommu")).driver("uio_pci_generic")
        .pci(NVME, "0x010802", "nvme", 0, -1).namespace(NVME, "nvme0", "nvme0n1", "259:0", 100);
    kernel = new FakeKernel(noIommu).matches(NVME, "nvme");
    DriverBinder binder = new DriverBinder(noIommu.roots(), stateDir, new Discovery(noIommu.roots()), kernel);
    assertThat(binder.targetDriver()).isEqualTo("uio_pci_generic");
    assertThat(binder.bind(NVME).driver()).isEqualTo("uio_pci_generic");
    assertThat(binder.release(NVME, true).driver()).isEqualTo("nvme");
  }

  @Test
  void refusesAControllerWithAMountedNamespace() {
    BindingException e = catchThrowableOfType(BindingException.class, () -> binder().bind(BUSY));
    assertThat(e.reasons()).contains(new InUse(InUse.Kind.MOUNTED, "/dev/nvme1n1p1 is mounted at /data"));
    assertThat(e.getMessage()).startsWith("refusing to bind " + BUSY + ": ")
        .contains("/dev/nvme1n1p1 is mounted at /data");
    assertThat(kernel.writes).isEmpty();
    assertThat(driver(BUSY)).isEqualTo("nvme");
    assertThat(stateDir.resolve(BUSY + ".state")).doesNotExist();
  }

  @Test
  void refusesAControllerWhoseNamespaceCarriesAFilesystemUnlessItIsOurs() throws Exception {
    byte[] ext4 = new byte[2048];
    ext4[1080] = 0x53;
    ext4[1081] = (byte) 0xEF;
    host.devNode("nvme0n1", ext4);
    BindingException e = catchThrowableOfType(BindingException.class, () -> binder().bind(NVME));
    assertThat(e.reasons()).extracting(InUse::kind).containsExactly(InUse.Kind.SIGNATURE);
    assertThat(binder().bind(NVME, true).driver()).isEqualTo("vfio-pci");
  }

  @Test
  void refusesWhatIsNotAnNvmeController() { // nor a NIC (those: DpdkNicTest)
    host.pci("0000:00:03.0", "0x030000", "virtio-pci", 0, 7);
    assertThatThrownBy(() -> binder().bind("0000:00:03.0"))
        .hasMessageContaining("0000:00:03.0 is not an NVMe controller");
    assertThatThrownBy(() -> binder().bind("0000:00:09.0"))
        .hasMessage("PCI function 0000:00:09.0 does not exist");
    assertThatThrownBy(() -> binder().bind("../../etc"))
        .hasMessage("PCI function ../../etc does not exist");
  }

  @Test
  void saysSoWhenTheUserSpaceDriverIsNotLoaded() throws Exception {
    deleteTree(host.roots().sys("bus/pci/drivers/vfio-pci"));
    assertThatThrownBy(() -> binder().bind(NVME)).hasMessageStartingWith("vfio-pci is not loaded");
    assertThat(kernel.writes).isEmpty();
    assertThat(driver(NVME)).isEqualTo("nvme");
  }

  @Test
  void givesTheFunctionBackWhenTheUserSpaceDriverDoesNotTakeIt() {
    kernel.refuses("vfio-pci");
    assertThatThrownBy(() -> binder().bind(NVME))
        .hasMessage("vfio-pci did not take " + NVME + ": is the module loaded? (gave it back to nvme)");
    assertThat(driver(NVME)).isEqualTo("nvme");
    assertThat(stateDir.resolve(NVME + ".state")).doesNotExist();
  }

  @Test
  void warnsWhenTheIommuGroupHoldsOtherFunctions() throws Exception {
    host.pci("0000:00:04.1", "0x0c0330", null, 0, 5);
    BindResult bound = binder().bind(NVME);
    assertThat(bound.warnings()).singleElement().asString()
        .startsWith("IOMMU group 5 also holds 0000:00:04.1: ");
  }

  @Test
  void releasingAFunctionThatWasRemovedForgetsIt() throws Exception {
    binder().bind(NVME);
    deleteTree(host.pciDir(NVME));
    BindResult released = binder().release(NVME, true);
    assertThat(released.warnings()).containsExactly("PCI function " + NVME + " no longer exists");
    assertThat(stateDir.resolve(NVME + ".state")).doesNotExist();
  }

  private String driver(String bdf) {
    return SysFiles.linkName(host.pciDir(bdf).resolve("driver")).orElse(null);
  }

  private static void deleteTree(Path dir) throws Exception {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

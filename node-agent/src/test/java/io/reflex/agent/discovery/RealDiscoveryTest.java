package io.reflex.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Reads (never writes) this machine's /sys, /proc and /dev: the boot disk must come out as in use. */
class RealDiscoveryTest {
  final List<String> warnings = new ArrayList<>();
  final Discovery discovery = new Discovery(HostRoots.REAL, warnings::add);

  @Test
  void listsThisMachinesDevicesWithoutComplaint() {
    assertThat(discovery.pciFunctions()).allMatch(f -> f.isNvme() || f.isNic());
    assertThat(discovery.blockDevices()).isNotEmpty();
    assertThat(warnings).isEmpty();
  }

  @Test
  void theRealBootDiskBacksRoot() {
    Optional<Mounts.Mount> root = Mounts.read(Path.of("/proc/self/mountinfo")).root();
    BlockTree tree = new BlockTree(HostRoots.REAL);
    Optional<String> device = root.flatMap(m -> tree.byMajorMinor(m.majorMinor()));
    assumeTrue(device.isPresent(), "/ is not on a block device here (a container?)");
    String disk = tree.isPartition(device.get()) ? tree.parentDisk(device.get()) : device.get();
    Path node = Path.of("/dev", disk);
    assumeTrue(Files.exists(node), node + " is not there");

    Inspection i = discovery.inspect(node);
    assertThat(i.kind()).isEqualTo(Inspection.Kind.BLOCK);
    assertThat(i.sizeBytes()).isPositive();
    assertThat(i.inUse()).extracting(InUse::kind).contains(InUse.Kind.ROOT, InUse.Kind.MOUNTED);
    assertThat(i.inUse()).extracting(InUse::message).contains("/dev/" + disk + " backs /");
  }
}

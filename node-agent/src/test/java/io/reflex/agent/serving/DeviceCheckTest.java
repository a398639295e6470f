package io.reflex.agent.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.agent.binding.DriverBinder;
import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.config.DeviceSpec;
import io.reflex.agent.discovery.Discovery;
import io.reflex.agent.discovery.HostRoots;
import io.reflex.agent.hugepages.HugePages;
import io.reflex.agent.state.ClaimStore;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.dataplane.net.PollMode;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device check on real files (real /sys, /proc): create=SIZE, signatures, and claims that survive a restart. */
class DeviceCheckTest {
  @TempDir Path dir;

  DeviceCheck check(String... specs) {
    AgentSettings s = new AgentSettings("n1", HostRoots.REAL, java.util.Arrays.stream(specs).map(DeviceSpec::parse).toList(),
        InetAddress.getLoopbackAddress(), dir.resolve("state"), 1, PollMode.BLOCK, true, true, Duration.ofSeconds(10), 0, 0,
        false, true, 0);
    return new DeviceCheck(s, new Discovery(HostRoots.REAL), new DriverBinder(HostRoots.REAL, dir.resolve("state")),
        new HugePages(HostRoots.REAL), new ClaimStore(dir.resolve("state")));
  }

  ManagedDevice device(String spec) {
    AgentSettings s = new AgentSettings("n1", HostRoots.REAL, List.of(DeviceSpec.parse(spec)), InetAddress.getLoopbackAddress(),
        dir.resolve("state"), 1, PollMode.BLOCK, true, true, Duration.ofSeconds(10), 0, 0, false, true, 0);
    return new DeviceResolver(s).resolve(List.of(), List::of).devices().getFirst();
  }

  @Test
  void aMissingFileWithCreateIsMadeSparseAndClaimed() throws Exception {
    Path f = dir.resolve("sub/dev.img");
    ManagedDevice d = device(f + ",create=64Mi");
    DeviceCheck.Outcome o = check().check(d, false);
    assertThat(o.usable()).as(o.summary()).isTrue();
    assertThat(Files.size(f)).isEqualTo(64L << 20);
    Process du = new ProcessBuilder("du", "-k", f.toString()).start(); // allocated KiB: sparse
    assertThat(Long.parseLong(new String(du.getInputStream().readAllBytes()).split("\\s+")[0])).isLessThan(1024);
    assertThat(o.capacityBytes()).isEqualTo(64L << 20);
  }

  @Test
  void theDpdkDeviceIsNotStartedWithoutHugepagesUnlessTheEalRunsWithout() throws Exception {
    Path f = dir.resolve("dpdk.img");
    Files.write(f, new byte[1 << 20]);
    ManagedDevice d = device(f.toString());
    DeviceCheck.Outcome o = check().check(d, false, true); // its EAL uses hugepages; --hugepages-2m not set
    assertThat(o.usable()).isFalse();
    assertThat(o.reason()).isEqualTo("HugePages");
    assertThat(o.summary()).startsWith("the DPDK port is not started: the DPDK port needs hugepages: set --hugepages-2m");
    assertThat(check().check(d, false, false).usable()).as("--no-huge, or kernel TCP").isTrue();
  }

  @Test
  void aFileWithAFilesystemSignatureIsRefusedUnlessItIsAlreadyOurs() throws Exception {
    Path f = dir.resolve("ext4.img");
    byte[] img = new byte[1 << 20];
    img[1080] = 0x53; // ext2/3/4 superblock magic 0xEF53 at offset 1080, little-endian
    img[1081] = (byte) 0xEF;
    Files.write(f, img);
    ManagedDevice d = device(f.toString());
    DeviceCheck.Outcome o = check().check(d, false);
    assertThat(o.usable()).isFalse();
    assertThat(o.phase()).isEqualTo(DevicePhase.Unavailable);
    assertThat(o.summary()).contains(f.toString()).contains("ext");

    // A file this agent served before (its claim is on record): the same bytes are its tenants' data.
    Path g = dir.resolve("ours.img");
    Files.write(g, new byte[1 << 20]);
    ManagedDevice ours = device(g.toString());
    assertThat(check().check(ours, false).usable()).isTrue();
    Files.write(g, img);
    DeviceCheck.Outcome again = check().check(ours, false); // a new DeviceCheck: the claim comes from the state dir
    assertThat(again.usable()).as(again.summary()).isTrue();
    assertThat(again.conds().stream().filter(c -> c.type().equals("Claimed")).findFirst().orElseThrow().reason())
        .isEqualTo("Ours");
  }
}

package io.reflex.agent.hugepages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reflex.agent.discovery.HostRoots;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Raises this machine's 2 MiB pages a little and puts them back: needs root and a writable sysfs. */
class RealHugePagesTest {
  @Test
  void raisesTheRealCountAndReadsBackWhatTheKernelGranted() throws Exception {
    assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")), "needs root");
    boolean numa = Files.isDirectory(Path.of("/sys/devices/system/node/node0"));
    assumeTrue(!Files.isDirectory(Path.of("/sys/devices/system/node/node1")), "the test restores node0 only");
    Path file = numa ? Path.of("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")
        : Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
    assumeTrue(Files.isWritable(file), file + " is not writable");

    long original = Long.parseLong(Files.readString(file).strip());
    try {
      HugePageReport report = new HugePages(HostRoots.REAL).ensure(original + 4, 0, false);
      HugePageReport.Entry entry = report.entries().getFirst();
      assertThat(entry.before()).isEqualTo(original);
      assertThat(entry.requested()).isEqualTo(original + 4);
      assertThat(entry.granted()).isEqualTo(Long.parseLong(Files.readString(file).strip()))
          .isBetween(original, original + 4);
      assertThat(report.message()).startsWith("2 MiB pages: " + (numa ? "node0 " : "global ") + entry.granted());
    } finally {
      Files.writeString(file, Long.toString(original));
    }
    assertThat(Long.parseLong(Files.readString(file).strip())).isEqualTo(original);
  }
}

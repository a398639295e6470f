package io.reflex.agent.hugepages;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.agent.binding.SysfsWriter;
import io.reflex.agent.discovery.FakeHost;
import io.reflex.agent.discovery.HostRoots;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HugePagesTest {
  static final String NODE_2M = "sys/devices/system/node/%s/hugepages/hugepages-2048kB/nr_hugepages";
  static final String NODE_1G = "sys/devices/system/node/%s/hugepages/hugepages-1048576kB/nr_hugepages";

  @TempDir
  Path tmp;
  FakeHost host;
  /** The most pages the fake kernel can find per file, as fragmentation limits a real one. */
  Map<Path, Long> available = new HashMap<>();
  List<String> writes = new ArrayList<>();
  SysfsWriter kernel = (file, value) -> {
    writes.add(file.getFileName() + "=" + value);
    long granted = Math.min(Long.parseLong(value), available.getOrDefault(file, Long.MAX_VALUE));
    Files.writeString(file, granted + "\n");
  };

  @BeforeEach
  void host() {
    host = new FakeHost(tmp);
    for (String node : List.of("node0", "node1")) {
      host.write(NODE_2M.formatted(node), "0\n");
    }
  }

  HugePages hugePages() {
    return new HugePages(host.roots(), kernel);
  }

  @Test
  void raisesEveryNodeAndReportsWhatTheKernelGranted() {
    available.put(host.root().resolve(NODE_2M.formatted("node1")), 100L);
    HugePageReport report = hugePages().ensure(256, 0, false);
    assertThat(report.entries()).containsExactly(
        new HugePageReport.Entry("2 MiB", "node0", 0, 256, 256, null),
        new HugePageReport.Entry("2 MiB", "node1", 0, 256, 100, null));
    assertThat(report.satisfied()).isFalse();
    assertThat(report.message()).isEqualTo(
        "2 MiB pages: node0 256/256, node1 100/256 (the kernel granted fewer: not enough free contiguous memory)");
  }

  @Test
  void neverLowersUnlessAllowed() {
    host.write(NODE_2M.formatted("node0"), "512\n");
    HugePageReport kept = hugePages().ensure(256, 0, false);
    assertThat(kept.entries().getFirst()).isEqualTo(new HugePageReport.Entry("2 MiB", "node0", 512, 256, 512, null));
    assertThat(kept.satisfied()).isTrue();
    assertThat(writes).containsExactly("nr_hugepages=256"); // node1 only

    HugePageReport lowered = hugePages().ensure(256, 0, true);
    assertThat(lowered.entries().getFirst().granted()).isEqualTo(256);
  }

  @Test
  void zeroLeavesASizeAlone() {
    HugePageReport report = hugePages().ensure(0, 0, true);
    assertThat(report.entries()).isEmpty();
    assertThat(report.satisfied()).isTrue();
    assertThat(writes).isEmpty();
  }

  @Test
  void usesTheGlobalCountOnHostsWithoutNumaNodes() {
    FakeHost flat = new FakeHost(tmp.resolve("flat"));
    flat.write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
    HugePageReport report = new HugePages(flat.roots(), kernel).ensure(64, 0, false);
    assertThat(report.entries()).containsExactly(new HugePageReport.Entry("2 MiB", "global", 4, 64, 64, null));
    assertThat(report.message()).isEqualTo("2 MiB pages: global 64/64");
  }

  @Test
  void saysSoWhenASizeIsNotSupported() {
    HugePageReport report = hugePages().ensure(8, 2, false);
    assertThat(report.satisfied()).isFalse();
    assertThat(report.message()).startsWith("2 MiB pages: node0 8/8, node1 8/8; 1 GiB pages: all nodes: not supported")
        .contains("hugepages-1048576kB");
  }

  @Test
  void aGarbledCountIsReportedNotThrown() {
    host.write(NODE_2M.formatted("node1"), "lots\n");
    HugePageReport report = hugePages().ensure(8, 0, false);
    assertThat(report.entries().get(1).problem()).startsWith("cannot parse ").endsWith("nr_hugepages: 'lots'");
    assertThat(report.satisfied()).isFalse();
  }

  @Test
  void aFailedWriteIsReportedNotThrown() {
    host.write(NODE_1G.formatted("node0"), "0\n");
    host.write(NODE_1G.formatted("node1"), "0\n");
    SysfsWriter denied = (file, value) -> {
      throw new java.nio.file.AccessDeniedException(file.toString());
    };
    HugePageReport report = new HugePages(host.roots(), denied).ensure(0, 1, false);
    assertThat(report.entries()).hasSize(2).first().satisfies(e -> {
      assertThat(e.granted()).isZero();
      assertThat(e.problem()).startsWith("cannot write ").contains("AccessDeniedException");
    });
  }

  @Test
  void aMissingHugepagesTreeIsAReportNotAnException() {
    HugePageReport report = new HugePages(new HostRoots(tmp.resolve("x"), tmp.resolve("y"), tmp.resolve("z")))
        .ensure(1, 1, false);
    assertThat(report.satisfied()).isFalse();
    assertThat(report.entries()).extracting(HugePageReport.Entry::problem).allMatch(p -> p.startsWith("not supported"));
  }
}

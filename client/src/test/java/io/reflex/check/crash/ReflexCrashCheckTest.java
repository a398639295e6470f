package io.reflex.check.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.client.LoopbackServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ReflexCrashCheckTest {
  private static int run(ByteArrayOutputStream out, String... args) {
    PrintStream old = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      return new CommandLine(new ReflexCrashCheck()).execute(args);
    } finally {
      System.setOut(old);
    }
  }

  @Test
  void verifyOnlyChecksTheDeviceAgainstARecordsFile(@TempDir Path dir) throws Exception {
    try (LoopbackServer s = new LoopbackServer(64 * 8)) {
      byte[] disk = s.disk();
      Records r = new Records(99, 4, 32); // blocks [4, 36)
      for (int i = 0; i < 32; i++) r.setInitial(i, BlockImage.fingerprint(disk, (4 + i) * 4096));
      for (int i = 0; i < 32; i += 3) {
        long seq = r.begin(i);
        r.durable(i, seq);
        BlockImage.fill(disk, (4 + i) * 4096, 99, 4 + i, seq);
      }
      Path records = dir.resolve("r.bin");
      r.save(records);
      String port = Integer.toString(s.port());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThat(run(out, "--port", port, "--verify-only", "--records", records.toString())).as(out.toString()).isZero();
      assertThat(out.toString()).contains("verified 32 blocks").contains("11 hold their latest acknowledged write")
          .contains("violations 0");

      disk[(4 + 9) * 4096 + 100] ^= 1; // block 13 held an acknowledged write: now it does not
      out.reset();
      assertThat(run(out, "--port", port, "--verify-only", "--records", records.toString())).isEqualTo(1);
      assertThat(out.toString()).contains("VIOLATION block 13: TORN");
    }
  }

  @Test
  void refusesWhatCannotBeChecked() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(run(out, "--port", "1", "--durability", "fua", "--", "true")).isEqualTo(2); // no FUA in the ReFlex protocol
    assertThat(run(out, "--port", "1", "--kill-after", "2-1", "--", "true")).isEqualTo(2);
    assertThat(run(out, "--port", "1")).isEqualTo(2); // no server command
    assertThat(run(out, "--port", "1", "--verify-only")).isEqualTo(2); // no records
  }
}

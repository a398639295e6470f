package io.reflex.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.client.LoopbackServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ReflexCheckTest {
  static int run(String... args) {
    return new CommandLine(new ReflexCheck()).execute(args);
  }

  @Test
  void writesThenVerifiesAndCatchesTheWrongSeed() throws Exception {
    try (LoopbackServer s = new LoopbackServer(1 << 16).requireToken("tok")) {
      String port = Integer.toString(s.port());
      assertThat(run("--host", "127.0.0.1", "--port", port, "--token", "tok", "--mode", "write", "--blocks", "64", "--seed", "7"))
          .isZero();
      assertThat(run("--host", "127.0.0.1", "--port", port, "--token", "tok", "--mode", "verify", "--blocks", "64", "--seed", "7"))
          .isZero();
      PrintStream out = System.out;
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      System.setOut(new PrintStream(buf));
      try {
        assertThat(run("--host", "127.0.0.1", "--port", port, "--token", "tok", "--mode", "verify", "--blocks", "64", "--seed", "8"))
            .isEqualTo(1);
      } finally {
        System.setOut(out);
      }
      assertThat(buf.toString()).contains("MISMATCH: block 0");
    }
  }

  @Test
  void aWrongTokenFails() throws Exception {
    try (LoopbackServer s = new LoopbackServer(1 << 16).requireToken("tok")) {
      assertThat(run("--host", "127.0.0.1", "--port", Integer.toString(s.port()), "--token", "nope")).isNotZero();
    }
  }

  @Test
  void blocksNameThemselvesAndDifferBySeed() {
    assertThat(new String(ReflexCheck.content(3, 42).array(), 0, 30)).startsWith("reflex-check seed=3 block=42");
    assertThat(ReflexCheck.content(3, 42)).isNotEqualTo(ReflexCheck.content(4, 42)).isNotEqualTo(ReflexCheck.content(3, 43));
  }
}

package io.reflex.check.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The harness against {@link FakeServer}: it passes a faithful server and catches lost, torn and early failures. */
class CrashHarnessTest {
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();

  private CrashHarness.Summary run(FakeServer server, Durability d, int rounds) throws Exception {
    CrashHarness.Options o = new CrashHarness.Options(10, 512, 8, d, 8, rounds, 20, 60, Duration.ofSeconds(10), 42, 16, null);
    return new CrashHarness(o, new PrintStream(log, true, StandardCharsets.UTF_8)).run(server, server);
  }

  private String log() {
    return log.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aServerThatKeepsEveryAnsweredWritePasses() throws Exception {
    FakeServer server = new FakeServer();
    CrashHarness.Summary s = run(server, Durability.REPLY, 4);
    assertThat(s.passed()).as(log()).isTrue();
    assertThat(s.roundsDone()).isEqualTo(4);
    assertThat(server.kills).isEqualTo(4);
    assertThat(s.durableWrites()).isGreaterThanOrEqualTo(4 * 8);
    assertThat(s.acknowledgedReadBack()).isPositive();
    assertThat(s.inFlightAtKills()).isEqualTo(s.landed() + s.notLanded());
    assertThat(log()).contains("round   4/4").contains("violations 0");
  }

  @Test
  void flushModeCountsWritesDurableOnlyOnceAFlushCoversThem() throws Exception {
    FakeServer server = new FakeServer();
    CrashHarness.Summary s = run(server, Durability.FLUSH, 3);
    assertThat(s.passed()).as(log()).isTrue();
    assertThat(s.durableWrites()).isPositive();
    assertThat(log()).contains("answered but unflushed");
  }

  @Test
  void losingAnsweredWritesIsCaught() throws Exception {
    FakeServer server = new FakeServer();
    server.loseOnKill = 3;
    CrashHarness.Summary s = run(server, Durability.REPLY, 2);
    assertThat(s.error()).as(log()).isNull();
    assertThat(s.violations()).isPositive();
    assertThat(s.firstViolations()).allSatisfy(v -> assertThat(v.kind()).isIn(Records.Kind.LOST, Records.Kind.STALE));
    assertThat(log()).contains("VIOLATION block").contains("an acknowledged write was lost");
  }

  @Test
  void tornWritesAreCaught() throws Exception {
    FakeServer server = new FakeServer();
    server.tearOnKill = true;
    server.stallAfter = 64; // the queue is full when the kill comes
    CrashHarness.Summary s = run(server, Durability.REPLY, 3);
    assertThat(s.violations()).as(log()).isPositive();
    assertThat(s.firstViolations()).anySatisfy(v -> assertThat(v.kind()).isEqualTo(Records.Kind.TORN));
  }

  @Test
  void aConnectionThatFailsBeforeTheKillBreaksTheRun() throws Exception {
    FakeServer server = new FakeServer();
    server.dieAfterMillis = 5;
    CrashHarness.Summary s = run(server, Durability.REPLY, 2);
    assertThat(s.passed()).isFalse();
    assertThat(s.error()).isNotNull();
  }
}

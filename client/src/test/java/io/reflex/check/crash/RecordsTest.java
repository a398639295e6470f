package io.reflex.check.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordsTest {
  static final long RUN = 0x1234;

  /** A records object for blocks [100, 108) whose pre-run content is {@link #before}. */
  private static Records records() {
    Records r = new Records(RUN, 100, 8);
    for (int i = 0; i < 8; i++) r.setInitial(i, BlockImage.fingerprint(before(i), 0));
    r.beginRound(1);
    return r;
  }

  private static byte[] before(int i) {
    byte[] b = new byte[4096];
    Arrays.fill(b, (byte) (i + 1));
    return b;
  }

  private static byte[] img(long block, long seq) {
    return BlockImage.image(RUN, block, seq);
  }

  @Test
  void aBlockNeverWrittenMustHoldItsPreRunContent() {
    Records r = records();
    assertThat(r.check(0, before(0), 0).outcome()).isEqualTo(Records.Outcome.INITIAL);
    Records.Check c = r.check(1, before(2), 0);
    assertThat(c.outcome()).isEqualTo(Records.Outcome.VIOLATION);
    assertThat(c.violation().kind()).isEqualTo(Records.Kind.GARBAGE);
    assertThat(r.check(2, new byte[4096], 0).violation().detail()).startsWith("holds zeros");
  }

  @Test
  void anAcknowledgedWriteMustBeThere() {
    Records r = records();
    long s1 = r.begin(0);
    assertThat(r.begin(0)).as("no second write to a block with one pending").isZero();
    r.durable(0, s1);
    assertThat(r.check(0, img(100, s1), 0)).isEqualTo(new Records.Check(Records.Outcome.ACKED, true, null));

    long s2 = r.begin(0);
    r.durable(0, s2);
    Records.Check stale = r.check(0, img(100, s1), 0);
    assertThat(stale.violation().kind()).isEqualTo(Records.Kind.STALE);
    assertThat(stale.violation().detail()).contains("older seq " + s1).contains("expected seq " + s2).contains("lost");

    long s3 = r.begin(1);
    r.durable(1, s3);
    assertThat(r.check(1, before(1), 0).violation().kind()).isEqualTo(Records.Kind.LOST);
  }

  @Test
  void aWriteInFlightMayOrMayNotHaveLanded_andWhatWasFoundSticks() {
    Records r = records();
    long acked = r.begin(0);
    r.durable(0, acked);
    long inFlight = r.begin(0);
    long inFlight2 = r.begin(1);
    assertThat(r.check(0, img(100, inFlight), 0).outcome()).isEqualTo(Records.Outcome.PENDING_LANDED);
    assertThat(r.check(1, before(1), 0).outcome()).isEqualTo(Records.Outcome.PENDING_NOT_LANDED);
    // Resolved: the landed write is now required, the absent one may not appear later.
    assertThat(r.check(0, img(100, acked), 0).violation().kind()).isEqualTo(Records.Kind.STALE);
    assertThat(r.check(1, img(101, inFlight2), 0).violation().kind()).isEqualTo(Records.Kind.NEVER_WRITTEN);
    assertThat(r.busy(0)).isFalse();
    assertThat(r.busy(1)).isFalse();
  }

  @Test
  void dataThatWasNeverWrittenThereIsNamed() {
    Records r = records();
    long s = r.begin(3);
    r.durable(3, s);
    assertThat(r.check(3, img(104, s), 0).violation().kind()).isEqualTo(Records.Kind.MISDIRECTED);
    s = r.begin(3);
    r.durable(3, s);
    assertThat(r.check(3, BlockImage.image(RUN + 1, 103, s), 0).violation().kind()).isEqualTo(Records.Kind.FOREIGN);
    s = r.begin(3);
    r.durable(3, s);
    assertThat(r.check(3, img(103, s + 1000), 0).violation().detail()).contains("a seq never issued");
  }

  @Test
  void tornBlocksNameTheirSectors() {
    Records r = records();
    long old = r.begin(4);
    r.durable(4, old);
    long cur = r.begin(4);
    byte[] torn = img(104, cur);
    System.arraycopy(img(104, old), 2048, torn, 2048, 2048);
    Records.Check c = r.check(4, torn, 0);
    assertThat(c.violation().kind()).isEqualTo(Records.Kind.TORN);
    assertThat(c.violation().detail()).contains("sectors 0-3 seq " + cur).contains("sectors 4-7 seq " + old);

    long next = r.begin(5);
    r.durable(5, next);
    byte[] flipped = img(105, next);
    flipped[700] ^= 0x40;
    assertThat(r.check(5, flipped, 0).violation().detail()).contains("bytes differ").contains("checksum INVALID");
  }

  @Test
  void recordsSurviveAFile(@TempDir Path dir) throws Exception {
    Records r = records();
    long a = r.begin(0);
    r.durable(0, a);
    long p = r.begin(1);
    Path f = dir.resolve("records.bin");
    r.save(f);
    Records back = Records.load(f);
    assertThat(back.runId()).isEqualTo(RUN);
    assertThat(back.firstBlock()).isEqualTo(100);
    assertThat(back.durableWrites()).isEqualTo(1);
    assertThat(back.check(0, img(100, a), 0).outcome()).isEqualTo(Records.Outcome.ACKED);
    assertThat(back.check(1, img(101, p), 0).outcome()).isEqualTo(Records.Outcome.PENDING_LANDED);
    assertThat(back.check(2, before(2), 0).outcome()).isEqualTo(Records.Outcome.INITIAL);
    assertThat(back.begin(3)).isGreaterThan(p);
    assertThat(Files.list(dir)).containsExactly(f);
  }
}

package io.reflex.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** When the heartbeat says the Lease lapsed (self-fencing), on clocks the test moves; and the fence setting. */
class HeartbeatFenceTest {
  final AtomicLong mono = new AtomicLong(1_000_000_000L);
  final AtomicLong wall = new AtomicLong(1_700_000_000_000L);
  final List<String> lapses = new ArrayList<>();
  final AtomicInteger renewals = new AtomicInteger();

  Heartbeat heartbeat(int durationSeconds, Duration fence) {
    return new Heartbeat(null, "ns", "node-a", durationSeconds, "test", fence, mono::get, wall::get)
        .listener(new Heartbeat.Listener() {
          @Override public void lapsed(String why) { lapses.add(why); }
          @Override public void renewed() { renewals.incrementAndGet(); }
        });
  }

  void advance(long millis) {
    mono.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    wall.addAndGet(millis);
  }

  /** A renewal sent now that succeeded. */
  void renewNow(Heartbeat h) {
    h.renewed(mono.get(), wall.get());
  }

  @Test
  void defaultFenceIsTheDurationLessTwoRenewPeriods() {
    assertThat(Heartbeat.fenceInterval(null, 40)).isEqualTo(Duration.ofSeconds(20));
    assertThat(Heartbeat.fenceInterval(" ", 40)).isEqualTo(Duration.ofSeconds(20));
    assertThat(Heartbeat.fenceInterval(null, 3)).isEqualTo(Duration.ofMillis(1500));
    assertThat(Heartbeat.fenceInterval("0", 40)).isEqualTo(Duration.ZERO);
    assertThat(Heartbeat.fenceInterval("off", 40)).isEqualTo(Duration.ZERO);
    assertThat(Heartbeat.fenceInterval("25.5", 40)).isEqualTo(Duration.ofMillis(25_500));
    assertThat(Heartbeat.fenceInterval("35", 40)).as("accepted with a warning").isEqualTo(Duration.ofSeconds(35));
    for (String bad : List.of("10", "5", "40", "41", "-1", "soon", "NaN")) {
      assertThatThrownBy(() -> Heartbeat.fenceInterval(bad, 40)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Heartbeat.FENCE_ENV);
    }
  }

  @Test
  void lapsesOnceAfterTheFenceIntervalWithoutARenewalAndIsHeldAgainAfterOne() {
    Heartbeat h = heartbeat(40, Duration.ofSeconds(20));
    assertThat(h.held()).as("never renewed").isFalse();
    h.check();
    assertThat(lapses).singleElement().asString().contains("never renewed");

    renewNow(h);
    assertThat(h.held()).isTrue();
    assertThat(renewals).hasValue(1);
    advance(19_999);
    h.check();
    assertThat(h.held()).isTrue();
    assertThat(lapses).hasSize(1);
    advance(1);
    h.check();
    h.check();
    assertThat(h.held()).isFalse();
    assertThat(lapses).hasSize(2);
    assertThat(lapses.get(1)).contains("ns/reflex-agent-node-a").contains("20000 ms");

    renewNow(h);
    assertThat(h.held()).isTrue();
    assertThat(renewals).hasValue(2);
    advance(25_000);
    h.check();
    assertThat(lapses).as("a new lapse after a renewal is announced again").hasSize(3);
  }

  @Test
  void countsFromWhenTheRenewalWasSentNotWhenItReturned() {
    Heartbeat h = heartbeat(40, Duration.ofSeconds(20));
    long sentMono = mono.get();
    long sentWall = wall.get();
    advance(15_000); // the request took 15 s
    h.renewed(sentMono, sentWall);
    advance(5_000);
    h.check();
    assertThat(h.held()).isFalse();
    assertThat(lapses).hasSize(1);

    // A renewal that returns after the fence interval leaves the Lease lapsed (it may have expired meanwhile).
    long sent2 = mono.get();
    long wall2 = wall.get();
    advance(21_000);
    h.renewed(sent2, wall2);
    assertThat(h.held()).isFalse();
    h.check();
    assertThat(lapses).as("still the same lapse").hasSize(1);
  }

  @Test
  void aWallClockThatJumpsAheadLapsesTheLeaseAMonotonicClockThatStoodStillDoesNot() {
    Heartbeat h = heartbeat(40, Duration.ofSeconds(20));
    renewNow(h);
    wall.addAndGet(60_000); // suspended for a minute: CLOCK_MONOTONIC did not move
    assertThat(h.held()).isFalse();
    h.check();
    assertThat(lapses).hasSize(1);

    renewNow(h);
    wall.addAndGet(-3_600_000); // stepped back an hour: the monotonic clock decides
    advance(10_000);
    assertThat(h.held()).isTrue();
    advance(10_000);
    assertThat(h.held()).isFalse();
  }

  @Test
  void withoutFencingTheLeaseIsAlwaysHeld() {
    Heartbeat h = heartbeat(40, Duration.ZERO);
    assertThat(h.fencing()).isFalse();
    assertThat(h.held()).isTrue();
    advance(3_600_000);
    h.check();
    assertThat(h.held()).isTrue();
    assertThat(lapses).isEmpty();
  }

  @Test
  void anOlderRenewalFinishingLateDoesNotMoveTheReferenceBack() {
    Heartbeat h = heartbeat(40, Duration.ofSeconds(20));
    long oldMono = mono.get();
    long oldWall = wall.get();
    advance(10_000);
    renewNow(h);
    h.renewed(oldMono, oldWall);
    advance(15_000);
    assertThat(h.held()).isTrue();
  }
}

package io.reflex.client;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The CPU-use sample behind the dataplane's and the client's "room": what counts as others' work and what does not. */
class HostCpusTest {
    // user nice system idle iowait irq softirq steal guest guest_nice, per CPU; cpu2 is not ours
    private static String stat(String cpu0, String cpu1) {
        return "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 " + cpu0 + " 0 0\ncpu1 " + cpu1 + " 0 0\ncpu2 0 0 0 0 0 0 0 0 0 0\nintr 1 2\n";
    }

    private static final String BEFORE = stat("100 100 100 100 100 100 100 100", "100 100 100 100 100 100 100 100");

    @Test
    void aQuietMachineLeavesAllOfOurCpus() {
        String after = stat("100 100 100 130 100 100 100 100", "101 100 100 129 100 100 100 100");
        assertThat(HostCpus.othersBusy(BEFORE, after, 0, List.of(0, 1))).isCloseTo(1.0 / 60, within(1e-9));
    }

    @Test
    void nicedWorkIdleAndIoWaitAreNotOthersWork() {
        // two SCHED_IDLE/nice 19 fuzzers filling both CPUs, plus I/O wait: the load average says 4+, we say 0
        String after = stat("100 130 100 100 100 100 100 100", "100 120 100 100 110 100 100 100");
        assertThat(HostCpus.othersBusy(BEFORE, after, 0, List.of(0, 1))).isZero();
    }

    @Test
    void userSystemIrqSoftirqAndStealAreCountedLessOurOwnTicks() {
        // cpu0: 10 user + 5 system + 5 irq + 5 softirq + 5 steal busy, 0 idle; cpu1: all 30 idle
        String after = stat("110 100 105 100 100 105 105 105", "100 100 100 130 100 100 100 100");
        assertThat(HostCpus.othersBusy(BEFORE, after, 0, List.of(0, 1))).isCloseTo(0.5, within(1e-9));
        // the JVM's own start-up (JIT threads) is ours, not others'
        assertThat(HostCpus.othersBusy(BEFORE, after, 12, List.of(0, 1))).isCloseTo(18.0 / 60, within(1e-9));
        assertThat(HostCpus.othersBusy(BEFORE, after, 100, List.of(0, 1))).isZero();
        // only the CPUs asked about
        assertThat(HostCpus.othersBusy(BEFORE, after, 0, List.of(1))).isZero();
    }

    @Test
    void unreadableOrMissingCpusAreUnknownAndTheLoadAverageDecides() {
        assertThat(HostCpus.othersBusy("", BEFORE, 0, List.of(0))).isNegative();
        assertThat(HostCpus.othersBusy(BEFORE, BEFORE, 0, List.of(0))).isNegative(); // no time passed
        assertThat(HostCpus.othersBusy(BEFORE, BEFORE, 0, List.of(7))).isNegative();
        var unknown = new HostCpus(List.of(0, 1), 2, List.of(), 0, 1.6, -1, List.of(0, 1), true);
        assertThat(unknown.room(2)).isFalse();
        assertThat(unknown.busyText()).contains("CPU use unknown").contains("load 1.60");
        var niced = new HostCpus(List.of(0, 1), 2, List.of(), 0, 4.8, 0.0, List.of(0, 1), true);
        assertThat(niced.room(2)).isTrue();
        assertThat(new HostCpus(List.of(0, 1), 2, List.of(), 0, 0, HostCpus.ROOM, List.of(0, 1), true).room(2)).isFalse();
    }

    @Test
    void ownTicksAreUtimePlusStimeEvenWithParenthesesInTheName() {
        String self = "4242 (java (main) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 30 0 123 456 789";
        assertThat(HostCpus.ownTicks(self)).isEqualTo(281);
        assertThat(HostCpus.ownTicks("garbage")).isZero();
    }

    @Test
    void thisMachineCanBeProbed() {
        HostCpus h = HostCpus.probe(null);
        assertThat(h.allowed()).isNotEmpty();
        assertThat(h.sampled()).isEqualTo(h.allowed());
        assertThat(h.othersBusy()).isBetween(-1.0, 1.0);
    }
}

package io.reflex.dataplane.net;

import io.reflex.client.HostCpus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The dataplane's own layout choice: each rule, each override, and the CPU list form the node agent passes. */
class LayoutTest {
    /** {@code busy}: the share of the CPUs' time others used in the start-up sample. */
    private static Layout.Facts facts(List<Integer> allowed, int online, double busy, boolean vm, List<Integer> irq) {
        return facts(allowed, online, 0, 0.2, busy, vm, irq);
    }

    private static Layout.Facts facts(List<Integer> allowed, int online, double quota, double load, double busy, boolean vm, List<Integer> irq) {
        return new Layout.Facts(new HostCpus(allowed, online, List.of(), quota, load, busy, allowed, vm), irq);
    }

    private static final Layout.Request AUTO = new Layout.Request(null, 0, Layout.Pin.AUTO, null, 0, null);

    @Test
    void threadsAndPollTakeAutoOrAValue() {
        assertThat(Layout.parseThreads("auto")).isZero();
        assertThat(Layout.parseThreads(" AUTO ")).isZero();
        assertThat(Layout.parseThreads("4")).isEqualTo(4);
        for (String bad : List.of("0", "65", "-1", "two", "")) {
            assertThatThrownBy(() -> Layout.parseThreads(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--threads must be 1-64 or auto, got '" + bad + "'");
        }
        assertThat(Layout.parsePoll("auto")).isNull();
        assertThat(Layout.parsePoll("Adaptive")).isEqualTo(PollMode.ADAPTIVE);
        assertThat(Layout.parsePoll("block")).isEqualTo(PollMode.BLOCK);
        assertThatThrownBy(() -> Layout.parsePoll("spin")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--poll must be auto, busy, yield, adaptive or block, got 'spin'");
    }

    @Test
    void carvedOutCpusAreDedicatedOneBusyPinnedLoopEach() {
        Layout l = Layout.choose(AUTO, facts(List.of(2, 3), 8, 0.9, true, List.of()));
        assertThat(l.threads()).isEqualTo(2);
        assertThat(l.pins()).containsExactly(2, 3);
        assertThat(l.poll()).isEqualTo(PollMode.BUSY);
        assertThat(l.describe()).contains("dedicated");
    }

    @Test
    void sharedVmWithRoomYieldsOnTheDeviceInterruptCpu() {
        Layout l = Layout.choose(AUTO, facts(List.of(0, 1), 2, 0.05, true, List.of(1)));
        assertThat(l.threads()).isEqualTo(1);
        assertThat(l.pins()).containsExactly(1);
        assertThat(l.poll()).isEqualTo(PollMode.YIELD);
        assertThat(l.describe()).contains("interrupts arrive there").contains("shared");
    }

    @Test
    void busySharedMachineOrBareMetalAdapts() {
        assertThat(Layout.choose(AUTO, facts(List.of(0, 1), 2, 0.9, true, List.of(1))).poll()).isEqualTo(PollMode.ADAPTIVE);
        Layout bare = Layout.choose(AUTO, facts(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8, 0.1, false, List.of()));
        assertThat(bare.poll()).isEqualTo(PollMode.ADAPTIVE);
        assertThat(bare.threads()).isEqualTo(2);
        assertThat(bare.pins()).isEmpty();
    }

    @Test
    void roomIsTheCpuTimeOthersUseNotTheLoadAverage() {
        // niced fuzzers: load 4.5 on 2 vCPUs, but they left our CPUs' time to us (nice is not counted) -> still yield
        var niced = facts(List.of(0, 1), 2, 0, 4.5, 0.03, true, List.of(1));
        Layout l = Layout.choose(AUTO, niced);
        assertThat(l.poll()).isEqualTo(PollMode.YIELD);
        assertThat(l.describe()).contains("others use 3% of CPUs 0-1").contains("load 4.50");
        // others using three quarters of our CPUs at a low load average -> adaptive
        var busy = facts(List.of(0, 1), 2, 0, 0.5, 0.75, true, List.of(1));
        assertThat(Layout.choose(AUTO, busy).poll()).isEqualTo(PollMode.ADAPTIVE);
        assertThat(Layout.choose(AUTO, busy).describe()).contains("no room").contains("others use 75%");
        // one other spinning thread on two CPUs (a yield-polling neighbour) still leaves room
        assertThat(Layout.choose(AUTO, facts(List.of(0, 1), 2, 0.55, true, List.of(1))).poll()).isEqualTo(PollMode.YIELD);
    }

    @Test
    void withoutACpuSampleTheLoadAverageDecides() {
        var quiet = facts(List.of(0, 1), 2, 0, 0.4, -1, true, List.of(1));
        var loaded = facts(List.of(0, 1), 2, 0, 1.6, -1, true, List.of(1));
        assertThat(Layout.choose(AUTO, quiet).poll()).isEqualTo(PollMode.YIELD);
        assertThat(Layout.choose(AUTO, loaded).poll()).isEqualTo(PollMode.ADAPTIVE);
        assertThat(Layout.choose(AUTO, loaded).describe()).contains("CPU use unknown");
    }

    @Test
    void aCpuQuotaMakesCarvedCpusShared() {
        var f = facts(List.of(0, 1), 4, 0.5, 0.1, 0.0, false, List.of());
        assertThat(Layout.choose(AUTO, f).describe()).contains("quota");
    }

    @Test
    void everyFlagWins() {
        var r = new Layout.Request(List.of(1), 3, Layout.Pin.NO, PollMode.BLOCK, 8, null);
        Layout l = Layout.choose(r, facts(List.of(0, 1), 2, 0.1, true, List.of(1)));
        assertThat(l.threads()).isEqualTo(3);
        assertThat(l.pins()).isEmpty();
        assertThat(l.poll()).isEqualTo(PollMode.BLOCK);
        assertThat(l.submitBatch()).isEqualTo(8);
    }

    @Test
    void givenCpusArePinnedLoopByLoop() {
        var r = new Layout.Request(Layout.parseCpus("0-1"), 2, Layout.Pin.AUTO, null, 0, null);
        assertThat(Layout.choose(r, facts(List.of(0, 1), 2, 0.1, true, List.of())).pins()).containsExactly(0, 1);
    }

    @Test
    void cpusOutsideTheAffinityAreRefused() {
        var r = new Layout.Request(List.of(5), 0, Layout.Pin.AUTO, null, 0, null);
        assertThatThrownBy(() -> Layout.choose(r, facts(List.of(0, 1), 2, 0, true, List.of())))
                .hasMessageContaining("CPU 5").hasMessageContaining("0-1");
    }

    @Test
    void cpuListsRoundTripAndBadOnesAreNamed() {
        assertThat(Layout.parseCpus("0-3, 8,10-11")).containsExactly(0, 1, 2, 3, 8, 10, 11);
        assertThat(Layout.formatCpus(List.of(11, 0, 1, 2, 3, 8, 10))).isEqualTo("0-3,8,10-11");
        assertThat(Layout.parseCpus("")).isEmpty();
        assertThatThrownBy(() -> Layout.parseCpus("1,x")).hasMessageContaining("'x'");
        assertThatThrownBy(() -> Layout.parseCpus("3-1")).hasMessageContaining("'3-1'");
    }

    @Test
    void thisMachineCanBeProbed() {
        Layout.Facts f = Layout.Facts.probe(null);
        assertThat(f.allowed()).isNotEmpty();
        assertThat(Layout.choose(AUTO, f).threads()).isPositive();
    }
}

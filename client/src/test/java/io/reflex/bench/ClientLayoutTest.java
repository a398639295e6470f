package io.reflex.bench;

import io.reflex.client.HostCpus;
import io.reflex.client.PollMode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** reflex-bench's own poll mode: each rule and the override. */
class ClientLayoutTest {
    private static HostCpus vm(double othersBusy, double load1) {
        return new HostCpus(List.of(0, 1), 2, List.of(), 0, load1, othersBusy, List.of(0, 1), true);
    }

    @Test
    void aQuietVmYields() {
        ClientLayout l = ClientLayout.choose(null, 1, vm(0.02, 0.1));
        assertThat(l.poll()).isEqualTo(PollMode.YIELD);
        assertThat(l.why()).startsWith("poll yield: a VM").contains("others use 2% of CPUs 0-1");
    }

    @Test
    void aYieldPollingServerOrNicedWorkStillLeavesRoom() {
        assertThat(ClientLayout.choose(null, 1, vm(0.52, 1.0)).poll()).isEqualTo(PollMode.YIELD);
        assertThat(ClientLayout.choose(null, 1, vm(0.0, 4.8)).poll()).isEqualTo(PollMode.YIELD);
    }

    @Test
    void othersUsingThreeQuartersOfOurCpusMakeItAdapt() {
        ClientLayout l = ClientLayout.choose(null, 1, vm(0.8, 0.5));
        assertThat(l.poll()).isEqualTo(PollMode.ADAPTIVE);
        assertThat(l.why()).contains("without room").contains("others use 80%");
    }

    @Test
    void asManyLoadThreadsAsCpusOrBareMetalAdapt() {
        assertThat(ClientLayout.choose(null, 2, vm(0.0, 0.0)).poll()).isEqualTo(PollMode.ADAPTIVE);
        var bare = new HostCpus(List.of(0, 1, 2, 3), 4, List.of(), 0, 0, 0, List.of(0, 1, 2, 3), false);
        assertThat(ClientLayout.choose(null, 1, bare).poll()).isEqualTo(PollMode.ADAPTIVE);
    }

    @Test
    void isolatedCpusBusyPoll() {
        var isolated = new HostCpus(List.of(2, 3), 4, List.of(2, 3), 0, 3, 0.9, List.of(2, 3), true);
        assertThat(ClientLayout.choose(null, 1, isolated).poll()).isEqualTo(PollMode.BUSY);
    }

    @Test
    void theFlagWinsWithoutProbing() {
        ClientLayout l = ClientLayout.choose(PollMode.BLOCK, 1, null);
        assertThat(l.poll()).isEqualTo(PollMode.BLOCK);
        assertThat(l.why()).isEqualTo("poll block (--poll)");
        assertThat(ClientLayout.parsePoll(" Auto ")).isNull();
        assertThat(ClientLayout.parsePoll("yield")).isEqualTo(PollMode.YIELD);
        assertThatThrownBy(() -> ClientLayout.parsePoll("spin")).hasMessageContaining("auto, busy, yield, adaptive or block");
    }
}

package io.reflex.dataplane.storage.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dataplane's rings in each task-run mode, created on one thread and used on another as a loop does: a completion
 * posted as task work (a timer's) reaches the CQ through the loop's reap discipline (run task work when flagged, else
 * wait), and a wait for more completions than arrive ends after its minimum wait.
 */
class DataplaneRingTest {
    private static final byte IORING_OP_TIMEOUT = 11;

    @BeforeAll
    static void uring() {
        assumeTrue(IoUring.isAvailable(), "io_uring unavailable");
    }

    @ParameterizedTest
    @ValueSource(strings = {"coop", "defer", "default"})
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void taskWorkCompletionsReachTheIssuer(String mode) throws Exception {
        try (IoUring ring = IoUring.createForDataplane(8, 16, mode); Arena arena = Arena.ofShared()) {
            if (mode.equals("default")) assertThat(ring.coopTaskRun() || ring.deferTaskRun()).isFalse();
            if (mode.equals("defer")) assertThat(ring.coopTaskRun()).isFalse(); // defer, or plain before 6.1
            MemorySegment ts = arena.allocate(16, 8);
            ts.set(java.lang.foreign.ValueLayout.JAVA_LONG, 8, 1_000_000L); // 1 ms
            int res = CompletableFuture.supplyAsync(() -> { // another thread than the creator, like a loop
                for (int round = 0; round < 3; round++) {
                    long base = ring.nextSqe();
                    IoUringSqe.prep(ring.sqes(), base, IORING_OP_TIMEOUT, (byte) 0, -1, 0, ts.address(), 1, 0, 42);
                    ring.sqAdvance();
                    assertThat(ring.submit()).isEqualTo(1);
                    while (ring.cqReady() == 0) {
                        if (ring.taskWorkPending()) ring.runTaskWork();
                        else ring.awaitCompletion(1_000_000_000L);
                    }
                    long cqe = ring.cqeAtHead();
                    assertThat(IoUringCqe.userData(ring.cqes(), cqe)).isEqualTo(42);
                    int r = IoUringCqe.res(ring.cqes(), cqe);
                    ring.cqAdvance();
                    if (r != -Errno.ETIME) return r;
                }
                return -Errno.ETIME;
            }).get(20, TimeUnit.SECONDS);
            assertThat(res).isEqualTo(-Errno.ETIME);
        }
    }

    @Test
    void theFirstThreadToEnterADeferredRingIsItsOnlyIssuer() throws Exception {
        try (IoUring ring = IoUring.createForDataplane(8, 16, "defer")) {
            assumeTrue(ring.deferTaskRun(), "no DEFER_TASKRUN here (Linux 6.1)");
            CompletableFuture.runAsync(() -> {
                nop(ring, 1);
                assertThat(ring.submit()).isEqualTo(1);
            }).get(20, TimeUnit.SECONDS);
            nop(ring, 2);
            assertThat(ring.submit()).isEqualTo(-17); // EEXIST: the other thread is the issuer
            ring.unsubmitAll();
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aWaitForMoreCompletionsThanArriveEndsAfterItsMinimumWait() {
        try (IoUring ring = IoUring.createForDataplane(8, 16, "coop")) {
            assumeTrue(ring.hasMinWait(), "no min_wait here (Linux 6.12)");
            nop(ring, 7);
            // One completion comes (the NOP); two are asked for: the wait ends after 2 ms, not after the minute.
            assertThat(ring.submitAndWait(60_000_000_000L, 2, 2000)).isZero();
            assertThat(ring.cqReady()).isEqualTo(1);
            assertThat(IoUringCqe.userData(ring.cqes(), ring.cqeAtHead())).isEqualTo(7);
            ring.cqAdvance();
        }
    }

    private static void nop(IoUring ring, long userData) {
        long base = ring.nextSqe();
        IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_NOP, (byte) 0, -1, 0, 0, 0, 0, userData);
        ring.sqAdvance();
    }
}

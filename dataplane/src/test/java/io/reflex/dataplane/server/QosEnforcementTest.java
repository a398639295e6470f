package io.reflex.dataplane.server;

import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduler really throttles the dataplane: with a device model whose budget is 200K tokens/s (2,000 4 KiB reads/s),
 * a greedy best-effort client on the (much faster) memory engine gets no more than the budget plus a bounded burst;
 * with the scheduler off it gets far more. Only upper bounds on what the scheduler lets through are asserted with the
 * scheduler on, so a slow machine cannot fail it.
 */
class QosEnforcementTest {
    private static final double BUDGET_READS_PER_SEC = 2000;

    /** src/test/resources/devmodels/tiny.yaml: a 200K tokens/s budget. */
    private static final String TINY_MODEL = "tiny";

    private static long greedyReads(int port, long millis) throws Exception {
        AtomicLong done = new AtomicLong();
        Semaphore window = new Semaphore(32);
        try (ReflexClient c = ReflexClient.connect("127.0.0.1", port, ClientOptions.defaults())) {
            long end = System.nanoTime() + millis * 1_000_000;
            long i = 0;
            while (System.nanoTime() < end) {
                if (!window.tryAcquire(10, TimeUnit.MILLISECONDS)) continue;
                c.read((i++ % 1000) * 8, 8).whenComplete((b, e) -> {
                    if (e == null && System.nanoTime() < end) done.incrementAndGet();
                    window.release();
                });
            }
        }
        return done.get();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void bestEffortGetsNoMoreThanTheBudget(int threads) throws Exception {
        var cfg = new DataplaneConfig(null, "memory", 16L << 20, new InetSocketAddress("127.0.0.1", TestServer.freePort()), null,
                TINY_MODEL, threads, PollMode.ADAPTIVE, true, true, 64, null);
        try (Dataplane dp = Dataplane.start(cfg)) {
            long n = greedyReads(cfg.listen().getPort(), 2000);
            // Budget over 2 s, plus the burst the scheduler may hand out (deficit bound + pool window), plus slack.
            assertThat(n).isGreaterThan(0).isLessThanOrEqualTo((long) (BUDGET_READS_PER_SEC * 2 * 1.15) + 1100);
        }
    }

    @org.junit.jupiter.api.Test
    void withTheSchedulerOffTheSameClientExceedsTheBudget() throws Exception {
        var cfg = new DataplaneConfig(null, "memory", 16L << 20, new InetSocketAddress("127.0.0.1", TestServer.freePort()), null,
                TINY_MODEL, 1, PollMode.ADAPTIVE, false, true, 64, null);
        try (Dataplane dp = Dataplane.start(cfg)) {
            long n = greedyReads(cfg.listen().getPort(), 2000);
            assertThat(n).isGreaterThan((long) (BUDGET_READS_PER_SEC * 2 * 1.5));
        }
    }
}

package io.reflex.dataplane.nbd;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * NBD requests go through the tenant's token scheduler like native ones: with a model whose budget is 2,000 4 KiB
 * reads/s, a greedy NBD client (QD32) on the memory engine gets no more than the budget plus a bounded burst. Only an
 * upper bound is asserted, so a slow machine cannot fail it.
 */
class NbdQosTest {
    private static final double BUDGET_READS_PER_SEC = 2000;

    /** src/test/resources/devmodels/tiny.yaml: a 200K tokens/s budget. */
    private static final String TINY_MODEL = "tiny";

    @Test
    void greedyNbdClientGetsNoMoreThanTheBudget() throws Exception {
        var cfg = new DataplaneConfig(null, "memory", 16L << 20, new InetSocketAddress("127.0.0.1", NbdTestSupport.freePort()), null,
                TINY_MODEL, 1, PollMode.ADAPTIVE, true, true, 64, null, new InetSocketAddress("127.0.0.1", 0));
        try (Dataplane dp = Dataplane.start(cfg); var c = NbdRawClient.open(dp.nbdAddress().getPort(), "default")) {
            long end = System.nanoTime() + 2_000_000_000L;
            long sent = 0, done = 0;
            for (; sent < 32; sent++) c.read(sent, (sent % 1000) * 4096, 4096);
            while (System.nanoTime() < end) {
                var r = c.reply(4096);
                assertThat(r.error()).isZero();
                if (System.nanoTime() < end) done++;
                c.read(sent, (sent % 1000) * 4096, 4096);
                sent++;
            }
            assertThat(done).isGreaterThan(0).isLessThanOrEqualTo((long) (BUDGET_READS_PER_SEC * 2 * 1.15) + 1100);
        }
    }
}

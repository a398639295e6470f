package io.reflex.dataplane.nbd;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * NBD requests go through the tenant's token scheduler like native ones: with a model whose budget is 2,000 4 KiB
 * reads/s, a greedy NBD client (QD32) on the memory engine gets no more than the budget plus a bounded burst. Only an
 * upper bound is asserted, so a slow machine cannot fail it.
 */
class NbdQosTest {
    private static final double BUDGET_READS_PER_SEC = 2000;

    private static Path tinyModel() throws Exception {
        Path dir = Files.createDirectories(NbdTestSupport.DIR);
        Path m = dir.resolve("tiny.yaml");
        Files.writeString(m, """
                name: tiny
                description: 2K reads/s at any latency, for tests
                readCost4k: 100
                writeCost4k: 1000
                tokenLimits:
                  - { p95Micros: 1000, mixedTokensPerSec: 200000, readOnlyTokensPerSec: 200000 }
                """);
        return m;
    }

    @Test
    void greedyNbdClientGetsNoMoreThanTheBudget() throws Exception {
        var cfg = new DataplaneConfig(null, "memory", 16L << 20, new InetSocketAddress("127.0.0.1", NbdTestSupport.freePort()), null,
                tinyModel().toString(), 1, PollMode.ADAPTIVE, true, true, 64, null, new InetSocketAddress("127.0.0.1", 0));
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

package io.reflex.dataplane.server;

import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.net.DataplaneLoop;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The dataplane loop allocates nothing per request once warm (reads, writes, pipelined, through the scheduler). */
class HotPathAllocationTest {
    private static long allocated(DataplaneLoop loop) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return mx.getThreadAllocatedBytes(loop.threadId());
    }

    private static void load(ReflexClient client, int rounds) throws Exception {
        ByteBuffer data = ByteBuffer.allocate(4096);
        for (int r = 0; r < rounds; r++) {
            List<CompletableFuture<?>> batch = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                long lba = (long) ((r * 32 + i) % 4096) * 8;
                batch.add(i % 4 == 0 ? client.write(lba, data.duplicate()) : client.read(lba, 8));
            }
            CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void loopAllocatesNothingPerRequest() throws Exception {
        try (Dataplane dp = TestServer.start(TestServer.memory(64L << 20, 1, "sample", null))) {
            DataplaneLoop loop = dp.loops()[0];
            try (ReflexClient client = ReflexClient.connect("127.0.0.1", dp.config().listen().getPort(), ClientOptions.defaults())) {
                load(client, 1000); // warm up: JIT, buffer pool, selector key sets
                long before = allocated(loop);
                load(client, 1000); // 32,000 requests
                long after = allocated(loop);
                assertThat(after - before).as("bytes allocated by the loop for 32,000 requests").isLessThan(64 * 1024);
            }
        }
    }
}

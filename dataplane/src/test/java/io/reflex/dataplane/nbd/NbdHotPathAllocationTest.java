package io.reflex.dataplane.nbd;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.DataplaneLoop;
import io.reflex.dataplane.net.PollMode;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** NBD sessions allocate nothing per request on the loop once warm: reads, writes, FUA writes, zeroes, flushes, errors. */
class NbdHotPathAllocationTest {
    private static long allocated(DataplaneLoop loop) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return mx.getThreadAllocatedBytes(loop.threadId());
    }

    private static void load(NbdRawClient c, int rounds) throws Exception {
        byte[] data = new byte[4096];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < 32; i++) {
                long off = (long) ((r * 32 + i) % 4096) * 4096;
                switch (i % 8) {
                    case 0 -> c.write(i, off, data);
                    case 1 -> c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, i, off, 4096, data);
                    case 2 -> c.request(0, Nbd.CMD_WRITE_ZEROES, i, off, 8192, null);
                    case 3 -> c.request(0, Nbd.CMD_FLUSH, i, 0, 0, null);
                    case 4 -> c.read(i, 64L << 20, 4096); // out of range: EINVAL
                    default -> c.read(i, off, 4096);
                }
            }
            for (int i = 0; i < 32; i++) {
                var reply = c.reply(h -> h % 8 >= 4 ? 4096 : 0);
                assertThat(reply.error()).isIn(0, Nbd.EINVAL);
            }
        }
    }

    @Test
    void nbdSessionAllocatesNothingPerRequest() throws Exception {
        var config = new DataplaneConfig(null, "memory", 64L << 20, new InetSocketAddress("127.0.0.1", NbdTestSupport.freePort()), null,
                "sample", 1, PollMode.ADAPTIVE, true, false, 128, null, new InetSocketAddress("127.0.0.1", 0));
        try (Dataplane dp = Dataplane.start(config); var c = NbdRawClient.open(dp.nbdAddress().getPort(), "default")) {
            DataplaneLoop loop = dp.loops()[0];
            load(c, 1000); // warm up
            long before = allocated(loop);
            load(c, 1000); // 32,000 requests
            long after = allocated(loop);
            assertThat(after - before).as("bytes allocated by the loop for 32,000 NBD requests").isLessThan(64 * 1024);
        }
    }
}

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

    private static void send(NbdRawClient c, long n, byte[] data) throws Exception {
        long off = (n % 4096) * 4096;
        switch ((int) (n % 8)) {
            case 0 -> c.write(n, off, data);
            case 1 -> c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, n, off, 4096, data);
            case 2 -> c.request(0, Nbd.CMD_WRITE_ZEROES, n, off, 8192, null);
            case 3 -> c.request(0, Nbd.CMD_FLUSH, n, 0, 0, null);
            case 4 -> c.read(n, 64L << 20, 4096); // out of range: EINVAL
            default -> c.read(n, off, 4096);
        }
    }

    /** {@code count} requests with 32 always in flight (a sliding window: the loop never goes idle in between). */
    private static void load(NbdRawClient c, long first, int count) throws Exception {
        byte[] data = new byte[4096];
        long next = first, end = first + count;
        for (; next < first + 32; next++) send(c, next, data);
        for (int i = 0; i < count; i++) {
            var reply = c.reply(h -> h % 8 >= 4 ? 4096 : 0);
            assertThat(reply.error()).isIn(0, Nbd.EINVAL);
            if (next < end) send(c, next++, data);
        }
    }

    @Test
    void nbdSessionAllocatesNothingPerRequest() throws Exception {
        var config = new DataplaneConfig(null, "memory", 64L << 20, new InetSocketAddress("127.0.0.1", NbdTestSupport.freePort()), null,
                "sample", 1, PollMode.ADAPTIVE, true, false, 128, null, new InetSocketAddress("127.0.0.1", 0));
        try (Dataplane dp = Dataplane.start(config); var c = NbdRawClient.open(dp.nbdAddress().getPort(), "default")) {
            DataplaneLoop loop = dp.loops()[0];
            load(c, 0, 32_000); // warm up
            long before = allocated(loop);
            load(c, 32_000, 32_000);
            long after = allocated(loop);
            assertThat(after - before).as("bytes allocated by the loop for 32,000 NBD requests").isLessThan(64 * 1024);
        }
    }
}

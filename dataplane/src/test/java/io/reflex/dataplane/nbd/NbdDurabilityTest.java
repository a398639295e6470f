package io.reflex.dataplane.nbd;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.metrics.TenantStats;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** FUA and FLUSH on a file-backed dataplane: with sync writes off, a FUA write is followed by a device flush. */
class NbdDurabilityTest {
    private static final int ZEROED = (1 << 20) + 32 * 1024;
    private static long flushes(Dataplane dp) throws Exception {
        var field = TenantStats.class.getDeclaredField("FLUSHES");
        field.setAccessible(true);
        int index = field.getInt(null);
        long n = 0;
        for (TenantStats s : dp.tenants().getFirst().stats()) n += s.get(index);
        return n;
    }

    private static void await(Dataplane dp, long expected) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L; // stats are updated just before the reply is queued
        while (flushes(dp) < expected && System.nanoTime() < deadline) Thread.sleep(1);
        assertThat(flushes(dp)).isEqualTo(expected);
    }

    @Test
    void fuaWritesAreFlushedBeforeTheReplyWhenSyncWritesAreOff() throws Exception {
        for (String engine : new String[]{"file", "uring"}) {
            if (engine.equals("uring") && !io.reflex.dataplane.storage.Engines.uringAvailable()) continue;
            Path device = NbdTestSupport.sparseFile("fua-" + engine + ".img", 8L << 20);
            byte[] data = new byte[64 * 1024];
            new Random(7).nextBytes(data);
            try (Dataplane dp = NbdTestSupport.file(device, engine, false);
                 var c = NbdRawClient.open(dp.nbdAddress().getPort(), "default")) {
                c.write(1, 0, data);
                assertThat(c.reply(0).error()).isZero();
                await(dp, 0); // a plain write: no flush
                c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 2, 1 << 20, data.length, data);
                assertThat(c.reply(0).error()).isZero();
                await(dp, 1);
                c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE_ZEROES, 3, 0, ZEROED, null); // two chunks, then one flush
                assertThat(c.reply(0).error()).isZero();
                await(dp, 2);
                c.request(0, Nbd.CMD_FLUSH, 4, 0, 0, null);
                assertThat(c.reply(0).error()).isZero();
                await(dp, 3);
            }
            byte[] file = Files.readAllBytes(device);
            assertThat(Arrays.copyOfRange(file, 0, ZEROED)).containsOnly(0);
            assertThat(Arrays.copyOfRange(file, ZEROED, (1 << 20) + data.length)).isEqualTo(
                    Arrays.copyOfRange(data, ZEROED - (1 << 20), data.length));
        }
    }
}

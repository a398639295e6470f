package io.reflex.client;

import io.reflex.protocol.Status;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** End to end: whatever order the server answers in, every read gets the bytes of its own LBA and tag. */
class ShuffledRepliesPropertyTest {

    @Property(tries = 15)
    void repliesInAnyOrderReachTheirOwnRequest(@ForAll long seed, @ForAll @IntRange(min = 1, max = 64) int slots,
                                               @ForAll @Size(min = 1, max = 300) List<@IntRange(min = 0, max = 255) Integer> lbas)
            throws Exception {
        try (LoopbackServer server = new LoopbackServer(256).shuffle(seed);
             ReflexConnection c = ReflexConnection.open("127.0.0.1", server.port(), ClientOptions.defaults().withMaxInFlight(slots))) {
            for (int lba = 0; lba < 256; lba++) server.disk()[lba * 512] = (byte) lba;
            int[] seen = new int[lbas.size()];
            CompletionListener check = (tag, status, data) -> {
                assertThat(status).isEqualTo(Status.OK);
                assertThat(data.remaining()).isEqualTo(512);
                assertThat(Byte.toUnsignedInt(data.get(data.position()))).as("data of request %d", tag).isEqualTo(lbas.get((int) tag));
                seen[(int) tag]++;
            };
            int next = 0;
            long done = 0;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (done < lbas.size()) {
                while (next < lbas.size() && c.submitRead(lbas.get(next), 1, null, next)) next++;
                c.flushSends();
                done += c.poll(check);
                if (System.nanoTime() > deadline) throw new AssertionError("stuck at " + done + " of " + lbas.size());
            }
            assertThat(seen).containsOnly(1);
            assertThat(c.isOpen()).isTrue();
        }
    }
}

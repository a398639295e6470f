package io.reflex.dataplane.server;

import io.reflex.dataplane.Dataplane;
import io.reflex.protocol.Opcode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Throws random and mutated frames at one tenant of a live dataplane: the server never dies, never disturbs another
 * tenant's connection, and never writes outside the fuzzed tenant's LBA range.
 */
class ServerFuzzTest {
    private static Dataplane dp;
    private static int fuzzPort, neighbourPort, belowPort;
    private static RawClient neighbour;
    private static byte[] guard;

    @BeforeContainer
    static void start() throws IOException {
        dp = TestServer.start(TestServer.memory(16L << 20, 2, "null", null));
        fuzzPort = TestServer.freePort();
        neighbourPort = TestServer.freePort();
        belowPort = TestServer.freePort();
        dp.apply(TestServer.table("""
                tenants:
                  - {name: fuzz, port: %d, class: BE, lbaBase: 2048, lbaCount: 2048}
                  - {name: neighbour, port: %d, class: BE, lbaBase: 4096, lbaCount: 2048}
                  - {name: below, port: %d, class: BE, lbaBase: 0, lbaCount: 2048}
                """.formatted(fuzzPort, neighbourPort, belowPort), dp.deviceSectors()));
        guard = new byte[512];
        new Random(99).nextBytes(guard);
        neighbour = new RawClient(neighbourPort);
        neighbour.set(1, 0, guard);
        neighbour.read();
    }

    @AfterContainer
    static void stop() throws IOException {
        neighbour.close();
        dp.close();
    }

    @Property(tries = 150)
    void garbageNeverCrashesOrLeaks(@ForAll("streams") List<byte[]> chunks) throws Exception {
        try (RawClient c = new RawClient(fuzzPort)) {
            c.ch.configureBlocking(false);
            for (byte[] chunk : chunks) {
                ByteBuffer b = ByteBuffer.wrap(chunk);
                long deadline = System.nanoTime() + 200_000_000L;
                while (b.hasRemaining() && System.nanoTime() < deadline) {
                    try {
                        if (c.ch.write(b) == 0) Thread.onSpinWait();
                    } catch (IOException closed) {
                        break; // the server hung up on us: fine
                    }
                }
            }
        }
        // The neighbour's connection still works and its data (and the sectors below and above the fuzzed range) is intact.
        neighbour.get(2, 0, 1);
        assertThat(neighbour.read().data()).isEqualTo(guard);
        try (RawClient below = new RawClient(belowPort)) {
            below.get(3, 2040, 8); // the sectors just below the fuzzed range were never written
            assertThat(below.read().data()).containsOnly((byte) 0);
        }
        assertThat(dp.loops()).allMatch(l -> l.isRunning());
    }

    @Provide
    Arbitrary<List<byte[]>> streams() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(300);
        Arbitrary<byte[]> mutated = Combinators.combine(
                Arbitraries.of(Opcode.GET, Opcode.SET, Opcode.SET_NO_ACK, Opcode.HELLO, Opcode.FLUSH, 3, 255, 65535),
                Arbitraries.oneOf(Arbitraries.longs().between(0, 5000), Arbitraries.longs()),
                Arbitraries.oneOf(Arbitraries.longs().between(0, 64), Arbitraries.longs().between(0, 0xFFFF_FFFFL)),
                Arbitraries.of(24, 24, 24, 0, 25),
                Arbitraries.integers().between(0, 40_000)).as((op, lba, count, magic, payload) -> {
                    ByteBuffer f = RawClient.frame(magic, op, 7, lba, count, null);
                    byte[] out = new byte[24 + payload];
                    f.rewind();
                    f.get(out, 0, 24);
                    java.util.Arrays.fill(out, 24, out.length, (byte) 0x5A);
                    return out;
                });
        return Arbitraries.oneOf(random, mutated, mutated).list().ofMinSize(1).ofMaxSize(6);
    }
}

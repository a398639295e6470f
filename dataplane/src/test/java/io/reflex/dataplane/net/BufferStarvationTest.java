package io.reflex.dataplane.net;

import io.reflex.protocol.Opcode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A loop's I/O buffer pool (production size: 256 MiB, each tenant capped at half) brought to its cap, deterministically:
 * the device queue holds back the completions of the tenants' reads, so each read keeps its buffer until the test lets
 * it finish. Afterwards requests of every size must be served, with the right data.
 *
 * <p>The bug: buffers were kept in per-size free lists and never reused for another size, so once the pool's bytes sat
 * in free buffers of one size (160 reads of 1 MiB per tenant, then a read of 4 KiB), a request of any other size
 * waited for buffer space for ever.
 */
class BufferStarvationTest {
    private static final long POOL = 256L << 20;
    private static final ConnectionLimits LIMITS = new ConnectionLimits(Duration.ZERO, Duration.ofSeconds(60),
            Duration.ofSeconds(60), POOL); // a connection may hold the whole pool: the tenant's share is the bound
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int[] SIZES = {1, 8, 9, 16, 64, 100, 128, 512, 1000, 2048, 8, 1};

    @Test
    void aPoolFullOfFreeOneMebibyteBuffersServesEverySmallerSize() throws Exception {
        fillReleaseThenServeEverySize(2048, 160);
    }

    @Test
    void aPoolFullOfFree256KibBuffersServesLargerRequests() throws Exception {
        fillReleaseThenServeEverySize(512, 600);
    }

    /**
     * Tenants 0 and 1 each ask for {@code n} reads of {@code sectors} while their completions are held, until both hold
     * their half of the pool (the rest wait for it); then all complete, and both tenants are served every size.
     */
    private static void fillReleaseThenServeEverySize(int sectors, int n) throws Exception {
        try (LoopRig rig = new LoopRig(2, POOL, 1024, LIMITS)) {
            rig.fillPattern(0);
            rig.fillPattern(1);
            rig.hold(-1);
            try (LoopRig.Client a = rig.connect(0); LoopRig.Client b = rig.connect(1)) {
                Map<Long, long[]> wantA = burst(a, rig, n, sectors, new Random(1)), wantB = burst(b, rig, n, sectors, new Random(2));
                long share = POOL / 2 / (sectors * 512L);
                rig.await("both tenants holding their half of the pool", WAIT, () -> rig.loop.requests.inUse() == 2 * share);
                assertThat(rig.onLoop(() -> rig.loop.buffers.inUseBytes())).as("pool bytes in use").isEqualTo(POOL);
                rig.release();
                drain(a, rig, 0, wantA);
                drain(b, rig, 1, wantB);
            }
            assertThat(rig.onLoop(() -> rig.loop.buffers.inUseBytes())).isZero();
            everySize(rig, 0);
            everySize(rig, 1);
            assertThat(rig.onLoop(() -> rig.loop.buffers.allocatedBytes())).as("pool memory").isEqualTo(POOL);
        }
    }

    /** The per-tenant cap: a tenant holding its half keeps the other half for the other tenant, every size of it. */
    @Test
    void aTenantHoldingItsShareLeavesTheOtherTenantEverySize() throws Exception {
        try (LoopRig rig = new LoopRig(2, POOL, 1024, LIMITS)) {
            rig.fillPattern(0);
            rig.fillPattern(1);
            rig.hold(0);
            try (LoopRig.Client a = rig.connect(0)) {
                Map<Long, long[]> wantA = burst(a, rig, 200, 2048, new Random(3));
                rig.await("tenant 0 holding its half", WAIT, () -> rig.loop.requests.inUse() == 128);
                everySize(rig, 1);
                try (LoopRig.Client b = rig.connect(1)) { // tenant 1 takes the other half too, all at once
                    drain(b, rig, 1, burst(b, rig, 300, 2048, new Random(4)));
                }
                assertThat(rig.onLoop(() -> rig.loop.tenantAt(0).heldBytes)).as("tenant 0's bytes, still held").isEqualTo(POOL / 2);
                rig.release();
                drain(a, rig, 0, wantA);
            }
            everySize(rig, 0);
            assertThat(rig.onLoop(() -> rig.loop.buffers.inUseBytes())).isZero();
        }
    }

    /**
     * Reads of mixed sizes split the pool's chunks every which way; once they are done the whole pool is 1 MiB buffers
     * again (each tenant holds its half in 1 MiB reads), and no two reads held at once shared memory (the data).
     */
    @Test
    void mixedSizesSplitThePoolAndReleasingThemMakesItWholeAgain() throws Exception {
        int[] sizes = {1, 3, 8, 9, 16, 17, 64, 100, 128, 255, 256, 512, 513, 1000, 1024, 2048};
        try (LoopRig rig = new LoopRig(2, POOL, 1024, LIMITS)) {
            rig.fillPattern(0);
            rig.fillPattern(1);
            for (int round = 0; round < 3; round++) {
                rig.hold(-1);
                int sent = 0;
                try (LoopRig.Client a = rig.connect(0); LoopRig.Client b = rig.connect(1)) {
                    Map<Long, long[]> wantA = new HashMap<>(), wantB = new HashMap<>();
                    Random r = new Random(round);
                    for (LoopRig.Client c : new LoopRig.Client[] {a, b}) {
                        Map<Long, long[]> want = c == a ? wantA : wantB;
                        long bytes = 0; // in whole buffers, as the pool counts: each tenant stays under its half
                        while (true) {
                            int s = sizes[r.nextInt(sizes.length)];
                            long buffer = 1L << (BufferPool.sizeClass(s * 512) + BufferPool.MIN_SHIFT);
                            if (bytes + buffer > (120L << 20)) break;
                            bytes += buffer;
                            send(c, rig, want, want.size() + 1, s, r);
                            sent++;
                        }
                    }
                    int all = sent;
                    rig.await("every mixed read holding its buffer", WAIT, () -> rig.loop.requests.inUse() == all);
                    rig.release();
                    drain(a, rig, 0, wantA);
                    drain(b, rig, 1, wantB);
                    assertThat(rig.onLoop(() -> rig.loop.buffers.inUseBytes())).isZero();

                    rig.hold(-1);
                    wantA = burst(a, rig, 160, 2048, r);
                    wantB = burst(b, rig, 160, 2048, r);
                    rig.await("the whole pool in 1 MiB reads", WAIT, () -> rig.loop.requests.inUse() == 256);
                    rig.release();
                    drain(a, rig, 0, wantA);
                    drain(b, rig, 1, wantB);
                }
            }
            assertThat(rig.onLoop(() -> rig.loop.buffers.allocatedBytes())).isEqualTo(POOL);
        }
    }

    /** {@code n} reads of {@code sectors} at random places of the tenant's window; handle → {lba, sectors}. */
    private static Map<Long, long[]> burst(LoopRig.Client c, LoopRig rig, int n, int sectors, Random r) throws IOException {
        Map<Long, long[]> want = new HashMap<>();
        for (int i = 1; i <= n; i++) send(c, rig, want, i, sectors, r);
        return want;
    }

    private static void send(LoopRig.Client c, LoopRig rig, Map<Long, long[]> want, long handle, int sectors, Random r) throws IOException {
        long lba = (long) r.nextInt((int) (rig.tenantSectors - sectors + 1));
        want.put(handle, new long[] {lba, sectors});
        c.send(LoopRig.Client.get(handle, lba, sectors));
    }

    /** Reads a reply to every request in {@code want}, each with the data at its place of tenant {@code t}'s window. */
    private static void drain(LoopRig.Client c, LoopRig rig, int t, Map<Long, long[]> want) throws IOException {
        Map<Long, long[]> left = new HashMap<>(want);
        while (!left.isEmpty()) {
            LoopRig.Client.Reply reply = c.read();
            long[] req = left.remove(reply.handle());
            assertThat(req).as("reply to handle %d: a request not answered yet", reply.handle()).isNotNull();
            assertThat(reply.sectors()).isEqualTo(req[1]);
            if (!java.util.Arrays.equals(reply.data(), LoopRig.pattern(t * rig.tenantSectors + req[0], (int) req[1]))) {
                throw new AssertionError("wrong data in the reply to a read of " + req[1] + " sectors at lba " + req[0]);
            }
        }
    }

    /** On a new connection of tenant {@code t}: a read and a write of every size in {@link #SIZES}, one at a time. */
    private static void everySize(LoopRig rig, int t) throws IOException {
        try (LoopRig.Client c = rig.connect(t)) {
            long handle = 0;
            for (int s : SIZES) {
                long lba = 4096 + s;
                c.send(LoopRig.Client.get(++handle, lba, s));
                LoopRig.Client.Reply got = c.read();
                assertThat(got.handle()).isEqualTo(handle);
                assertThat(got.data()).as("read of %d sectors", s).isEqualTo(LoopRig.pattern(t * rig.tenantSectors + lba, s));
                c.send(LoopRig.Client.frame(Opcode.SET, ++handle, lba, s, got.data())); // the same data back
                assertThat(c.read().handle()).as("write of %d sectors", s).isEqualTo(handle);
            }
        }
    }
}

package io.reflex.dataplane.net;

import io.reflex.protocol.Opcode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The io_uring network path's own cases, on a real loop over loopback (memory device, so the ring carries only network
 * requests): replies larger than the socket takes at once, peers that close, every receive buffer taken, many
 * connections — each ending with nothing of the connections left in the kernel or the loop.
 */
class UringNetTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @BeforeAll
    static void uringNetworking() {
        assumeTrue(UringNet.unavailableReason() == null, () -> "io_uring networking unavailable: " + UringNet.unavailableReason());
    }

    private static LoopRig rig(int recvBuffers) {
        return new LoopRig(1, 256L << 20, 256, ConnectionLimits.DEFAULTS, NetMode.URING, recvBuffers);
    }

    @Test
    void usesTheRingAndRepliesArriveWhole() throws Exception {
        try (LoopRig rig = rig(0)) {
            assertThat(rig.loop.netPath()).startsWith("io_uring");
            rig.fillPattern(0);
            try (LoopRig.Client c = rig.connect(0)) {
                c.send(LoopRig.Client.get(7, 8, 8));
                LoopRig.Client.Reply r = c.read();
                assertThat(r.handle()).isEqualTo(7);
                assertThat(r.data()).isEqualTo(LoopRig.pattern(8, 8));
            }
            settled(rig);
        }
    }

    /**
     * 16 reads of 1 MiB in flight to a client whose receive buffer is 4 KiB and who reads only after sending all of
     * them: the kernel takes each send in pieces (partial sends), the send buffer fills and the connection stops being
     * read; every byte must still arrive in order.
     */
    @Test
    void partialSendsDeliverEveryByteInOrder() throws Exception {
        try (LoopRig rig = rig(0)) {
            rig.fillPattern(0);
            try (LoopRig.Client c = new LoopRig.Client(rig.port(0), 4096)) {
                int n = 16;
                for (int i = 0; i < n; i++) c.send(LoopRig.Client.get(i, i * 2048L, 2048));
                for (int i = 0; i < n; i++) {
                    LoopRig.Client.Reply r = c.read();
                    assertThat(r.handle()).as("reply %d", i).isBetween(0L, n - 1L);
                    assertThat(Arrays.equals(r.data(), LoopRig.pattern(r.handle() * 2048, 2048))).as("data of read %d", r.handle()).isTrue();
                }
            }
            settled(rig);
        }
    }

    /** A peer that closes with requests in flight, one that resets, one that closes idle: all gone, nothing left. */
    @Test
    void peerCloseAndResetReleaseEverything() throws Exception {
        try (LoopRig rig = rig(0)) {
            rig.fillPattern(0);
            LoopRig.Client busy = rig.connect(0);
            for (int i = 0; i < 32; i++) busy.send(LoopRig.Client.get(i, i * 8L, 8));
            busy.close();
            LoopRig.Client reset = rig.connect(0);
            reset.send(LoopRig.Client.get(1, 0, 8));
            reset.socket.setSoLinger(true, 0);
            reset.close();
            rig.connect(0).close();
            settled(rig);
            assertThat(rig.onLoop(() -> rig.loop.requests.inUse())).isZero();
        }
    }

    /**
     * Two receive buffers for 40 connections that all send at once: receives find the buffer ring empty (ENOBUFS) and
     * are retried as buffers come back; every request is answered.
     */
    @Test
    void receiveBufferExhaustionIsRetried() throws Exception {
        try (LoopRig rig = rig(2)) {
            rig.fillPattern(0);
            List<LoopRig.Client> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 40; i++) clients.add(rig.connect(0));
                for (int round = 0; round < 5; round++) {
                    for (int i = 0; i < clients.size(); i++) {
                        OutputStream out = clients.get(i).socket.getOutputStream();
                        byte[] batch = new byte[0];
                        for (int k = 0; k < 8; k++) batch = concat(batch, LoopRig.Client.get(i * 100L + k, (i * 8L + k) % 4096, 1));
                        out.write(batch);
                    }
                    for (int i = 0; i < clients.size(); i++) {
                        for (int k = 0; k < 8; k++) {
                            LoopRig.Client.Reply r = clients.get(i).read();
                            assertThat(r.handle() / 100).isEqualTo(i);
                            assertThat(r.data()).isEqualTo(LoopRig.pattern(r.lba(), 1));
                        }
                    }
                }
            } finally {
                for (LoopRig.Client c : clients) c.close();
            }
            settled(rig);
        }
    }

    /** 300 connections, each a few requests, then all closed: every id and request returns. */
    @Test
    void manyConnections() throws Exception {
        try (LoopRig rig = rig(0)) {
            rig.fillPattern(0);
            List<LoopRig.Client> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) clients.add(rig.connect(0));
                LoopRig.awaitTrue("300 connections adopted", WAIT, () -> rig.loop.connectionCount() == 300);
                for (int i = 0; i < clients.size(); i++) clients.get(i).send(concat(LoopRig.Client.get(i, i, 1), LoopRig.Client.get(i + 1000, i + 1, 1)));
                for (int i = 0; i < clients.size(); i++) {
                    assertThat(clients.get(i).read().data()).isEqualTo(LoopRig.pattern(i, 1));
                    assertThat(clients.get(i).read().data()).isEqualTo(LoopRig.pattern(i + 1, 1));
                }
            } finally {
                for (LoopRig.Client c : clients) c.close();
            }
            settled(rig);
        }
    }

    /** A write's payload split across many small segments reassembles (receives land behind buffered bytes). */
    @Test
    void payloadInSmallPiecesIsReassembled() throws Exception {
        try (LoopRig rig = rig(0)) {
            byte[] data = LoopRig.pattern(4096, 8);
            byte[] frame = LoopRig.Client.frame(Opcode.SET, 5, 4096, 8, data);
            try (LoopRig.Client c = rig.connect(0)) {
                OutputStream out = c.socket.getOutputStream();
                for (int i = 0; i < frame.length; i += 97) {
                    out.write(frame, i, Math.min(97, frame.length - i));
                    out.flush();
                    Thread.sleep(1); // separate segments, separate receives (not a timing assertion)
                }
                assertThat(c.read().handle()).isEqualTo(5);
                c.send(LoopRig.Client.get(6, 4096, 8));
                assertThat(c.read().data()).isEqualTo(data);
            }
            settled(rig);
        }
    }

    /**
     * 64 writes of 32 KiB sent in one go (2 MiB, far beyond a session's 64 KiB receive buffer) to a connection allowed 4
     * requests at a time: the session pauses with input left unparsed, so received bytes outrun its room (multishot
     * receives hold them in their provided buffers); each write must land whole and in order, and every reply come.
     */
    @Test
    void aBurstBeyondTheReceiveBufferToAPausedSessionArrivesInOrder() throws Exception {
        try (LoopRig rig = new LoopRig(1, 256L << 20, 4, ConnectionLimits.DEFAULTS, NetMode.URING, 0)) {
            int n = 64, sectors = 64;
            java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < n; i++) {
                burst.write(LoopRig.Client.frame(Opcode.SET, i, (long) i * sectors, sectors, LoopRig.pattern(i * 7L, sectors)));
            }
            try (LoopRig.Client c = rig.connect(0)) {
                Thread writer = Thread.ofPlatform().start(() -> {
                    try {
                        c.send(burst.toByteArray());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                for (int i = 0; i < n; i++) assertThat(c.read().handle()).as("reply %d", i).isBetween(0L, n - 1L);
                writer.join();
                for (int i = 0; i < n; i++) {
                    c.send(LoopRig.Client.get(1000 + i, (long) i * sectors, sectors));
                    assertThat(c.read().data()).as("data of write %d", i).isEqualTo(LoopRig.pattern(i * 7L, sectors));
                }
            }
            settled(rig);
        }
    }

    /** No connection open, no receive or send in the kernel, no session id held. */
    private static void settled(LoopRig rig) throws InterruptedException {
        rig.await("every connection closed and its requests out of the kernel", WAIT,
                () -> rig.loop.connectionCount() == 0 && rig.loop.uringNet.inKernel() == 0);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}

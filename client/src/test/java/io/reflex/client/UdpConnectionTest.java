package io.reflex.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The UDP transport's retry rules against a small in-test server that loses replies on purpose (no DPDK needed). */
class UdpConnectionTest {
    /**
     * Serves GET/SET from memory like the DPDK engine: executes a SET once per handle (a retry is answered from its
     * table), and drops every {@code dropEvery}-th reply after executing the request.
     */
    static final class LossyServer implements AutoCloseable {
        final DatagramChannel ch;
        final byte[] disk = new byte[1 << 20];
        final Set<Long> applied = new HashSet<>();
        volatile int writesApplied;
        volatile int hellos;
        volatile String lastToken;
        volatile int replies;
        private final int dropEvery;
        private final boolean silent;
        private final Thread thread;
        private volatile boolean running = true;

        LossyServer(int dropEvery, boolean silent) throws IOException {
            this.dropEvery = dropEvery;
            this.silent = silent;
            ch = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            ch.configureBlocking(false);
            thread = Thread.ofPlatform().daemon().start(this::serve);
        }

        int port() throws IOException { return ((InetSocketAddress) ch.getLocalAddress()).getPort(); }

        private void serve() {
            ByteBuffer b = ByteBuffer.allocateDirect(65536).order(ByteOrder.LITTLE_ENDIAN);
            ReflexHeader h = new ReflexHeader();
            int n = 0;
            try {
                while (running) {
                    b.clear();
                    SocketAddress from = ch.receive(b);
                    if (from == null) {
                        Thread.onSpinWait();
                        continue;
                    }
                    if (silent) continue;
                    h.wrap(b, 0);
                    int bytes = (int) h.lbaCount() * 512;
                    int off = (int) h.lba() * 512;
                    int reply = ReflexHeader.LENGTH;
                    if (h.opcode() == Opcode.HELLO) {
                        byte[] t = new byte[(int) h.lbaCount()];
                        b.get(ReflexHeader.LENGTH, t);
                        lastToken = new String(t, java.nio.charset.StandardCharsets.UTF_8);
                        hellos++;
                        bytes = 0;
                        off = 0;
                    }
                    if (h.opcode() == Opcode.SET && applied.add(h.handle())) {
                        b.get(ReflexHeader.LENGTH, disk, off, bytes);
                        writesApplied++;
                    } else if (h.opcode() == Opcode.GET) {
                        b.put(ReflexHeader.LENGTH, disk, off, bytes);
                        reply += bytes;
                    }
                    if (h.opcode() != Opcode.GET) h.lbaCount(0);
                    h.status(Status.OK);
                    if (dropEvery > 0 && ++n % dropEvery == 0) continue; // executed, reply lost
                    replies++;
                    ch.send(b.limit(reply).position(0), from);
                }
            } catch (IOException e) {
                // closed
            }
        }

        @Override
        public void close() throws IOException {
            running = false;
            ch.close();
        }
    }

    private static final UdpOptions FAST = new UdpOptions(Duration.ofMillis(5), 12, 8972); // (1/3)^13 per request: never out of retries

    @Test
    void lostRepliesAreRecoveredByRetriesWithoutDoubleWrites() throws Exception {
        try (LossyServer server = new LossyServer(3, false);
             UdpConnection c = UdpConnection.open("127.0.0.1", server.port(), ClientOptions.defaults().withMaxInFlight(64), FAST)) {
            Random rnd = new Random(1);
            Map<Integer, byte[]> written = new HashMap<>();
            int[] done = {0}, failed = {0};
            CompletionListener count = (tag, status, data) -> {
                if (status == Status.OK) done[0]++;
                else failed[0]++;
            };
            for (int i = 0; i < 200; i++) {
                byte[] d = new byte[4096];
                rnd.nextBytes(d);
                written.put(i, d);
                while (!c.submitWrite(i * 8L, ByteBuffer.wrap(d), i)) c.poll(count);
            }
            while (c.inFlight() > 0) c.poll(count);
            assertThat(done[0]).isEqualTo(200);
            assertThat(failed[0]).isZero();
            assertThat(server.writesApplied).isEqualTo(200); // every write once, retries answered from the table
            assertThat(c.retransmits()).isGreaterThan(0);

            Map<Long, byte[]> read = new HashMap<>();
            CompletionListener keep = (tag, status, data) -> {
                assertThat(status).isEqualTo(Status.OK);
                byte[] b = new byte[data.remaining()];
                data.get(b);
                read.put(tag, b);
            };
            for (int i = 0; i < 200; i++) while (!c.submitRead(i * 8L, 8, null, i)) c.poll(keep);
            while (c.inFlight() > 0) c.poll(keep);
            for (int i = 0; i < 200; i++) assertThat(read.get((long) i)).isEqualTo(written.get(i));
        }
    }

    @Test
    void aRequestWithoutAnyReplyFailsWithTimeoutAfterItsRetries() throws Exception {
        try (LossyServer server = new LossyServer(0, true);
             UdpConnection c = UdpConnection.open("127.0.0.1", server.port(), ClientOptions.defaults(),
                     new UdpOptions(Duration.ofMillis(2), 2, 8972))) {
            int[] status = {Integer.MIN_VALUE};
            assertThat(c.submitRead(0, 8, null, 1)).isTrue();
            while (c.inFlight() > 0) c.poll((tag, s, data) -> status[0] = s);
            assertThat(status[0]).isEqualTo(UdpConnection.STATUS_TIMEOUT);
            assertThat(c.retransmits()).isEqualTo(2);
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void aTokenIsSentInHelloBeforeAnyRequest() throws Exception {
        try (LossyServer server = new LossyServer(2, false); // the first HELLO reply is lost: HELLO is retried too
             UdpConnection c = UdpConnection.open("127.0.0.1", server.port(), ClientOptions.defaults().withToken("s3cret"), FAST)) {
            assertThat(server.hellos).isGreaterThanOrEqualTo(1);
            assertThat(server.lastToken).isEqualTo("s3cret");
            int[] status = {-100};
            c.submitRead(0, 8, null, 1);
            while (c.inFlight() > 0) c.poll((t, st, d) -> status[0] = st);
            assertThat(status[0]).isEqualTo(Status.OK);
        }
    }

    @Test
    void refusesRequestsLargerThanOneDatagram() throws Exception {
        try (LossyServer server = new LossyServer(0, false);
             UdpConnection c = UdpConnection.open("127.0.0.1", server.port(), ClientOptions.defaults(), FAST)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.submitRead(0, 64, null, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("datagram");
        }
    }

    @Test
    void theReflexClientWorksOverUdp() throws Exception {
        try (LossyServer server = new LossyServer(4, false);
             ReflexClient client = ReflexClient.connectUdp("127.0.0.1", server.port(), ClientOptions.defaults(), FAST)) {
            byte[] d = new byte[8192];
            new Random(5).nextBytes(d);
            client.write(100, ByteBuffer.wrap(d)).get();
            ByteBuffer back = client.read(100, 16).get();
            byte[] b = new byte[back.remaining()];
            back.get(b);
            assertThat(b).isEqualTo(d);
            client.flush().get();
        }
    }
}

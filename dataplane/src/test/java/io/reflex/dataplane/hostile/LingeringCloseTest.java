package io.reflex.dataplane.hostile;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.metrics.ConnectionStats;
import io.reflex.dataplane.nbd.Nbd;
import io.reflex.dataplane.tenant.SloTable;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A connection the server ends after a last reply (an error that closes it, a refused HELLO, NBD's abort
 * acknowledged) while the client has sent more than the server read. Closing a socket with unread input makes the
 * kernel reset the connection, and a reset throws away what the socket has not delivered yet — deterministically so
 * when the client's receive window is full and the error reply is still queued on the server. The server therefore
 * lingers: FIN after the last reply, input drained and discarded for a bounded time and amount, then the socket
 * closed. Each test sends the extra bytes before reading, so they sit in the server's receive buffer when it closes.
 */
class LingeringCloseTest {
    private static final int GETS = 16;
    private static final int JUNK = 256 * 1024;
    private static final long BAD_HANDLE = 0xBADL;

    /**
     * Extended client: replies to 16 reads fill its small receive window (the rest wait in the server's socket), then a
     * malformed request and 256 KiB more. The EINVAL reply is queued behind the unread replies when the server closes;
     * a reset would destroy it and them.
     */
    @Test
    void anErrorReplyQueuedBehindUnreadRepliesReachesTheClient() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20));
             Socket s = smallWindow(h.portA)) {
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            first.write(Hostile.header(Opcode.HELLO, 1, Opcode.PROTOCOL_VERSION, 0));
            for (int i = 0; i < GETS; i++) first.write(Hostile.get(100 + i, 8L * i, 8));
            out.write(first.toByteArray());
            Hostile.await("the server answered every read", Duration.ofSeconds(10), () -> reads(h.dp, "a") == GETS);

            Thread junk = sendJunk(s, Hostile.header(Opcode.GET, BAD_HANDLE, 0, 0), JUNK); // lba_count 0: malformed
            Hostile.await("the server ended the session", Duration.ofSeconds(10), () -> h.dp.connectionCount("a") == 0);

            InputStream in = s.getInputStream();
            DataInputStream d = new DataInputStream(in);
            ByteBuffer hello = reply(d);
            assertThat(hello.getInt(12)).as("HELLO status").isEqualTo(Status.OK);
            for (int i = 0; i < GETS; i++) {
                ByteBuffer r = reply(d);
                assertThat(r.getInt(12)).as("read status").isEqualTo(Status.OK);
                d.readFully(new byte[8 * 512]);
            }
            ByteBuffer error = reply(d);
            assertThat(error.getLong(4)).as("handle of the last reply").isEqualTo(BAD_HANDLE);
            assertThat(error.getInt(12)).as("its status").isEqualTo(Status.EINVAL);
            assertCleanEof(in);
            junk.join(10_000);
            s.close();
            h.awaitClosed(CloseReason.PROTOCOL_ERROR, 1);
            assertThat(h.open()).isZero();
        }
    }

    /** Legacy client: its replies so far, then the connection's end (a FIN), however much it sent after. */
    @Test
    void aLegacyClientGetsItsRepliesAndAnOrderlyCloseAfterAMalformedRequest() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20));
             Socket s = smallWindow(h.portA)) {
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            for (int i = 0; i < GETS; i++) first.write(Hostile.get(100 + i, 8L * i, 8));
            s.getOutputStream().write(first.toByteArray());
            Hostile.await("the server answered every read", Duration.ofSeconds(10), () -> reads(h.dp, "a") == GETS);

            Thread junk = sendJunk(s, Hostile.header(77, BAD_HANDLE, 0, 8), JUNK); // unknown opcode
            Hostile.await("the server ended the session", Duration.ofSeconds(10), () -> h.dp.connectionCount("a") == 0);

            DataInputStream d = new DataInputStream(s.getInputStream());
            for (int i = 0; i < GETS; i++) {
                assertThat(reply(d).getLong(4)).isEqualTo(100 + i);
                d.readFully(new byte[8 * 512]);
            }
            assertCleanEof(s.getInputStream());
            junk.join(10_000);
        }
    }

    /**
     * A refused HELLO (wrong token), with more requests pipelined behind it: EAUTH, then a FIN. (EAUTH is the first
     * reply, so on Linux it reaches the client's socket before a reset could follow it; this pins the orderly close.)
     */
    @Test
    void aRefusedHelloReachesAClientThatPipelinedMoreBehindIt() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20))) {
            int port = addTokenTenant(h);
            try (Socket s = Hostile.connect(port)) {
                byte[] token = "wrong".getBytes(StandardCharsets.UTF_8);
                ByteArrayOutputStream hello = new ByteArrayOutputStream();
                hello.write(Hostile.header(Opcode.HELLO, 5, Opcode.PROTOCOL_VERSION, token.length));
                hello.write(token);
                Hostile.await("connection adopted", Duration.ofSeconds(10), () -> h.dp.connectionCount("c") == 1);
                whileLoopBlocked(h, () -> sendWithJunk(s, hello.toByteArray())); // "requests" pipelined after the HELLO
                s.setSoTimeout(10_000);
                ByteBuffer r = reply(new DataInputStream(s.getInputStream()));
                assertThat(r.getLong(4)).isEqualTo(5);
                assertThat(r.getInt(12)).isEqualTo(Status.EAUTH);
                assertCleanEof(s.getInputStream());
            }
        }
    }

    /**
     * NBD: reads whose replies back up behind a small receive window, then DISC with more bytes behind it. The server
     * answers everything in flight and closes; the replies still queued in its socket must not be thrown away.
     */
    @Test
    void nbdDisconnectWithBytesBehindItDeliversEveryReplyBeforeTheClose() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20));
             Socket s = smallWindow(h.nbdPort)) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            in.readFully(new byte[Nbd.GREETING_LENGTH]);
            byte[] name = "a".getBytes(StandardCharsets.UTF_8);
            ByteBuffer open = ByteBuffer.allocate(4 + Nbd.OPTION_HEADER_LENGTH + name.length);
            open.putInt(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES)
                    .putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_EXPORT_NAME).putInt(name.length).put(name);
            s.getOutputStream().write(open.array());
            in.readFully(new byte[10]); // export size and flags
            ByteArrayOutputStream reads = new ByteArrayOutputStream();
            for (int i = 0; i < GETS; i++) reads.write(Hostile.nbdRead(100 + i, 4096L * i, 4096));
            s.getOutputStream().write(reads.toByteArray());
            Hostile.await("the server answered every read", Duration.ofSeconds(10), () -> reads(h.dp, "a") == GETS);

            byte[] disc = ByteBuffer.allocate(Nbd.REQUEST_LENGTH).putInt(Nbd.REQUEST_MAGIC).putShort((short) 0)
                    .putShort((short) Nbd.CMD_DISC).putLong(999).putLong(0).putInt(0).array();
            Thread junk = sendJunk(s, disc, JUNK);
            Hostile.await("the server ended the session", Duration.ofSeconds(10), () -> h.dp.connectionCount("a") == 0);
            for (int i = 0; i < GETS; i++) {
                byte[] header = new byte[16];
                try {
                    in.readFully(header);
                } catch (java.io.EOFException | java.net.SocketException e) {
                    throw new AssertionError("the connection ended after " + i + " of " + GETS + " replies", e);
                }
                ByteBuffer r = ByteBuffer.wrap(header);
                assertThat(r.getInt(0)).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
                assertThat(r.getInt(4)).as("error").isZero();
                assertThat(r.getLong(8)).isEqualTo(100 + i);
                in.readFully(new byte[4096]);
            }
            assertCleanEof(in);
            junk.join(10_000);
        }
    }

    /**
     * NBD: a refused export (wrong token), then the client aborts with more bytes behind: ACK, then a FIN. (The ACK is
     * the first reply after one the client read, so on Linux it reaches the client's socket before a reset could
     * follow; this pins the orderly close.)
     */
    @Test
    void nbdRefusalThenAbortWithBytesBehindItIsAcknowledgedBeforeTheClose() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20))) {
            addTokenTenant(h);
            try (Socket s = Hostile.connect(h.nbdPort)) {
                s.setSoTimeout(10_000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                in.readFully(new byte[Nbd.GREETING_LENGTH]);
                byte[] name = "c:wrong".getBytes(StandardCharsets.UTF_8);
                ByteBuffer go = ByteBuffer.allocate(4 + Nbd.OPTION_HEADER_LENGTH + 4 + name.length + 2);
                go.putInt(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES)
                        .putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(4 + name.length + 2).putInt(name.length).put(name).putShort((short) 0);
                s.getOutputStream().write(go.array());
                assertThat(optionReply(in)).as("GO with a wrong token").isEqualTo(Nbd.REP_ERR_POLICY);

                byte[] abort = ByteBuffer.allocate(Nbd.OPTION_HEADER_LENGTH).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_ABORT).putInt(0).array();
                whileLoopBlocked(h, () -> sendWithJunk(s, abort));
                assertThat(optionReply(in)).as("ABORT").isEqualTo(Nbd.REP_ACK);
                assertCleanEof(in);
                s.close();
                h.awaitClosed(CloseReason.PEER_CLOSED, 1);
            }
        }
    }

    /**
     * A client that neither reads nor closes holds nothing while the server lingers — no request, no buffer, no share of
     * its tenant — and the server closes the socket itself after the linger time.
     */
    @Test
    void aLingeringSessionHoldsNothingAndEndsOnItsOwn() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 0.4, 16 << 20)); // sweeps every 100 ms
             Socket s = Hostile.connect(h.portA)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.write(Hostile.header(Opcode.HELLO, 1, Opcode.PROTOCOL_VERSION, 0));
            burst.write(Hostile.header(Opcode.GET, BAD_HANDLE, 0, 0));
            burst.write(new byte[4096]);
            s.getOutputStream().write(burst.toByteArray());
            Hostile.await("the tenant let the session go", Duration.ofSeconds(10), () -> h.dp.connectionCount("a") == 0);
            Hostile.await("a sweep seeing it linger, holding nothing", Duration.ofSeconds(10),
                    () -> h.open() == 1 && h.sum(ConnectionStats::requestsInUse) == 0);
            assertThat(h.closed(CloseReason.PROTOCOL_ERROR)).as("counted when its socket closes").isZero();
            Hostile.await("the server closed the lingering socket", Duration.ofSeconds(10), () -> h.open() == 0);
            assertThat(h.closed(CloseReason.PROTOCOL_ERROR)).isEqualTo(1);
            // What it sent was drained; what it got is the two replies and the FIN.
            s.setSoTimeout(10_000);
            DataInputStream d = new DataInputStream(s.getInputStream());
            assertThat(reply(d).getInt(12)).isEqualTo(Status.OK);
            assertThat(reply(d).getInt(12)).isEqualTo(Status.EINVAL);
            assertCleanEof(d);
        }
    }

    /** A client that keeps sending after the error reply is cut off after about 1 MiB more, not served for ever. */
    @Test
    void aClientThatKeepsSendingIsCutOffAfterTheByteBound() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20));
             Socket s = Hostile.connect(h.portA)) {
            OutputStream out = s.getOutputStream();
            out.write(Hostile.header(Opcode.GET, BAD_HANDLE, 0, 0)); // legacy, malformed
            Hostile.await("the tenant let the session go", Duration.ofSeconds(10), () -> h.dp.connectionCount("a") == 0);
            long sent = 0;
            byte[] chunk = new byte[64 * 1024];
            try {
                while (sent < (1L << 30)) {
                    out.write(chunk);
                    sent += chunk.length;
                }
                fail("the server took 1 GiB from a connection it had closed");
            } catch (IOException expected) {
                // reset once the server closed the socket after draining its bound
            }
            assertThat(sent).as("bytes the client could send after the close").isLessThan(64L << 20);
            Hostile.await("the socket closed", Duration.ofSeconds(10), () -> h.open() == 0);
            assertThat(h.closed(CloseReason.PROTOCOL_ERROR)).isEqualTo(1);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** A client whose receive window is a few KiB: replies back up into the server's socket. */
    private static Socket smallWindow(int port) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096); // before connect
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Writes {@code head} and then {@code junk} bytes from another thread (the write may block until the server reads). */
    private static Thread sendJunk(Socket s, byte[] head, int junk) throws IOException {
        s.getOutputStream().write(head);
        return Thread.ofPlatform().daemon().name("junk").start(() -> {
            try {
                s.getOutputStream().write(new byte[junk]);
            } catch (IOException ignored) {
                // the server may close before taking it all
            }
        });
    }

    interface IoAction {
        void run() throws IOException;
    }

    /**
     * Runs {@code clientSends} while the (only) loop is held in a control task, so that all the bytes it sends are in
     * the server's socket before the server reads any: more than one read takes (64 KiB) stays unread when it closes.
     */
    private static void whileLoopBlocked(Hostile h, IoAction clientSends) throws Exception {
        CountDownLatch held = new CountDownLatch(1), go = new CountDownLatch(1);
        h.dp.loops()[0].execute(() -> {
            held.countDown();
            try {
                go.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        try {
            clientSends.run();
        } finally {
            go.countDown();
        }
    }

    /** {@code head}, then 96 KiB more in the same write (the server's socket queues ~110 KiB unread on loopback). */
    private static void sendWithJunk(Socket s, byte[] head) throws IOException {
        byte[] b = java.util.Arrays.copyOf(head, head.length + 96 * 1024);
        s.getOutputStream().write(b);
    }

    /** A 24-byte ReFlex reply header. */
    private static ByteBuffer reply(DataInputStream in) throws IOException {
        byte[] b = new byte[ReflexHeader.LENGTH];
        try {
            in.readFully(b);
        } catch (java.net.SocketException e) {
            throw new AssertionError("the connection was reset before a reply arrived: the close destroyed it", e);
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The next read ends the stream: EOF (the server's FIN), not a reset. */
    private static void assertCleanEof(InputStream in) throws IOException {
        try {
            assertThat(in.read()).as("the stream after the last reply").isEqualTo(-1);
        } catch (java.net.SocketException e) {
            throw new AssertionError("reset instead of an orderly close after the last reply", e);
        }
    }

    private static int optionReply(DataInputStream in) throws IOException {
        assertThat(in.readLong()).isEqualTo(Nbd.REPLY_MAGIC);
        in.readInt();
        int type = in.readInt();
        in.readFully(new byte[in.readInt()]);
        return type;
    }

    /** Reads completed for a tenant (over its loops). */
    private static long reads(Dataplane dp, String tenant) {
        long n = 0;
        for (Dataplane.Served s : dp.tenants()) {
            if (s.spec().name().equals(tenant)) for (var st : s.stats()) n += st.get(0); // TenantStats.READS
        }
        return n;
    }

    /** Adds tenant {@code c} (token {@code s3cret}) to the running dataplane; returns its port. */
    private static int addTokenTenant(Hostile h) {
        int port = Hostile.freePorts(1)[0];
        long quarter = Hostile.HALF_SECTORS / 2;
        SloTable t = SloTable.parse("""
                tenants:
                  - { name: a, port: %d, class: BE, lbaBase: 0, lbaCount: %d }
                  - { name: b, port: %d, class: BE, lbaBase: %d, lbaCount: %d }
                  - { name: c, port: %d, class: BE, lbaBase: %d, lbaCount: %d, token: s3cret }
                """.formatted(h.portA, quarter, h.portB, Hostile.HALF_SECTORS, Hostile.HALF_SECTORS, port, quarter, quarter)
                .getBytes(StandardCharsets.UTF_8), "test", h.dp.deviceSectors());
        assertThat(h.dp.apply(t).allAdmitted()).isTrue();
        return port;
    }
}

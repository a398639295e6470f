package io.reflex.client;

import io.reflex.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReflexClientTest {
    private static final long SECTORS = 4096;
    private LoopbackServer server;

    @BeforeEach
    void start() throws IOException {
        server = new LoopbackServer(SECTORS);
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private ReflexClient connect(ClientOptions options) throws IOException {
        return ReflexClient.connect("127.0.0.1", server.port(), options);
    }

    static ByteBuffer pattern(int bytes, int seed) {
        ByteBuffer b = ByteBuffer.allocate(bytes);
        for (int i = 0; i < bytes; i++) b.put(i, (byte) (seed * 31 + i * 7));
        return b;
    }

    private static ReflexException failure(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(ReflexException.class);
            return (ReflexException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError("future did not fail in time", e);
        }
        throw new AssertionError("future succeeded but should have failed");
    }

    @Test
    void writesThenReadsBackTheSameBytesInLegacyMode() throws Exception {
        try (ReflexClient c = connect(ClientOptions.defaults())) {
            ByteBuffer data = pattern(8192, 1);
            c.write(16, data).get(10, TimeUnit.SECONDS);
            assertThat(data.position()).isZero(); // caller's buffer untouched
            ByteBuffer back = c.read(16, 16).get(10, TimeUnit.SECONDS);
            assertThat(back).isEqualTo(data);
            assertThat(server.disk()[16 * 512 + 5]).isEqualTo(data.get(5));
        }
    }

    @Test
    void matchesOutOfOrderRepliesToTheirRequests() throws Exception {
        try (ReflexClient c = connect(ClientOptions.defaults().withExtended(true))) {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 200; i++) writes.add(c.write(i * 8L, pattern(4096, i)));
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            List<CompletableFuture<ByteBuffer>> reads = new ArrayList<>();
            for (int i = 0; i < 200; i++) reads.add(c.read(i * 8L, 8));
            for (int i = 0; i < 200; i++) assertThat(reads.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(pattern(4096, i));
        }
    }

    @Test
    void mapsEveryErrorStatusToAReflexExceptionNamingIt() throws Exception {
        server.fail(100, Status.EIO).fail(200, Status.EBUSY);
        try (ReflexClient c = connect(ClientOptions.defaults().withToken("t"))) {
            ReflexException eio = failure(c.read(100, 1));
            assertThat(eio.status()).isEqualTo(Status.EIO);
            assertThat(eio.statusName()).isEqualTo("EIO");
            assertThat(eio).hasMessageContaining("read lba=100 sectors=1").hasMessageContaining("EIO");
            assertThat(failure(c.write(200, pattern(512, 0))).statusName()).isEqualTo("EBUSY");
            assertThat(failure(c.read(SECTORS - 1, 2)).statusName()).isEqualTo("ERANGE");
            // the connection survives errors in extended mode
            assertThat(c.read(0, 1).get(10, TimeUnit.SECONDS).remaining()).isEqualTo(512);
            c.flush().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void legacyServerClosingOnABadRequestFailsItAndEverythingAfter() throws Exception {
        try (ReflexClient c = connect(ClientOptions.defaults())) {
            ReflexException e = failure(c.read(SECTORS, 1)); // out of range: the legacy server hangs up
            assertThat(e.isConnectionClosed()).isTrue();
            assertThat(e.statusName()).isEqualTo("CONNECTION_CLOSED");
            assertThat(e).hasMessageContaining("closed");
            assertThat(failure(c.read(0, 1)).isConnectionClosed()).isTrue();
            assertThat(c.isOpen()).isFalse();
        }
    }

    @Test
    void connectionCloseFailsEveryOutstandingRequest() throws Exception {
        server.holdReplies(true);
        try (ReflexClient c = connect(ClientOptions.defaults())) {
            List<CompletableFuture<?>> pending = new ArrayList<>();
            for (int i = 0; i < 50; i++) pending.add(c.read(i, 1));
            pending.add(c.write(0, pattern(512, 0)));
            while (server.requests() < 51) Thread.onSpinWait();
            server.dropConnections();
            for (CompletableFuture<?> f : pending) {
                ReflexException e = failure(f);
                assertThat(e.isConnectionClosed()).isTrue();
                assertThat(e).hasMessageContaining("closed by server");
            }
        }
    }

    @Test
    void closingTheClientFailsOutstandingAndLaterRequests() throws Exception {
        server.holdReplies(true);
        ReflexClient c = connect(ClientOptions.defaults());
        CompletableFuture<ByteBuffer> pending = c.read(0, 1);
        c.close();
        assertThat(failure(pending).isConnectionClosed()).isTrue();
        assertThat(failure(c.read(0, 1)).isConnectionClosed()).isTrue();
    }

    @Test
    void helloWithTheRightTokenIsAccepted() throws Exception {
        server.requireToken("s3cret");
        try (ReflexClient c = connect(ClientOptions.defaults().withToken("s3cret"))) {
            c.write(0, pattern(512, 9)).get(10, TimeUnit.SECONDS);
            assertThat(c.read(0, 1).get(10, TimeUnit.SECONDS)).isEqualTo(pattern(512, 9));
        }
    }

    @Test
    void helloWithAWrongTokenFailsConnectWithEauth() {
        server.requireToken("s3cret");
        assertThatThrownBy(() -> connect(ClientOptions.defaults().withToken("nope")))
                .isInstanceOfSatisfying(ReflexException.class, e -> assertThat(e.statusName()).isEqualTo("EAUTH"))
                .hasMessageContaining("EAUTH");
    }

    @Test
    void rejectsInvalidRequestsBeforeSendingAnything() throws Exception {
        try (ReflexClient c = connect(ClientOptions.defaults())) {
            assertThatThrownBy(() -> c.read(0, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.read(0, 2049)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 MiB");
            assertThatThrownBy(() -> c.read(-1, 1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
            assertThatThrownBy(() -> c.write(0, ByteBuffer.allocate(100))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("multiple of 512");
            assertThatThrownBy(() -> c.write(0, ByteBuffer.allocate(0))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.write(0, ByteBuffer.allocate((1 << 20) + 512))).isInstanceOf(IllegalArgumentException.class);
            c.read(0, 1).get(10, TimeUnit.SECONDS);
            assertThat(server.requests()).isEqualTo(1); // only the valid read went out
        }
    }

    @Test
    void largestRequestRoundTrips() throws Exception {
        server.close();
        server = new LoopbackServer(8192);
        try (ReflexClient c = connect(ClientOptions.defaults().withPollMode(PollMode.BLOCK))) {
            ByteBuffer mib = pattern(1 << 20, 3);
            CompletableFuture<Void> w1 = c.write(0, mib);
            CompletableFuture<Void> w2 = c.write(2048, pattern(1 << 20, 4));
            c.flush().get(10, TimeUnit.SECONDS);
            assertThat(w1).isCompleted();
            assertThat(w2).isCompleted();
            assertThat(c.read(0, 2048).get(10, TimeUnit.SECONDS)).isEqualTo(mib);
        }
    }

    @Test
    void unreachableServerGivesAClearConnectException() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> ReflexClient.connect("127.0.0.1", port, ClientOptions.defaults()))
                .isInstanceOf(ConnectException.class).hasMessageContaining("cannot connect to 127.0.0.1:" + port);
    }

    @Test
    void manyApplicationThreadsShareOneClient() throws Exception {
        try (ReflexClient c = connect(ClientOptions.defaults().withMaxInFlight(64))) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < 4; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        List<CompletableFuture<Void>> fs = new ArrayList<>();
                        for (int i = 0; i < 500; i++) fs.add(c.write(id * 1000L + i % 100, pattern(512, id)));
                        CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
                        assertThat(c.read(id * 1000L, 1).get(10, TimeUnit.SECONDS)).isEqualTo(pattern(512, id));
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            assertThat(errors).isEmpty();
        }
    }
}

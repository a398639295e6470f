package io.reflex.dataplane.server;

import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.client.ReflexException;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import io.reflex.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The real client against the real server on a real file (O_DIRECT), for every storage engine. */
class ClientServerTest {
    private Dataplane dp;

    @AfterEach
    void stop() {
        if (dp != null) dp.close();
    }

    private static Path deviceFile(long bytes) throws IOException {
        Path dir = Path.of("target", "server-test");
        Files.createDirectories(dir);
        Path f = Files.createTempFile(dir, "dev", ".img");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        f.toFile().deleteOnExit();
        return f;
    }

    private Dataplane start(String engine, int threads) throws IOException {
        return start(engine, threads, PollMode.ADAPTIVE);
    }

    private Dataplane start(String engine, int threads, PollMode poll) throws IOException {
        Path dev = engine.equals("memory") ? null : deviceFile(32L << 20);
        var c = new DataplaneConfig(dev, engine, 32L << 20, new InetSocketAddress("127.0.0.1", TestServer.freePort()), null, "null",
                threads, poll, true, true, 64, null);
        dp = Dataplane.start(c);
        return dp;
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "file", "memory"})
    void manyPipelinedWritesReadBackIdentical(String engine) throws Exception {
        start(engine, 2);
        int port = dp.config().listen().getPort();
        Random rnd = new Random(42);
        List<byte[]> blocks = new ArrayList<>();
        try (ReflexClient client = ReflexClient.connect("127.0.0.1", port, ClientOptions.defaults().withToken(""))) {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                int sectors = 1 + rnd.nextInt(16);
                byte[] b = new byte[sectors * 512];
                rnd.nextBytes(b);
                blocks.add(b);
                writes.add(client.write(i * 16L, ByteBuffer.wrap(b)));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            client.flush().get(10, TimeUnit.SECONDS);
            List<CompletableFuture<ByteBuffer>> reads = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) reads.add(client.read(i * 16L, blocks.get(i).length / 512));
            for (int i = 0; i < blocks.size(); i++) {
                ByteBuffer got = reads.get(i).get(30, TimeUnit.SECONDS);
                byte[] g = new byte[got.remaining()];
                got.get(g);
                assertThat(g).as("block %d", i).isEqualTo(blocks.get(i));
            }
        }
    }

    /** Every idle strategy, server and client alike, serves a stream of requests (none waits forever or spins past work). */
    @ParameterizedTest
    @EnumSource(PollMode.class)
    void everyPollModeServesRequests(PollMode poll) throws Exception {
        start("uring", 1, poll);
        int port = dp.config().listen().getPort();
        var clientPoll = io.reflex.client.PollMode.valueOf(poll.name());
        byte[] b = new byte[4096];
        new Random(3).nextBytes(b);
        try (ReflexClient client = ReflexClient.connect("127.0.0.1", port, ClientOptions.defaults().withPollMode(clientPoll))) {
            for (int i = 0; i < 50; i++) {
                client.write(i * 8L, ByteBuffer.wrap(b)).get(10, TimeUnit.SECONDS);
                ByteBuffer got = client.read(i * 8L, 8).get(10, TimeUnit.SECONDS);
                assertThat(got).isEqualTo(ByteBuffer.wrap(b));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "memory"})
    void largeRequestsUpToOneMebibyte(String engine) throws Exception {
        start(engine, 1);
        int port = dp.config().listen().getPort();
        byte[] big = new byte[1 << 20];
        new Random(7).nextBytes(big);
        try (ReflexClient client = ReflexClient.connect("127.0.0.1", port, ClientOptions.defaults())) {
            client.write(2048, ByteBuffer.wrap(big)).get(30, TimeUnit.SECONDS);
            ByteBuffer got = client.read(2048, 2048).get(30, TimeUnit.SECONDS);
            byte[] g = new byte[got.remaining()];
            got.get(g);
            assertThat(g).isEqualTo(big);
        }
    }

    @org.junit.jupiter.api.Test
    void outOfRangeIsAStatusForExtendedClients() throws Exception {
        start("memory", 1);
        int port = dp.config().listen().getPort();
        long sectors = dp.deviceSectors();
        try (ReflexClient client = ReflexClient.connect("127.0.0.1", port, ClientOptions.defaults().withExtended(true))) {
            assertThatThrownBy(() -> client.read(sectors - 1, 2).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(ReflexException.class, e -> assertThat(e.status()).isEqualTo(Status.ERANGE));
            assertThat(client.read(sectors - 1, 1).get(10, TimeUnit.SECONDS).remaining()).isEqualTo(512);
        }
    }
}

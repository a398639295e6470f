package io.reflex.dataplane.hostile;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.metrics.ConnectionStats;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 5,000 idle connections to one tenant (this JVM holds both ends: 10,000 descriptors; the machine allows 20,000):
 * accepted, cheap (idle connections borrow no socket buffers), harmless to another tenant, and closed cleanly —
 * by their clients, or by the server's idle timeout — leaving no descriptors behind.
 */
class IdleConnectionsTest {
    private static final int N = 5000;

    @Test
    void fiveThousandIdleConnectionsAreAcceptedCheaplyAndClosedCleanly() throws Exception {
        int fdsBefore = Hostile.openFds();
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20));
             Hostile.Load good = new Hostile.Load(h.portB, 4)) {
            int fdsStarted = Hostile.openFds();
            List<SocketChannel> clients = open(h.portA);
            try {
                Hostile.await("all accepted", Duration.ofSeconds(60), () -> h.dp.connectionCount("a") == N);
                Thread.sleep(1500); // a sweep publishes the gauges
                assertThat(h.sum(ConnectionStats::socketBufferBytes)).as("socket buffers with %d idle connections", N)
                        .isLessThanOrEqualTo(16L << 20);
                assertThat(good.completedDuring(300)).as("the other tenant").isPositive();
            } finally {
                for (SocketChannel c : clients) c.close();
            }
            Hostile.await("all closed by the server", Duration.ofSeconds(60), () -> h.dp.connectionCount("a") == 0);
            h.awaitClosed(CloseReason.PEER_CLOSED, N);
            Hostile.await("descriptors released", Duration.ofSeconds(10), () -> Hostile.openFds() <= fdsStarted + 2);
            assertThat(good.failed.get()).as("the other tenant's failures: %s", good.failure()).isZero();
        }
        Hostile.await("descriptors released after stop", Duration.ofSeconds(10), () -> Hostile.openFds() <= fdsBefore + 2);
    }

    @Test
    void fiveThousandIdleConnectionsAreClosedByTheIdleTimeout() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(2, 30, 16 << 20))) {
            List<SocketChannel> clients = open(h.portA);
            try {
                Hostile.await("all closed on the idle timeout", Duration.ofSeconds(60), () -> h.closed(CloseReason.IDLE) == N);
                assertThat(h.open()).isZero();
                // Each client sees the close (EOF).
                for (int i = 0; i < N; i += 97) {
                    SocketChannel c = clients.get(i);
                    c.configureBlocking(true);
                    c.socket().setSoTimeout(5000);
                    assertThat(c.socket().getInputStream().read()).as("client %d sees EOF", i).isEqualTo(-1);
                }
            } finally {
                for (SocketChannel c : clients) c.close();
            }
        }
    }

    private static List<SocketChannel> open(int port) throws IOException {
        List<SocketChannel> clients = new ArrayList<>(N);
        try {
            for (int i = 0; i < N; i++) clients.add(SocketChannel.open(new InetSocketAddress("127.0.0.1", port)));
        } catch (IOException | RuntimeException e) {
            for (SocketChannel c : clients) c.close();
            throw e;
        }
        return clients;
    }
}

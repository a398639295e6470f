package io.reflex.dataplane.hostile;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.metrics.ConnectionStats;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

import static io.reflex.dataplane.hostile.Hostile.closedWithin;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that sends reads and never reads the replies: the server stops reading it once its replies back up, holds
 * no more than the per-connection bound meanwhile, keeps serving another tenant's connection on the same loop, and
 * closes it after the request timeout without progress. A slow reader that does read is not closed.
 */
class NeverReadingClientTest {
    private static final long CAP = 4L << 20;
    private static final int REPLY_SECTORS = 512; // 256 KiB reads
    private static final int REQUESTS = 256;      // 64 MiB of replies asked for

    @Test
    void isBoundedDoesNotStallItsLoopAndIsClosedAfterTheTimeout() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 2, CAP));
             Hostile.Load good = new Hostile.Load(h.portB, 8);
             Socket greedy = new Socket()) {
            greedy.setReceiveBufferSize(4096); // before connect: a small window fills at once
            greedy.connect(new InetSocketAddress("127.0.0.1", h.portA));
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < REQUESTS; i++) burst.write(Hostile.get(i, (long) i * REPLY_SECTORS % (Hostile.HALF_SECTORS - REPLY_SECTORS), REPLY_SECTORS));
            greedy.getOutputStream().write(burst.toByteArray());

            Hostile.await("the greedy connection to be send-blocked", Duration.ofSeconds(10), () -> h.sum(ConnectionStats::sendBlocked) == 1);
            long ioBytes = h.sum(ConnectionStats::ioBufferBytes);
            assertThat(ioBytes).as("I/O buffer memory with 64 MiB of unread replies asked for")
                    .isLessThanOrEqualTo(CAP + (1L << 20) + (2L << 20)); // the bound, one request over it, the good tenant
            assertThat(h.sum(ConnectionStats::requestsInUse)).as("request ids held").isLessThan(REQUESTS);
            assertThat(good.completedDuring(500)).as("the other tenant on the same loop while it is blocked").isPositive();

            // Not reading to find out: reading is progress. The server resets it (a FIN would queue behind the data).
            Hostile.await("closed after the send timeout", Duration.ofSeconds(10), () -> h.closed(CloseReason.SEND_TIMEOUT) == 1);
            assertThat(closedWithin(greedy, 5_000)).as("the client sees the reset after the data it has").isTrue();
            Hostile.await("its requests and buffers released", Duration.ofSeconds(5), () -> h.sum(ConnectionStats::requestsInUse) <= 8
                    && h.sum(ConnectionStats::sendBlocked) == 0);
            assertThat(good.completedDuring(300)).isPositive();
            assertThat(good.failed.get()).as("the other tenant's failures: %s", good.failure()).isZero();
        }
    }

    @Test
    void manyNeverReadingConnectionsOfOneTenantLeaveTheOtherTenantItsShareOfTheLoop() throws Exception {
        // 24 connections × 256 reads of 64 KiB: 384 MiB and 6,144 requests asked for, more than the loop's whole I/O
        // buffer pool (256 MiB) and request table (4,096). One tenant gets at most half of either, so the other
        // tenant, arriving afterwards and needing fresh buffers, is served.
        int connections = 24, sectors = 128;
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20))) {
            java.util.List<Socket> greedy = new java.util.ArrayList<>();
            try {
                for (int c = 0; c < connections; c++) {
                    Socket s = new Socket();
                    s.setReceiveBufferSize(4096);
                    s.connect(new InetSocketAddress("127.0.0.1", h.portA));
                    greedy.add(s);
                    ByteArrayOutputStream burst = new ByteArrayOutputStream();
                    for (int i = 0; i < 256; i++) burst.write(Hostile.get(i, (long) i * sectors, sectors));
                    s.getOutputStream().write(burst.toByteArray());
                }
                Hostile.await("the greedy tenant at its share", Duration.ofSeconds(20),
                        () -> h.sum(ConnectionStats::ioBufferBytes) >= (120L << 20));
                Thread.sleep(1200); // a sweep later: everything the greedy tenant could take, it holds
                assertThat(h.sum(ConnectionStats::requestsInUse)).as("request slots held").isLessThanOrEqualTo(2048);
                try (Hostile.Load good = new Hostile.Load(h.portB, 8)) {
                    assertThat(good.completedDuring(1500)).as("the other tenant, on the same loop").isPositive();
                    assertThat(good.failed.get()).as("the other tenant's failures: %s", good.failure()).isZero();
                }
                // The good tenant's connection was just closed by its client: the server counts it closed once it has
                // read the FIN, a moment later (asserting at once raced with that under load).
                Hostile.await("the good tenant's connection closed", Duration.ofSeconds(10), () -> h.open() <= connections);
                assertThat(h.open()).as("no greedy connection was dropped").isEqualTo(connections);
            } finally {
                for (Socket s : greedy) s.close();
            }
        }
    }

    @Test
    void aSlowReaderThatKeepsReadingIsServedInFull() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 1, CAP));
             Socket slow = new Socket()) {
            slow.setReceiveBufferSize(64 * 1024);
            slow.connect(new InetSocketAddress("127.0.0.1", h.portA));
            int requests = 64;
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < requests; i++) burst.write(Hostile.get(i, (long) i * REPLY_SECTORS, REPLY_SECTORS));
            slow.getOutputStream().write(burst.toByteArray());
            // 16 MiB of replies, 1 MiB about every 200 ms: many request timeouts long, progress all the way.
            InputStream in = slow.getInputStream();
            slow.setSoTimeout(10_000);
            long want = (long) requests * (24 + REPLY_SECTORS * 512L), got = 0;
            byte[] chunk = new byte[64 * 1024];
            while (got < want) {
                for (int i = 0; i < 16 && got < want; i++) {
                    int n = in.read(chunk, 0, (int) Math.min(chunk.length, want - got));
                    assertThat(n).as("connection open").isPositive();
                    got += n;
                }
                Thread.sleep(200);
            }
            assertThat(h.closed(CloseReason.SEND_TIMEOUT)).isZero();
            assertThat(h.open()).isEqualTo(1);
        }
    }
}

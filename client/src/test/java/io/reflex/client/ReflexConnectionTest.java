package io.reflex.client;

import io.reflex.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReflexConnectionTest {
    private LoopbackServer server;

    @BeforeEach
    void start() throws IOException {
        server = new LoopbackServer(1 << 16);
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private ReflexConnection open(ClientOptions o) throws IOException {
        return ReflexConnection.open("127.0.0.1", server.port(), o);
    }

    /** Records completions; fields are primitive so recording allocates nothing. */
    static final class Recorder implements CompletionListener {
        long completed;
        long errors;
        long tagSum;
        int lastFirstByte;
        long lastTag = -1;
        int lastStatus;

        @Override
        public void onComplete(long userTag, int status, ByteBuffer data) {
            completed++;
            tagSum += userTag;
            lastTag = userTag;
            lastStatus = status;
            if (status != Status.OK) errors++;
            if (data.hasRemaining()) lastFirstByte = data.get(data.position());
        }
    }

    private static void pollUntil(ReflexConnection c, Recorder r, long completed) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (r.completed < completed) {
            c.flushSends();
            c.poll(r);
            if (System.nanoTime() > deadline) throw new AssertionError("only " + r.completed + " of " + completed + " completed");
        }
    }

    @Test
    void keepsAThousandRequestsInFlightOnOneConnection() throws Exception {
        server.holdReplies(true);
        try (ReflexConnection c = open(ClientOptions.defaults().withMaxInFlight(1000))) {
            Recorder r = new Recorder();
            for (int i = 0; i < 1000; i++) assertThat(c.submitRead(i, 1, null, i)).isTrue();
            assertThat(c.submitRead(0, 1, null, 0)).as("slots exhausted").isFalse();
            assertThat(c.inFlight()).isEqualTo(1000);
            c.flushSends();
            while (server.requests() < 1000) c.poll(r);
            assertThat(r.completed).isZero();
            assertThat(c.inFlight()).isEqualTo(1000);
        }
    }

    @Test
    void thousandPipelinedReadsCompleteWithTheirOwnTagsAndData() throws Exception {
        for (int i = 0; i < 1000; i++) server.disk()[i * 512] = (byte) i;
        try (ReflexConnection c = open(ClientOptions.defaults())) {
            ByteBuffer[] dst = new ByteBuffer[1000];
            for (int i = 0; i < 1000; i++) {
                dst[i] = ByteBuffer.allocate(512);
                assertThat(c.submitRead(i, 1, dst[i], i)).isTrue();
            }
            Recorder r = new Recorder();
            pollUntil(c, r, 1000);
            assertThat(r.errors).isZero();
            assertThat(r.tagSum).isEqualTo(999L * 1000 / 2);
            for (int i = 0; i < 1000; i++) assertThat(dst[i].get(0)).isEqualTo((byte) i);
            assertThat(dst[0].position()).isZero();
        }
    }

    @Test
    void dataViewShowsTheReadPayload() throws Exception {
        server.disk()[7 * 512] = 42;
        try (ReflexConnection c = open(ClientOptions.defaults())) {
            c.submitRead(7, 1, null, 99);
            Recorder r = new Recorder();
            pollUntil(c, r, 1);
            assertThat(r.lastTag).isEqualTo(99);
            assertThat(r.lastFirstByte).isEqualTo(42);
        }
    }

    @Test
    void flushIsRefusedInLegacyModeAndServedInExtendedMode() throws Exception {
        try (ReflexConnection legacy = open(ClientOptions.defaults())) {
            assertThatThrownBy(() -> legacy.submitFlush(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("extended");
        }
        try (ReflexConnection ext = open(ClientOptions.defaults().withExtended(true))) {
            assertThat(ext.submitFlush(5)).isTrue();
            Recorder r = new Recorder();
            pollUntil(ext, r, 1);
            assertThat(r.lastTag).isEqualTo(5);
            assertThat(r.lastStatus).isEqualTo(Status.OK);
        }
    }

    @Test
    void badSizesAreRejectedBeforeAnythingIsQueued() throws Exception {
        try (ReflexConnection c = open(ClientOptions.defaults())) {
            assertThatThrownBy(() -> c.submitRead(0, 0, null, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.submitRead(0, 4096, null, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.submitRead(0, 2, ByteBuffer.allocate(512), 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("destination");
            assertThatThrownBy(() -> c.submitWrite(0, ByteBuffer.allocate(513), 0)).isInstanceOf(IllegalArgumentException.class);
            assertThat(c.inFlight()).isZero();
            assertThat(c.hasPendingSends()).isFalse();
        }
    }

    @Test
    void serverCloseReportsEveryOutstandingRequestOnceWithStatusClosed() throws Exception {
        server.holdReplies(true);
        try (ReflexConnection c = open(ClientOptions.defaults())) {
            for (int i = 0; i < 10; i++) c.submitRead(i, 1, null, i);
            c.flushSends();
            Recorder r = new Recorder();
            while (server.requests() < 10) c.poll(r);
            server.dropConnections();
            pollUntil(c, r, 10);
            assertThat(r.errors).isEqualTo(10);
            assertThat(r.lastStatus).isEqualTo(ReflexConnection.STATUS_CLOSED);
            assertThat(c.isOpen()).isFalse();
            assertThat(c.closeCause()).hasMessageContaining("closed by server");
            assertThat(c.poll(r)).isZero();
            assertThatThrownBy(() -> c.submitRead(0, 1, null, 0)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void steadyStateReadsAllocateNothing() throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (ReflexConnection c = open(ClientOptions.defaults())) {
            Recorder r = new Recorder();
            ByteBuffer dst = ByteBuffer.allocateDirect(4096);
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            runBatches(c, r, dst, src, 2_000); // warm up: JIT, NIO's lazily created internals
            long before = threads.getCurrentThreadAllocatedBytes();
            runBatches(c, r, dst, src, 20_000);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(r.errors).isZero();
            assertThat(allocated).as("bytes allocated by 20,000 requests").isLessThan(4096);
        }
    }

    /** Batches of 32 requests (reads, every 4th a write), flushed in one go, polled to completion. */
    private static void runBatches(ReflexConnection c, Recorder r, ByteBuffer dst, ByteBuffer src, int requests) {
        long target = r.completed;
        for (int i = 0; i < requests; i += 32) {
            for (int j = 0; j < 32; j++) {
                long lba = (i + j) % 1000 * 8L;
                boolean ok = (j & 3) == 3 ? c.submitWrite(lba, src, j) : c.submitRead(lba, 8, j == 0 ? dst : null, j);
                if (!ok) throw new AssertionError("connection full");
            }
            target += 32;
            pollUntil(c, r, target);
        }
    }

    @Test
    void extendedReadErrorCarriesNoDataAndKeepsTheStreamInSync() throws Exception {
        server.fail(3, Status.EIO);
        try (ReflexConnection c = open(ClientOptions.defaults().withExtended(true))) {
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 8; i++) c.submitRead(i, 1, null, i);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (statuses.size() < 8 && System.nanoTime() < deadline) {
                c.flushSends();
                c.poll((tag, status, data) -> statuses.add(tag == 3 ? status : status + (data.remaining() == 512 ? 0 : 100)));
            }
            assertThat(statuses).hasSize(8).containsOnlyOnce(Status.EIO).containsOnly(Status.OK, Status.EIO);
        }
    }
}

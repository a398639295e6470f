package io.reflex.dataplane.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.qos.GlobalBucket;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.CompletionHandler;
import io.reflex.dataplane.storage.EngineOptions;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.dataplane.storage.StorageEngine;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The loop's submit policy: a request that finds the device idle is submitted alone and at once; while the device is
 * busy, no submit carries more than {@code submitBatch} requests (a burst is not held back until all of it is parsed).
 */
class SubmitBatchingTest {
    private static final int BATCH = 4;
    private static final int BURST = 32;

    @Test
    void aBurstReachesTheDeviceInSmallSubmitsStartingWithTheFirstRequest() throws Exception {
        DeviceModel model = DeviceModels.load("null");
        try (StorageEngine engine = Engines.open("memory", null, new EngineOptions(false, 8 << 20));
             ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            RecordingQueue queue = new RecordingQueue(engine.openQueue(256));
            var config = new DataplaneLoop.Config(0, 4, 4096, 256, 16L << 20, 2048, PollMode.BLOCK, -1, BATCH);
            DataplaneLoop loop = new DataplaneLoop(config, queue, new TokenScheduler(4, 2048, new GlobalBucket(1), model),
                    model, new DataplaneLoop.Listener() {
                        @Override public void connectionOpened(int l, int slot) {}
                        @Override public void connectionClosed(int l, int slot) {}
                    });
            loop.start();
            try {
                loop.setTenant(0, "t", 0, (8 << 20) / 512, null, new TenantStats(0));
                loop.setRate(0, false, Double.POSITIVE_INFINITY);
                loop.listen(server, 0, loop::adopt);
                try (SocketChannel client = SocketChannel.open(server.getLocalAddress())) {
                    client.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    for (int round = 0; round < 3; round++) {
                        queue.batches.clear();
                        burst(client);
                    }
                }
            } finally {
                loop.stop();
            }
            // The last round's burst arrived while the device was idle (the previous burst had completed).
            List<Integer> batches = List.copyOf(queue.batches);
            assertThat(batches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(BURST);
            assertThat(batches).allSatisfy(n -> assertThat(n).isBetween(1, BATCH));
            assertThat(batches.getFirst()).as("first request of a burst to an idle device").isEqualTo(1);
        }
    }

    /** BURST 4 KiB GETs in one write, then every reply. */
    private static void burst(SocketChannel ch) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(BURST * ReflexHeader.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        ReflexHeader h = new ReflexHeader();
        for (int i = 0; i < BURST; i++) {
            h.wrap(out, i * ReflexHeader.LENGTH).magic(ReflexHeader.LENGTH).opcode(Opcode.GET).handle(i).lba(8L * i).lbaCount(8);
        }
        while (out.hasRemaining()) ch.write(out);
        ByteBuffer in = ByteBuffer.allocate(BURST * (ReflexHeader.LENGTH + 4096));
        while (in.hasRemaining()) {
            if (ch.read(in) < 0) throw new IOException("server closed the connection");
        }
    }

    /** Counts how many prepared requests each submit hands to the device. */
    private static final class RecordingQueue implements IoQueue {
        final List<Integer> batches = new CopyOnWriteArrayList<>();
        private final IoQueue q;
        private int prepared;

        RecordingQueue(IoQueue q) { this.q = q; }

        @Override
        public boolean prepRead(long userData, long offset, MemorySegment buffer, int length) {
            return counted(q.prepRead(userData, offset, buffer, length));
        }

        @Override
        public boolean prepWrite(long userData, long offset, MemorySegment buffer, int length) {
            return counted(q.prepWrite(userData, offset, buffer, length));
        }

        @Override
        public boolean prepFlush(long userData) { return counted(q.prepFlush(userData)); }

        private boolean counted(boolean ok) {
            if (ok) prepared++;
            return ok;
        }

        @Override
        public int submit() {
            if (prepared > 0) batches.add(prepared);
            prepared = 0;
            return q.submit();
        }

        @Override public int reap(CompletionHandler handler, int max) { return q.reap(handler, max); }
        @Override public void awaitCompletion(long timeoutNanos) { q.awaitCompletion(timeoutNanos); }
        @Override public int inFlight() { return q.inFlight(); }
        @Override public int depth() { return q.depth(); }
        @Override public MemorySegment allocateBuffer(long bytes) { return q.allocateBuffer(bytes); }
        @Override public void close() { q.close(); }
    }
}

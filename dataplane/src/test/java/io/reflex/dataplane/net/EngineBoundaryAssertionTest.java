package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.qos.GlobalBucket;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.EngineOptions;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.StorageEngine;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.protocol.Opcode;
import org.junit.jupiter.api.Test;

import java.nio.channels.SocketChannel;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The loop's engine-boundary assertion ({@code DataplaneLoop.dispatch}) is live in tests (surefire runs with -ea):
 * a request whose device range leaves its tenant's window — what a parser bug would produce — stops at the device
 * queue with an AssertionError that names it. The fuzz targets (io.reflex.dataplane.fuzz) rely on it.
 */
class EngineBoundaryAssertionTest {
    @Test
    void aRequestOneSectorPastItsTenantsWindowNeverReachesTheDevice() throws Exception {
        DeviceModel model = DeviceModels.load("null");
        try (StorageEngine engine = Engines.open("memory", null, new EngineOptions(true, 8L << 20));
             SocketChannel unconnected = SocketChannel.open()) {
            var config = new DataplaneLoop.Config(0, 4, 64, 16, 1L << 20, 16, PollMode.BLOCK, -1, 1);
            DataplaneLoop loop = new DataplaneLoop(config, engine.openQueue(8), new TokenScheduler(4, 16, new GlobalBucket(1), model),
                    model, new DataplaneLoop.Listener() {
                        @Override public void connectionOpened(int l, int slot) {}
                        @Override public void connectionClosed(int l, int slot) {}
                    });
            loop.setTenant(0, "t", 2048, 2048, null, new TenantStats(0));
            Throwable[] caught = new Throwable[1];
            int[] prepared = new int[1];
            loop.execute(() -> {
                try {
                    Connection c = new Connection(loop, unconnected, loop.tenantAt(0));
                    int id = loop.requests.acquire();
                    loop.requests.connection[id] = c;
                    loop.requests.opcode[id] = Opcode.SET;
                    loop.requests.length[id] = 512;
                    loop.requests.buffer[id] = loop.buffers.acquire(512);
                    loop.requests.deviceOffset[id] = (2048L + 2048) * 512; // the first sector of whoever comes next
                    loop.dispatch(0, id);
                    prepared[0] = loop.io().inFlight();
                } catch (Throwable t) {
                    caught[0] = t;
                } finally {
                    loop.stop();
                }
            });
            loop.run(); // on this thread, until the task stops it
            assertThat(caught[0]).isInstanceOf(AssertionError.class)
                    .hasMessage("SET of 512 bytes at device offset 2097152 is outside tenant t's extent [1048576, 2097152)");
            assertThat(prepared[0]).as("requests handed to the device").isZero();
        }
    }
}

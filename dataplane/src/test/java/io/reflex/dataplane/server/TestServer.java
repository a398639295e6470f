package io.reflex.dataplane.server;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import io.reflex.dataplane.tenant.SloTable;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Starts a real dataplane on loopback for tests. */
final class TestServer {
    private TestServer() {}

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static DataplaneConfig memory(long bytes, int threads, String model, Path table) {
        return new DataplaneConfig(null, "memory", bytes, new InetSocketAddress("127.0.0.1", freePort()), table, model,
                threads, PollMode.ADAPTIVE, true, true, 128, null);
    }

    static DataplaneConfig device(Path device, String engine, int threads) {
        return new DataplaneConfig(device, engine, 0, new InetSocketAddress("127.0.0.1", freePort()), null, "null",
                threads, PollMode.ADAPTIVE, true, true, 128, null);
    }

    static SloTable table(String yaml, long deviceSectors) {
        return SloTable.parse(yaml.getBytes(StandardCharsets.UTF_8), "test", deviceSectors);
    }

    static Dataplane start(DataplaneConfig c) {
        return Dataplane.start(c);
    }
}

package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.qos.GlobalBucket;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.EngineOptions;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.StorageEngine;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which network path a loop takes: auto picks io_uring exactly where it is available, every choice can be forced. */
class NetPathChoiceTest {
    private static final DeviceModel MODEL = DeviceModels.load("null");

    private static String pathOf(NetMode mode, String engine, Path dir) throws Exception {
        Path file = dir.resolve("dev.img");
        if (!Files.exists(file)) {
            try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.allocate(1 << 20));
            }
        }
        try (StorageEngine e = Engines.open(engine, file, new EngineOptions(false, engine.equals("memory") ? 1 << 20 : 0))) {
            var config = new DataplaneLoop.Config(0, 4, 64, 16, 4L << 20, 64, PollMode.BLOCK, -1, 4,
                    ConnectionLimits.DEFAULTS, mode, 0);
            DataplaneLoop loop = new DataplaneLoop(config, e.openQueue(16), new TokenScheduler(4, 64, new GlobalBucket(1), MODEL), MODEL,
                    new DataplaneLoop.Listener() {
                        @Override public void connectionOpened(int l, int slot) {}
                        @Override public void connectionClosed(int l, int slot) {}
                    });
            loop.setTenant(0, "t", 0, 2048, null, new TenantStats(0));
            loop.start();
            loop.stop();
            return loop.netPath();
        }
    }

    @Test
    void autoTakesIoUringExactlyWhereItIsAvailable(@TempDir Path dir) throws Exception {
        String reason = UringNet.unavailableReason();
        String path = pathOf(NetMode.AUTO, "memory", dir);
        if (reason == null) assertThat(path).startsWith("io_uring, own ring");
        else assertThat(path).isEqualTo("epoll");
    }

    @Test
    void theIoUringEngineSharesItsRing(@TempDir Path dir) throws Exception {
        if (UringNet.unavailableReason() != null) return;
        assertThat(pathOf(NetMode.URING, "uring", dir)).startsWith("io_uring, sharing the device ring");
        assertThat(pathOf(NetMode.URING, "file", dir)).startsWith("io_uring, own ring");
    }

    @Test
    void epollCanAlwaysBeForced(@TempDir Path dir) throws Exception {
        assertThat(pathOf(NetMode.EPOLL, "memory", dir)).isEqualTo("epoll");
        assertThat(pathOf(NetMode.EPOLL, "uring", dir)).isEqualTo("epoll");
    }

    @Test
    void forcingIoUringWhereItIsMissingNamesTheReason() {
        if (UringNet.unavailableReason() == null) {
            assertThat(NetMode.URING.useUring()).isTrue();
        } else {
            assertThatThrownBy(NetMode.URING::useUring).hasMessageContaining(UringNet.unavailableReason());
        }
    }

    @Test
    void badValuesGetTheChoices() {
        assertThat(NetMode.parse(" Uring ")).isEqualTo(NetMode.URING);
        assertThatThrownBy(() -> NetMode.parse("kqueue")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kqueue").hasMessageContaining("auto | uring | epoll");
    }
}

package io.reflex.dataplane.calibrate;

import io.reflex.devmodels.calibration.LoadPoint;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Through a dataplane started in-process on a real O_DIRECT file, over real TCP on loopback. */
class DataplaneLoadDriverTest {
    private static final long MIB = 1 << 20;

    @Test
    void measuresThroughTheDataplane() throws Exception {
        String engine = io.reflex.dataplane.storage.Engines.uringAvailable() ? "uring" : "file";
        Path f = TestDevices.file("dataplane.img", 32 * MIB);
        try (DataplaneLoadDriver d = DataplaneLoadDriver.open(f, engine, 16 * MIB, true)) {
            assertThat(d.describe()).contains("a dataplane in this process", engine + " engine", "QoS off", "TCP", f.toString(), "16 MiB span");
            LoadPoint open = d.openLoop(80, 500, Duration.ofSeconds(2));
            assertThat(open.errors()).isZero();
            assertThat(open.iops()).isCloseTo(500, within(75.0));
            assertThat(open.readIops() / open.iops()).isCloseTo(0.80, within(0.05));
            assertThat(open.readP95Micros()).isPositive().isGreaterThanOrEqualTo(open.readP50Micros()).isLessThan(1_000_000);
            assertThat(open.writeP95Micros()).isPositive();
            LoadPoint closed = d.closedLoop(100, 8, Duration.ofMillis(500));
            assertThat(closed.errors()).isZero();
            assertThat(closed.readIops()).isPositive();
            assertThat(closed.writeIops()).isZero();
        }
    }

    @Test
    void preconditionsTheSpanOverTheNetwork() throws Exception {
        Path f = TestDevices.sparse("dataplane-pre.img", 16 * MIB);
        List<Double> progress = new ArrayList<>();
        try (DataplaneLoadDriver d = DataplaneLoadDriver.open(f, "file", 4 * MIB, false)) {
            d.precondition(progress::add);
        }
        assertThat(progress).isSorted().first().isEqualTo(0.0);
        assertThat(progress).last().isEqualTo(1.0);
        try (FileChannel ch = FileChannel.open(f)) {
            ByteBuffer b = ByteBuffer.allocate(4096);
            ch.read(b, 3 * MIB);
            assertThat(b.array()).as("a block inside the span").containsAnyOf((byte) 1, (byte) 3, (byte) 5, (byte) 7, (byte) -1);
        }
    }

    @Test
    void badInputsAreRefusedBeforeAnythingStarts() throws Exception {
        Path f = TestDevices.sparse("dataplane-bad.img", 16 * MIB);
        assertThatThrownBy(() -> DataplaneLoadDriver.open(Path.of("target", "calibrate-test", "missing.img"), "file", 0, true))
                .isInstanceOf(IOException.class).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> DataplaneLoadDriver.open(f, "file", 4097, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 4096");
        assertThatThrownBy(() -> DataplaneLoadDriver.open(f, "file", 64 * MIB, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than");
    }
}

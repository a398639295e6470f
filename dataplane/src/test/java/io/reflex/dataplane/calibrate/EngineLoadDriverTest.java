package io.reflex.dataplane.calibrate;

import io.reflex.devmodels.calibration.LoadPoint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The direct driver on a real file opened O_DIRECT, with each engine. Asserts behaviour, not speed. */
class EngineLoadDriverTest {
    private static final long MIB = 1 << 20;

    @ParameterizedTest
    @ValueSource(strings = {"uring", "file"})
    void openLoopDeliversTheOfferedRateAndMix(String engine) throws Exception {
        TestDevices.assumeEngine(engine);
        try (EngineLoadDriver d = EngineLoadDriver.open(TestDevices.file("open-" + engine + ".img", 64 * MIB), engine, 0, true)) {
            d.warmup(Duration.ofMillis(200));
            LoadPoint p = d.openLoop(70, 500, Duration.ofSeconds(2));
            assertThat(p.errors()).isZero();
            assertThat(p.offeredIops()).isEqualTo(500);
            assertThat(p.seconds()).isEqualTo(2.0);
            // Poisson arrivals over 2 s: ~1000 requests, so within 15% of the rate and 5 points of the mix (a rate that O_DSYNC
            // writes on ext4 through the file engine sustain on a slow VM disk).
            assertThat(p.iops()).isCloseTo(500, within(75.0));
            assertThat(p.readIops() / p.iops()).isCloseTo(0.70, within(0.05));
            assertThat(p.readP95Micros()).isPositive().isGreaterThanOrEqualTo(p.readP50Micros()).isLessThan(1_000_000);
            assertThat(p.writeP95Micros()).isPositive().isLessThan(1_000_000);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "file"})
    void closedLoopKeepsTheQueueBusy(String engine) throws Exception {
        TestDevices.assumeEngine(engine);
        try (EngineLoadDriver d = EngineLoadDriver.open(TestDevices.file("closed-" + engine + ".img", 64 * MIB), engine, 32 * MIB, true)) {
            LoadPoint reads = d.closedLoop(100, 8, Duration.ofMillis(500));
            assertThat(reads.offeredIops()).isZero();
            assertThat(reads.errors()).isZero();
            assertThat(reads.readIops()).isPositive();
            assertThat(reads.writeIops()).isZero();
            assertThat(reads.writeP95Micros()).isZero();
            LoadPoint mixed = d.closedLoop(50, 8, Duration.ofMillis(500));
            assertThat(mixed.readIops()).isPositive();
            assertThat(mixed.writeIops()).isPositive();
            assertThat(mixed.errors()).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "file"})
    void preconditionWritesTheWholeSpanWithData(String engine) throws Exception {
        TestDevices.assumeEngine(engine);
        Path f = TestDevices.sparse("pre-" + engine + ".img", 32 * MIB);
        List<Double> progress = new ArrayList<>();
        try (EngineLoadDriver d = EngineLoadDriver.open(f, engine, 16 * MIB + 4096, false)) {
            d.precondition(progress::add);
        }
        assertThat(progress).isSorted().first().isEqualTo(0.0);
        assertThat(progress).last().isEqualTo(1.0);
        assertThat(progress.size()).isGreaterThanOrEqualTo(3);
        try (FileChannel ch = FileChannel.open(f)) {
            assertThat(nonZero(ch, 0)).isTrue();
            assertThat(nonZero(ch, 5 * MIB + 8192)).isTrue();
            assertThat(nonZero(ch, 16 * MIB)).as("the last, short chunk").isTrue();
            assertThat(nonZero(ch, 16 * MIB + 4096)).as("beyond the span").isFalse();
        }
    }

    @Test
    void interruptStopsAPointAndLeavesTheDriverUsable() throws Exception {
        TestDevices.assumeEngine("uring");
        try (EngineLoadDriver d = EngineLoadDriver.open(TestDevices.file("interrupt.img", 16 * MIB), "uring", 0, true)) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    d.openLoop(50, 2000, Duration.ofSeconds(60));
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            Thread.sleep(300);
            t.interrupt();
            t.join(15_000);
            assertThat(t.isAlive()).isFalse();
            assertThat(thrown.get()).isInstanceOf(InterruptedIOException.class);
            assertThat(d.closedLoop(100, 4, Duration.ofMillis(200)).errors()).isZero();
        }
    }

    @Test
    void badInputsAreRefusedWithTheReason() throws Exception {
        Path f = TestDevices.file("bad.img", 16 * MIB);
        assertThatThrownBy(() -> EngineLoadDriver.open(Path.of("target", "calibrate-test", "missing.img"), "file", 0, true))
                .isInstanceOf(IOException.class).hasMessageContaining("missing.img does not exist");
        assertThatThrownBy(() -> EngineLoadDriver.open(f, "file", 5000, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a multiple of 4096");
        assertThatThrownBy(() -> EngineLoadDriver.open(f, "file", 32 * MIB, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("span 32 MiB is larger than").hasMessageContaining("16 MiB");
        assertThatThrownBy(() -> EngineLoadDriver.open(f, "memory", 0, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("uring or file");
        try (EngineLoadDriver d = EngineLoadDriver.open(f, "file", 0, true)) {
            assertThat(d.spanBytes()).isEqualTo(16 * MIB);
            assertThat(d.describe()).contains("O_DIRECT", f.toString(), "16 MiB span", "O_DSYNC");
            assertThatThrownBy(() -> d.openLoop(101, 100, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> d.openLoop(100, 0, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> d.closedLoop(100, 1000, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static boolean nonZero(FileChannel ch, long offset) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096);
        ch.read(b, offset);
        for (int i = 0; i < 4096; i++) if (b.get(i) != 0) return true;
        return false;
    }
}

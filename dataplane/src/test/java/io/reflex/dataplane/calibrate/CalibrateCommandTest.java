package io.reflex.dataplane.calibrate;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** reflex-calibrate end to end on a real 64 MiB file with the quick plan; and its user errors. */
class CalibrateCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return CalibrateCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void quickCalibrationWritesAModelThatLoadsAndAPlot() throws Exception {
        Path dev = TestDevices.file("cli.img", 64L << 20);
        Path model = dev.resolveSibling("cli-quick.yaml");
        Path png = dev.resolveSibling("cli-quick.png");
        Files.deleteIfExists(model);
        Files.deleteIfExists(png);
        // 1 s points rather than the quick plan's 150 ms: one scheduling hiccup on a busy 2-vCPU machine would else
        // decide a point's p95.
        int rc = run("--device", dev.toString(), "--quick", "--duration-per-point", "1", "--out", model.toString(), "--plot", png.toString());
        // A machine so busy that even the lightest load misses every p95 target (seen at load average 10 on 2 vCPUs)
        // cannot give a model; the calibrator says so, which is right, but says nothing about this code: skip.
        Assumptions.assumeFalse(rc == 1 && err.toString(StandardCharsets.UTF_8).contains("is slower than every target"),
                "this machine is too loaded for any p95 target: " + err);
        assertThat(rc).as("stderr: %s", err).isZero();
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertThat(stdout).contains("quick plan", "reads 100/90/50%", "O_DIRECT", "open-loop points", "wrote " + model);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("% ");
        DeviceModel m = DeviceModels.load(model);
        assertThat(m.name()).isEqualTo("cli-quick");
        assertThat(m.unlimited()).isFalse();
        assertThat(m.writeCost4k()).isPositive();
        assertThat(m.tokenLimits()).isNotEmpty();
        byte[] head = Files.readAllBytes(png);
        assertThat(head.length).isGreaterThan(1000);
        assertThat(new String(head, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    @Test
    void userErrorsAreOneLineAndNonZero() throws Exception {
        Path dev = TestDevices.sparse("cli-bad.img", 16L << 20);
        assertThat(run("--device", "target/calibrate-test/missing.img", "--quick")).isEqualTo(1);
        assertOneLine("does not exist");
        assertThat(run("--device", dev.toString(), "--quick", "--span", "5000")).isEqualTo(1);
        assertOneLine("not a multiple of 4096");
        assertThat(run("--device", dev.toString(), "--quick", "--span", "1Gi")).isEqualTo(1);
        assertOneLine("is larger than");
        assertThat(run("--device", dev.toString(), "--engine", "memory")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--engine must be uring, file or auto");
        err.reset();
        assertThat(run("--quick")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Missing required option: '--device=PATH'");
    }

    private void assertOneLine(String message) {
        String e = err.toString(StandardCharsets.UTF_8);
        assertThat(e).startsWith("reflex-calibrate: ").contains(message).doesNotContain("Exception", "\tat ");
        assertThat(e.strip().lines()).hasSize(1);
        err.reset();
        out.reset();
    }
}

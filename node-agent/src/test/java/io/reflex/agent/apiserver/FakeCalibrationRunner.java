package io.reflex.agent.apiserver;

import io.reflex.agent.calibration.CalibrationRunner;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TokenLimit;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Stands in for the devmodels calibrator where a test is about the agent, not the measurement (whose outcome depends
 * on how busy this machine's disk is): takes {@code seconds},
 * reporting progress every 200 ms, writes one 4 KiB block at the start of the device (as a calibration would write),
 * and returns a fixed model whose write cost is the number of the attempt (so a recalibration is visible).
 * Interruptible like the real one. Selected in {@link LocalAgentMain} by -Dreflex.test.calibrator=fake:SECONDS.
 */
final class FakeCalibrationRunner implements CalibrationRunner {
  private final double seconds;
  private int runs;

  FakeCalibrationRunner(double seconds) {
    this.seconds = seconds;
  }

  @Override
  public Calibration run(Target t, CalibrationListener listener) throws IOException {
    int run = ++runs;
    long total = (long) (seconds * 1000);
    long t0 = System.currentTimeMillis();
    try (RandomAccessFile f = new RandomAccessFile(t.path().toFile(), "rw")) {
      f.write(new byte[4096]);
    }
    for (long done = 0; done < total; done = System.currentTimeMillis() - t0) {
      listener.progress((double) done / total, Duration.ofMillis(total - done), "fake point " + (done / 200 + 1));
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        throw new InterruptedIOException("calibration interrupted");
      }
    }
    DeviceModel m = new DeviceModel(t.device(), "fake calibration " + run + " of " + t.path(), 100, 500 + run, false,
        List.of(new TokenLimit(500, 20_000_000, 40_000_000), new TokenLimit(1000, 30_000_000, 60_000_000),
            new TokenLimit(2000, 35_000_000, 70_000_000)));
    String yaml = "# fake calibration (test stand-in) of " + t.path() + "\n# method: none\n" + DeviceModels.toYaml(m);
    return new Calibration(m, yaml, List.of(), List.of(), (500.0 + run) / 100, "fake", "fake driver on " + t.path(),
        Instant.now());
  }

  @Override
  public String describe() {
    return "fake calibrator, " + seconds + " s";
  }
}

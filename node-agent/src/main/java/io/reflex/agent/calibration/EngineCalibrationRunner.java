package io.reflex.agent.calibration;

import io.reflex.agent.config.CalibrationSettings;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationException;
import io.reflex.devmodels.calibration.CalibrationListener;
import io.reflex.devmodels.calibration.Calibrator;
import io.reflex.devmodels.calibration.LoadDriver;
import java.io.IOException;

/**
 * The devmodels {@link Calibrator} over the dataplane's storage engine ({@link LoadDrivers}): the device alone, without
 * the network. The agent measures this way because it calibrates before the device is offered, when no dataplane
 * serves it and no tenant (hence no port, token or client) exists; the network's cost on top is small next to
 * flash latency and the same for every device of a node (bench/calibrate-dataplane.sh measures it when wanted).
 */
public final class EngineCalibrationRunner implements CalibrationRunner {
  private final CalibrationSettings settings;

  public EngineCalibrationRunner(CalibrationSettings settings) {
    this.settings = settings;
  }

  @Override
  public Calibration run(Target t, CalibrationListener listener) throws IOException, CalibrationException {
    try (LoadDriver driver = LoadDrivers.open(t.path(), t.engine(), t.spanBytes(), t.syncWrites())) {
      return new Calibrator(settings.toPlan(), listener).run(driver, t.device(),
          "calibrated by the node agent on " + t.node() + ": " + driver.describe());
    } catch (UnsupportedOperationException e) { // a devmodels build whose calibrator is a stub
      throw new CalibrationException("this build's calibrator is not implemented (" + e.getMessage() + ")");
    }
  }

  @Override
  public String describe() {
    return settings.describe();
  }
}

package io.reflex.agent.calibration;

import io.reflex.agent.config.CalibrationSettings;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationException;
import io.reflex.devmodels.calibration.CalibrationListener;
import io.reflex.devmodels.calibration.Calibrator;
import io.reflex.devmodels.calibration.LoadDriver;
import java.io.IOException;

/**
 * The devmodels {@link Calibrator} over the driver {@link LoadDrivers} makes: by default through a dataplane of its own
 * on loopback (before the device is offered, so no tenant's dataplane serves it yet), or the storage engine alone.
 */
public final class DriverCalibrationRunner implements CalibrationRunner {
  private final CalibrationSettings settings;

  public DriverCalibrationRunner(CalibrationSettings settings) {
    this.settings = settings;
  }

  @Override
  public Calibration run(Target t, CalibrationListener listener) throws IOException, CalibrationException {
    try (LoadDriver driver = LoadDrivers.open(t.path(), t.engine(), t.spanBytes(), t.syncWrites(), settings.through())) {
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

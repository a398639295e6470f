package io.reflex.agent.calibration;

import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationException;
import io.reflex.devmodels.calibration.CalibrationListener;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Measures one device and fits its model (on a thread of its own; interruptible). The agent's is
 * {@link DriverCalibrationRunner}; tests may give another.
 */
@FunctionalInterface
public interface CalibrationRunner {
  /**
   * What to measure.
   *
   * @param device     the FlashDevice's name (the model's name)
   * @param path       block device or file
   * @param engine     "uring" or "file"
   * @param spanBytes  bytes measured from the start (0: the whole device)
   * @param syncWrites writes durable before they complete
   * @param node       the node (for the model's description)
   */
  record Target(String device, Path path, String engine, long spanBytes, boolean syncWrites, String node) {}

  Calibration run(Target target, CalibrationListener listener) throws IOException, CalibrationException;

  /** One line for the condition: what measures and how long it should take. */
  default String describe() {
    return "calibrator";
  }
}

package io.reflex.agent.calibration;

import io.reflex.dataplane.calibrate.EngineLoadDriver;
import io.reflex.devmodels.calibration.LoadDriver;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The one place the agent makes the {@link LoadDriver} it calibrates through: the dataplane's {@link EngineLoadDriver}
 * (4 KiB random I/O straight through the storage engine the device is served with, uring or file, O_DIRECT).
 */
public final class LoadDrivers {
  private LoadDrivers() {}

  /**
   * @param device     block device or file
   * @param engine     "uring" or "file"
   * @param spanBytes  bytes at the start of the device the load touches (0: the whole device)
   * @param syncWrites writes durable before they complete (as the dataplane serves them)
   */
  public static LoadDriver open(Path device, String engine, long spanBytes, boolean syncWrites) throws IOException {
    return EngineLoadDriver.open(device, engine, spanBytes, syncWrites);
  }
}

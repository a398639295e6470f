package io.reflex.agent.calibration;

import io.reflex.agent.config.CalibrationSettings;
import io.reflex.dataplane.calibrate.DataplaneLoadDriver;
import io.reflex.dataplane.calibrate.EngineLoadDriver;
import io.reflex.devmodels.calibration.LoadDriver;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The one place the agent makes the {@link LoadDriver} it calibrates through: by default a {@link DataplaneLoadDriver}
 * (a dataplane on loopback over the device, driven by the client library: the budget is what this node can serve, its
 * CPU included), or the {@link EngineLoadDriver} (4 KiB random I/O straight through the storage engine, O_DIRECT: what
 * the device alone can do). On this project's 2-vCPU VM the device alone reached 173K reads/s at p95 1 ms, a budget
 * whose half no dataplane sharing those CPUs with its clients could serve (LC p95 251 ms, bench/calibration/README.md).
 */
public final class LoadDrivers {
  private LoadDrivers() {}

  /**
   * @param device     block device or file
   * @param engine     "uring" or "file"
   * @param spanBytes  bytes at the start of the device the load touches (0: the whole device)
   * @param syncWrites writes durable before they complete (as the dataplane serves them)
   * @param through    {@link CalibrationSettings#DATAPLANE} or {@link CalibrationSettings#DEVICE}
   */
  public static LoadDriver open(Path device, String engine, long spanBytes, boolean syncWrites, String through) throws IOException {
    return CalibrationSettings.DEVICE.equals(through) ? EngineLoadDriver.open(device, engine, spanBytes, syncWrites)
        : DataplaneLoadDriver.open(device, engine, spanBytes, syncWrites);
  }
}

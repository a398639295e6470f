package io.reflex.crds.v1alpha1;

/** Lifecycle of a FlashDevice as the node agent reports it. */
public enum DevicePhase {
  /** Discovered, not yet serving (claiming, opening, or waiting for its dataplane). */
  Pending,
  /**
   * Its node agent is measuring it (device model {@code calibrate}): not offered to new tenants until the calibrated
   * model is published (status.calibration); see the Calibrated condition for progress.
   */
  Calibrating,
  /** Serving tenants. */
  Ready,
  /** Serving, but something is wrong (see conditions). */
  Degraded,
  /** Not usable: missing, in use by the system, or failed. */
  Unavailable
}

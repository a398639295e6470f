package io.reflex.agent.config;

import io.reflex.devmodels.calibration.CalibrationPlan;
import java.time.Duration;
import java.util.Locale;

/**
 * How the agent calibrates devices whose model is {@code calibrate} ({@code --calibration-plan},
 * {@code --calibration-duration-per-point}, {@code --calibrate-through}).
 *
 * @param plan     standard (the default: minutes, preconditioning included) or quick (tests, demos: seconds)
 * @param perPoint measured time per open-loop point, or null for the plan's own
 * @param through  dataplane (the default: a dataplane on loopback serves the load, so the budget is what the node can
 *                 serve, its CPU included) or device (the storage engine alone: what the device can do)
 */
public record CalibrationSettings(String plan, Duration perPoint, String through) {
  public static final String DATAPLANE = "dataplane", DEVICE = "device";
  public static final CalibrationSettings DEFAULT = new CalibrationSettings("standard", null, DATAPLANE);

  public CalibrationSettings {
    plan = plan == null ? "standard" : plan.trim().toLowerCase(Locale.ROOT);
    if (!plan.equals("standard") && !plan.equals("quick")) {
      throw new IllegalArgumentException("--calibration-plan must be standard or quick, got '" + plan + "'");
    }
    through = through == null ? DATAPLANE : through.trim().toLowerCase(Locale.ROOT);
    if (!through.equals(DATAPLANE) && !through.equals(DEVICE)) {
      throw new IllegalArgumentException("--calibrate-through must be dataplane or device, got '" + through + "'");
    }
    if (perPoint != null && (perPoint.isNegative() || perPoint.isZero())) {
      throw new IllegalArgumentException("--calibration-duration-per-point must be > 0 seconds, got " + perPoint);
    }
  }

  /** The calibrator's plan (devmodels). */
  public CalibrationPlan toPlan() {
    CalibrationPlan p = plan.equals("quick") ? CalibrationPlan.quick() : CalibrationPlan.standard();
    return perPoint == null ? p : p.withPerPoint(perPoint);
  }

  /** For logs and the condition: "quick plan", "standard plan, 5s per point". */
  public String describe() {
    return plan + " plan" + (perPoint == null ? "" : ", " + perPoint.toMillis() / 1000.0 + " s per point") + ", through the " + through;
  }
}

package io.reflex.agent.calibration;

import io.reflex.crds.v1alpha1.Engine;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModel;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/** The Calibrated condition's messages and the small texts they (and the logs) are made of. */
final class CalibrationTexts {
  static final String REQUEST_WITHDRAWN = "the recalibration request was withdrawn (annotation "
      + FlashDevice.RECALIBRATE_ANNOTATION + " removed)";

  private CalibrationTexts() {}

  /** Served: the model's budget and costs, where it is published, and a note (e.g. a refused request), if any. */
  static String served(PublishedModels.InForce m, DeviceModel model, String configMap, String note) {
    return "calibrated " + m.published().calibratedAt() + ": " + budgetAt1ms(model) + "; 4 KiB read "
        + model.readCost4k() + ", write " + model.writeCost4k() + " tokens; model in ConfigMap " + configMap
        + (m.inConfigMap() ? "" : " (not written yet: " + m.configMapProblem() + "; retried)")
        + (note == null ? "" : "; " + note);
  }

  /** A running calibration: what it is for, and its progress and time left once it reported any. */
  static String running(DeviceCalibrations.Job j, String calibrator) {
    DeviceCalibrations.Progress p = j.shown;
    String what = j.recalibration ? "recalibrating (request '" + j.token + "'; the previous model stays published until "
        + "the new one is complete)" : "calibrating";
    if (p == null) return what + " (" + calibrator + "): starting, since " + j.started.truncatedTo(ChronoUnit.SECONDS);
    return String.format("%s (%s): %.0f%% done, about %s left; now %s", what, calibrator, p.fraction() * 100,
        human(p.left()), p.current());
  }

  /** A calibration that is done but whose thread has not ended: cancelled (why), or finishing. */
  static String ending(String cancelReason) {
    return cancelReason == null ? "finishing the calibration" : "stopping the calibration (" + cancelReason + ")";
  }

  static String placedMeanwhile(List<String> tenants, int count) {
    return "tenant(s) " + describe(tenants, count) + " were placed on the device meanwhile";
  }

  static String holdsData(List<String> tenants, int count) {
    return "the device holds the data of " + describe(tenants, count) + " and calibration writes to it";
  }

  /** A recalibration refused for {@code why}: says how to insist. */
  static String recalibrationRefused(String token, String why) {
    return "recalibration request '" + token + "' refused: " + why + "; add annotation "
        + FlashDevice.CALIBRATION_OVERWRITES_DATA_ANNOTATION + "=\"true\" to recalibrate anyway (their data is "
        + "overwritten; the device is not served meanwhile)";
  }

  /** A first calibration refused for {@code why}: says how to insist. */
  static String calibrationRefused(String why, String cancelled) {
    return "not calibrated: " + why + (cancelled == null ? "" : " (" + cancelled + ")")
        + "; to calibrate anyway (their data is overwritten) set annotations "
        + FlashDevice.RECALIBRATE_ANNOTATION + "=TOKEN and " + FlashDevice.CALIBRATION_OVERWRITES_DATA_ANNOTATION + "=\"true\"";
  }

  static String failed(int failures, String failure, Instant retryAt, boolean recalibration) {
    return "calibration failed (attempt " + failures + "): " + failure + "; retried at " + retryAt
        + (recalibration ? " (remove annotation " + FlashDevice.RECALIBRATE_ANNOTATION
            + " to serve with the previous model meanwhile)" : "");
  }

  /** The budget at p95 1 ms, or, when the device reaches no p95 that strict, its strictest point. */
  static String budgetAt1ms(DeviceModel m) {
    if (m.unlimited() || m.tokenLimits().isEmpty()) return "no budget (unlimited)";
    var first = m.tokenLimits().getFirst();
    if (first.p95Micros() <= 1000) {
      return "budget " + Budget.human(m.tokenRateAt(1000, false)) + " tokens/s at p95 1 ms (mixed), "
          + Budget.human(m.tokenRateAt(1000, true)) + " read-only";
    }
    return "no budget at p95 1 ms (the device reaches no p95 that strict); strictest: " + Budget.human(first.mixedTokensPerSec())
        + " tokens/s at p95 " + first.p95Micros() + " µs (mixed), " + Budget.human(first.readOnlyTokensPerSec()) + " read-only";
  }

  static String human(Duration d) {
    if (d == null) return "?";
    long s = Math.max(0, d.toSeconds());
    return s >= 3600 ? (s / 3600) + "h " + (s % 3600) / 60 + "m" : s >= 60 ? (s / 60) + "m " + (s % 60) + "s" : s + "s";
  }

  /** The count, and up to three of the tenants' names. */
  static String describe(List<String> tenants, int count) {
    if (tenants.isEmpty()) return count + " tenant(s)";
    List<String> l = tenants.size() <= 3 ? tenants : tenants.subList(0, 3);
    return count + " tenant(s) (" + String.join(", ", l) + (tenants.size() > 3 ? ", ..." : "") + ")";
  }

  /** As the engine is spelled in specs and models: uring, file. */
  static String engine(Engine e) {
    return e.name().toLowerCase(Locale.ROOT);
  }
}

package io.reflex.devmodels.calibration;

import io.reflex.devmodels.DeviceModel;
import java.time.Instant;
import java.util.List;

/**
 * A finished calibration. STUB (signatures fixed; helper A1 implements).
 *
 * @param model       the fitted model
 * @param yaml        the model in the format of devmodels/models/*.yaml, its points and method in comments
 * @param points      every open-loop point measured
 * @param capacities  the closed-loop capacity probes, one per mix
 * @param writeWeight write cost relative to a read
 * @param method      how the write weight and token rates were fitted (one line)
 * @param driver      the driver's description
 * @param at          when it finished
 */
public record Calibration(DeviceModel model, String yaml, List<LoadPoint> points, List<LoadPoint> capacities,
                          double writeWeight, String method, String driver, Instant at) {}

package io.reflex.devmodels.calibration;

import io.reflex.devmodels.DeviceModel;
import java.time.Instant;
import java.util.List;

/**
 * A finished calibration: the model, its YAML (ready to save as devmodels/models/NAME.yaml) and what it came from.
 *
 * @param model       the fitted model
 * @param yaml        the model in the format of devmodels/models/*.yaml, its points and method in comments
 * @param points      every open-loop point measured, in order (read-only sweep first)
 * @param capacities  the closed-loop capacity probes, one per mix
 * @param writeWeight write cost relative to a read
 * @param method      how the write weight and token rates were fitted (one line)
 * @param driver      the driver's description
 * @param at          when it finished
 */
public record Calibration(DeviceModel model, String yaml, List<LoadPoint> points, List<LoadPoint> capacities,
                          double writeWeight, String method, String driver, Instant at) {}

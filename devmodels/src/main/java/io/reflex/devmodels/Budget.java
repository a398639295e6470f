package io.reflex.devmodels;

import java.util.List;

/**
 * The budget in force on one device for a set of tenants, and admission of one more. Used identically by the
 * operator (placement) and the dataplane (enforcement), so both always agree.
 *
 * <p>Unlike the original, the budget is a pure function of the tenant set, not of arrival order: the read-only
 * rate applies only while every LC tenant is 100% read and there is no BE tenant (BE tenants may write), and it is
 * recomputed whenever a tenant arrives or leaves.
 */
public final class Budget {
    private Budget() {}

    /** The result of evaluating a tenant set against a device model. */
    public record Evaluation(double tokenRate, long strictestP95Micros, boolean readOnly, double lcReserved,
                             int lcCount, int beCount) {
        /** Tokens/s left for BE tenants (shared equally), never negative. */
        public double spare() { return Math.max(0, tokenRate - lcReserved); }
        public double perBeShare() { return beCount == 0 ? 0 : spare() / beCount; }
        public boolean overcommitted() { return lcReserved > tokenRate; }
    }

    /** Admission decision with the reason a user sees. */
    public record Decision(boolean admitted, Evaluation after, String reason) {}

    public static Evaluation evaluate(DeviceModel model, List<TenantDemand> tenants) {
        Tally t = Tally.EMPTY;
        for (TenantDemand d : tenants) t = t.plus(model, d);
        return t.evaluation(model);
    }

    /**
     * What {@link #evaluate} needs of a tenant set, added up one tenant at a time: the operator keeps one per device
     * and evaluates a candidate as {@code tally.plus(model, candidate).evaluation(model)} without walking the device's
     * tenants again (same sums in the same order, so the same result as {@link #evaluate} over the list).
     */
    public record Tally(long strictestP95Micros, boolean allRead, double lcReserved, int lcCount, int beCount) {
        public static final Tally EMPTY = new Tally(Long.MAX_VALUE, true, 0, 0, 0);

        public Tally plus(DeviceModel model, TenantDemand t) {
            if (!t.latencyCritical()) return new Tally(strictestP95Micros, allRead, lcReserved, lcCount, beCount + 1);
            return new Tally(Math.min(strictestP95Micros, t.p95Micros()), allRead && t.readPercent() == 100,
                    lcReserved + model.reservation(t.iops(), t.readPercent()), lcCount + 1, beCount);
        }

        public Evaluation evaluation(DeviceModel model) {
            boolean readOnly = lcCount > 0 && allRead && beCount == 0;
            double rate;
            if (model.unlimited()) {
                rate = Double.POSITIVE_INFINITY;
            } else if (lcCount == 0) {
                // No SLO to protect: BE tenants may use the loosest calibrated rate.
                rate = model.tokenRateAt(Long.MAX_VALUE, false);
            } else {
                rate = model.tokenRateAt(strictestP95Micros, readOnly);
            }
            return new Evaluation(rate, lcCount == 0 ? 0 : strictestP95Micros, readOnly, lcReserved, lcCount, beCount);
        }
    }

    /** Would the device still honour every LC reservation with {@code candidate} added? */
    public static Decision admit(DeviceModel model, List<TenantDemand> existing, TenantDemand candidate) {
        var all = new java.util.ArrayList<TenantDemand>(existing.size() + 1);
        all.addAll(existing);
        all.add(candidate);
        Evaluation after = evaluate(model, all);
        if (candidate.latencyCritical() && !model.reaches(candidate.p95Micros())) {
            return new Decision(false, after, unreachable(model, candidate));
        }
        if (!after.overcommitted()) return new Decision(true, after, "fits");
        String reason = candidate.latencyCritical()
                ? String.format("cannot satisfy %s: needs %s tokens/s (%d IOPS, %d%% read) at p95 %dµs; device budget there is %s, of which %s already reserved",
                        candidate.name(), human(model.reservation(candidate.iops(), candidate.readPercent())),
                        candidate.iops(), candidate.readPercent(), after.strictestP95Micros(), human(after.tokenRate()),
                        human(after.lcReserved() - model.reservation(candidate.iops(), candidate.readPercent())))
                : String.format("cannot add BE tenant %s: it forces the mixed (read/write) budget %s tokens/s, below the %s reserved by LC tenants",
                        candidate.name(), human(after.tokenRate()), human(after.lcReserved()));
        return new Decision(false, after, reason);
    }

    /** Why an LC tenant whose SLO is stricter than every point of the device's model is refused. */
    private static String unreachable(DeviceModel model, TenantDemand candidate) {
        return String.format("cannot satisfy %s: p95 %dµs is stricter than device model %s was measured to meet "
                        + "(its strictest point is p95 %dµs); ask for p95 >= %dµs or place it on a faster device",
                candidate.name(), candidate.p95Micros(), model.name(), model.strictestP95Micros(), model.strictestP95Micros());
    }

    /** 4.1M, 850K, 12 — for messages. */
    public static String human(double tokens) {
        if (Double.isInfinite(tokens)) return "unlimited";
        if (tokens >= 1e6) return String.format("%.1fM", tokens / 1e6);
        if (tokens >= 1e3) return String.format("%.0fK", tokens / 1e3);
        return String.format("%.0f", tokens);
    }
}

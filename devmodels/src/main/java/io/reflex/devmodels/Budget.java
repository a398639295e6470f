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
        long strictest = Long.MAX_VALUE;
        boolean allRead = true;
        double reserved = 0;
        int lc = 0, be = 0;
        for (TenantDemand t : tenants) {
            if (t.latencyCritical()) {
                lc++;
                strictest = Math.min(strictest, t.p95Micros());
                allRead &= t.readPercent() == 100;
                reserved += model.reservation(t.iops(), t.readPercent());
            } else {
                be++;
            }
        }
        boolean readOnly = lc > 0 && allRead && be == 0;
        double rate;
        if (model.unlimited()) {
            rate = Double.POSITIVE_INFINITY;
        } else if (lc == 0) {
            // No SLO to protect: BE tenants may use the loosest calibrated rate.
            rate = model.tokenRateAt(Long.MAX_VALUE, false);
            strictest = 0;
        } else {
            rate = model.tokenRateAt(strictest, readOnly);
        }
        return new Evaluation(rate, lc == 0 ? 0 : strictest, readOnly, reserved, lc, be);
    }

    /** Would the device still honour every LC reservation with {@code candidate} added? */
    public static Decision admit(DeviceModel model, List<TenantDemand> existing, TenantDemand candidate) {
        var all = new java.util.ArrayList<TenantDemand>(existing.size() + 1);
        all.addAll(existing);
        all.add(candidate);
        Evaluation after = evaluate(model, all);
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

    /** 4.1M, 850K, 12 — for messages. */
    public static String human(double tokens) {
        if (Double.isInfinite(tokens)) return "unlimited";
        if (tokens >= 1e6) return String.format("%.1fM", tokens / 1e6);
        if (tokens >= 1e3) return String.format("%.0fK", tokens / 1e3);
        return String.format("%.0f", tokens);
    }
}

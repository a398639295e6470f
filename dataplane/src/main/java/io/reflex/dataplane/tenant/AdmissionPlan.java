package io.reflex.dataplane.tenant;

import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.TenantDemand;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What applying a new SLO table to the running set means: who is admitted (with which token rate), who is rejected
 * and why. Pure: the same inputs give the same plan. Tenants already served are admitted first, so a reload never
 * evicts a running tenant to make room for a new one; a running tenant whose new SLO does not fit keeps its old one.
 */
public record AdmissionPlan(List<Admitted> admitted, List<Rejected> rejected, Budget.Evaluation evaluation) {

    /** @param tokensPerSec LC reservation or BE share; {@link Double#POSITIVE_INFINITY} when unlimited */
    public record Admitted(TenantSpec spec, double tokensPerSec, String note) {}

    public record Rejected(TenantSpec spec, String reason) {}

    public static AdmissionPlan plan(DeviceModel model, Map<String, TenantSpec> running, SloTable table) {
        List<TenantSpec> ordered = new ArrayList<>();
        table.tenants().stream().filter(t -> running.containsKey(t.name())).forEach(ordered::add);
        table.tenants().stream().filter(t -> !running.containsKey(t.name())).forEach(ordered::add);

        Map<String, TenantSpec> chosen = new LinkedHashMap<>();
        Map<String, String> notes = new LinkedHashMap<>();
        List<Rejected> rejected = new ArrayList<>();
        for (TenantSpec t : ordered) {
            List<TenantDemand> current = chosen.values().stream().map(TenantSpec::demand).toList();
            Budget.Decision d = Budget.admit(model, current, t.demand());
            if (d.admitted()) {
                chosen.put(t.name(), t);
                continue;
            }
            TenantSpec old = running.get(t.name());
            if (old != null && !old.equals(t) && old.sameEndpoint(t) && Budget.admit(model, current, old.demand()).admitted()) {
                chosen.put(t.name(), old);
                notes.put(t.name(), "new SLO rejected, still serving the previous one: " + d.reason());
                rejected.add(new Rejected(t, d.reason()));
            } else {
                rejected.add(new Rejected(t, d.reason()));
            }
        }
        Budget.Evaluation eval = Budget.evaluate(model, chosen.values().stream().map(TenantSpec::demand).toList());
        List<Admitted> admitted = new ArrayList<>();
        for (TenantSpec t : chosen.values()) {
            double rate = model.unlimited() ? Double.POSITIVE_INFINITY
                    : t.tenantClass() == TenantClass.LC ? model.reservation(t.iops(), t.readPercent())
                    : eval.perBeShare();
            admitted.add(new Admitted(t, rate, notes.getOrDefault(t.name(), "")));
        }
        return new AdmissionPlan(List.copyOf(admitted), List.copyOf(rejected), eval);
    }
}

package io.reflex.operator.apiserver;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TenantDemand;
import io.reflex.operator.Translate;
import io.reflex.operator.placement.Ledger;
import io.reflex.operator.tenant.FlashTenantReconciler;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What must hold of the API objects whatever happened to the operator, recomputed from them alone (the ledger is
 * not consulted): tenants of one device group on "sample"-model devices.
 */
final class Invariants {
  private static final DeviceModel SAMPLE = DeviceModels.load("sample");

  private Invariants() {}

  /** The tenants of a device group (Fixtures.GROUP_LABEL in their device selector). */
  static List<FlashTenant> tenants(KubernetesClient c, String namespace, String group) {
    return c.resources(FlashTenant.class).inNamespace(namespace).list().getItems().stream()
        .filter(t -> group.equals(t.getSpec().getPlacement().getDeviceSelector().getMatchLabels().get(Fixtures.GROUP_LABEL)))
        .toList();
  }

  /**
   * Placement safety, which must hold at every moment: per device, LC reservations (from the specs) within the budget
   * at the strictest p95, the recorded tokens the model's price, extents inside the device and not overlapping; per
   * node, no port twice.
   */
  static List<String> placement(KubernetesClient c, List<FlashTenant> tenants) {
    List<String> v = new ArrayList<>();
    Map<String, List<FlashTenant>> byDevice = new HashMap<>();
    Set<String> ports = new HashSet<>();
    for (FlashTenant t : tenants) {
      TenantPlacement p = t.getStatus() == null ? null : t.getStatus().getPlacement();
      if (p == null) {
        continue;
      }
      byDevice.computeIfAbsent(p.getDevice(), k -> new ArrayList<>()).add(t);
      if (!ports.add(p.getNode() + ":" + p.getPort())) {
        v.add("port " + p.getPort() + " on node " + p.getNode() + " assigned twice (" + name(t) + ")");
      }
      TenantDemand d = Translate.demand(t);
      if (p.getTokens() == null || p.getTokens() != Ledger.tokens(SAMPLE, d)) {
        v.add(name(t) + ": placement.tokens " + p.getTokens() + " != the model's price " + Ledger.tokens(SAMPLE, d));
      }
    }
    for (var e : byDevice.entrySet()) {
      FlashDevice dev = c.resources(FlashDevice.class).withName(e.getKey()).get();
      if (dev == null) {
        v.add(e.getKey() + ": tenants placed on a device that does not exist");
        continue;
      }
      Budget.Evaluation ev = Budget.evaluate(SAMPLE, e.getValue().stream().map(Translate::demand).toList());
      if (ev.overcommitted()) {
        v.add(e.getKey() + " overcommitted: " + ev);
      }
      long capacity = Translate.capacityBytes(dev);
      List<TenantPlacement> extents = e.getValue().stream().map(t -> t.getStatus().getPlacement())
          .sorted(Comparator.comparing(TenantPlacement::getLbaOffset)).toList();
      long end = 0;
      for (TenantPlacement p : extents) {
        if (p.getLbaOffset() < end) {
          v.add(e.getKey() + ": extent at sector " + p.getLbaOffset() + " overlaps the one before (ends at " + end + ")");
        }
        end = Math.max(end, p.getLbaOffset() + p.getLbaCount());
      }
      if (end * 512 > capacity) {
        v.add(e.getKey() + ": extents end at byte " + end * 512 + " > capacity " + capacity);
      }
    }
    return v;
  }

  /**
   * Once the operator has caught up: every tenant decided for its current generation (Placed with a placement, or
   * Pending/Rejected with the reason), its Service on its port, each of {@code devices}' status counting its tenants
   * and their tokens.
   */
  static List<String> settled(KubernetesClient c, String namespace, List<FlashTenant> tenants, List<String> devices) {
    List<String> v = new ArrayList<>();
    Map<String, Integer> count = new HashMap<>();
    Map<String, Long> tokens = new HashMap<>();
    for (FlashTenant t : tenants) {
      var s = t.getStatus();
      if (s == null || s.getPhase() == null) {
        v.add(name(t) + ": no phase");
        continue;
      }
      if (!Objects.equals(s.getObservedGeneration(), t.getMetadata().getGeneration())) {
        v.add(name(t) + ": status is for generation " + s.getObservedGeneration() + ", not " + t.getMetadata().getGeneration());
      }
      Condition admitted = s.getConditions() == null ? null : s.getConditions().stream()
          .filter(x -> FlashTenantReconciler.ADMITTED.equals(x.getType())).findFirst().orElse(null);
      if (admitted == null || admitted.getReason() == null) {
        v.add(name(t) + ": " + s.getPhase() + " without an Admitted reason");
        continue;
      }
      switch (s.getPhase()) {
        case Placed, Serving -> {
          if (s.getPlacement() == null) {
            v.add(name(t) + ": " + s.getPhase() + " without a placement");
            continue;
          }
          count.merge(s.getPlacement().getDevice(), 1, Integer::sum);
          tokens.merge(s.getPlacement().getDevice(), s.getPlacement().getTokens(), Long::sum);
          Service svc = c.services().inNamespace(namespace).withName(t.getMetadata().getName()).get();
          if (svc == null || svc.getSpec().getPorts().getFirst().getPort() != s.getPlacement().getPort().intValue()) {
            v.add(name(t) + ": Service " + (svc == null ? "missing" : "on port " + svc.getSpec().getPorts().getFirst().getPort())
                + ", placement port " + s.getPlacement().getPort());
          }
        }
        case Pending, Rejected -> {
          if (!"False".equals(admitted.getStatus()) || admitted.getMessage() == null || !admitted.getMessage().contains("no device fits")) {
            v.add(name(t) + ": " + s.getPhase() + " but Admitted=" + admitted.getStatus() + " (" + admitted.getMessage() + ")");
          }
          if (s.getPlacement() != null) {
            v.add(name(t) + ": " + s.getPhase() + " with a placement");
          }
        }
      }
    }
    for (String d : devices) {
      var st = c.resources(FlashDevice.class).withName(d).get().getStatus();
      if (st.getTenantCount() == null || st.getTenantCount().intValue() != count.getOrDefault(d, 0).intValue()
          || st.getReservedTokens() == null || st.getReservedTokens().longValue() != tokens.getOrDefault(d, 0L).longValue()) {
        v.add(d + ": status says " + st.getTenantCount() + " tenants / " + st.getReservedTokens() + " tokens, placed: "
            + count.get(d) + " / " + tokens.get(d));
      }
    }
    return v;
  }

  static String name(FlashTenant t) {
    return t.getMetadata().getNamespace() + "/" + t.getMetadata().getName();
  }
}

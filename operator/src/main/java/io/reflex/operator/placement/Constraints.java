package io.reflex.operator.placement;

import java.util.List;
import java.util.Map;

/**
 * Where a tenant may live: labels its node must have, its zone, and a selector over the device's labels
 * (matchLabels + matchExpressions, with metav1.LabelSelector semantics). All given constraints must hold.
 */
public record Constraints(Map<String, String> nodeSelector, String zone, Map<String, String> deviceMatchLabels,
                          List<Requirement> deviceExpressions) {
  public static final Constraints NONE = new Constraints(Map.of(), null, Map.of(), List.of());

  public Constraints {
    nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
    deviceMatchLabels = deviceMatchLabels == null ? Map.of() : Map.copyOf(deviceMatchLabels);
    deviceExpressions = deviceExpressions == null ? List.of() : List.copyOf(deviceExpressions);
  }

  public enum Operator { IN, NOT_IN, EXISTS, DOES_NOT_EXIST }

  public record Requirement(String key, Operator operator, List<String> values) {
    public Requirement {
      values = values == null ? List.of() : List.copyOf(values);
    }

    boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (operator) {
        case IN -> v != null && values.contains(v);
        case NOT_IN -> v == null || !values.contains(v);
        case EXISTS -> v != null;
        case DOES_NOT_EXIST -> v == null;
      };
    }

    @Override
    public String toString() {
      return switch (operator) {
        case IN -> key + " in " + values;
        case NOT_IN -> key + " notin " + values;
        case EXISTS -> key;
        case DOES_NOT_EXIST -> "!" + key;
      };
    }
  }

  /** Null if the device satisfies every constraint, else the first one it violates (for messages). */
  public String violation(Device d) {
    if (zone != null && !zone.equals(d.zone())) {
      return "zone " + (d.zone() == null ? "unset" : d.zone()) + " != " + zone;
    }
    for (var e : nodeSelector.entrySet()) {
      if (!e.getValue().equals(d.nodeLabels().get(e.getKey()))) {
        return "node " + d.node() + " lacks label " + e.getKey() + "=" + e.getValue();
      }
    }
    for (var e : deviceMatchLabels.entrySet()) {
      if (!e.getValue().equals(d.labels().get(e.getKey()))) {
        return "device lacks label " + e.getKey() + "=" + e.getValue();
      }
    }
    for (Requirement r : deviceExpressions) {
      if (!r.matches(d.labels())) {
        return "device fails " + r;
      }
    }
    return null;
  }
}

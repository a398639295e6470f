package io.reflex.crds.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/**
 * Standard conditions with observedGeneration; lastTransitionTime kept while the status stays the same. Shared by the
 * operator and the node agent, which write different condition types of the same objects.
 */
public final class Conditions {
  private Conditions() {}

  public static Condition of(List<Condition> existing, String type, boolean status, String reason, String message,
                             Long generation) {
    String s = status ? "True" : "False";
    Condition old = find(existing, type);
    String time = old != null && s.equals(old.getStatus()) && old.getLastTransitionTime() != null
        ? old.getLastTransitionTime() : Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    return new ConditionBuilder().withType(type).withStatus(s).withReason(reason)
        .withMessage(message == null ? "" : truncate(message)).withObservedGeneration(generation)
        .withLastTransitionTime(time).build();
  }

  /** The condition of this type, or null. */
  public static Condition find(List<Condition> conditions, String type) {
    return conditions == null ? null : conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
  }

  /** Same type, status, reason, message and generation (the transition time does not count). */
  public static boolean sameAs(Condition a, Condition b) {
    return a != null && b != null && Objects.equals(a.getType(), b.getType()) && Objects.equals(a.getStatus(), b.getStatus())
        && Objects.equals(a.getReason(), b.getReason()) && Objects.equals(a.getMessage(), b.getMessage())
        && Objects.equals(a.getObservedGeneration(), b.getObservedGeneration());
  }

  private static String truncate(String m) {
    return m.length() <= 32768 ? m : m.substring(0, 32760) + "...";
  }
}

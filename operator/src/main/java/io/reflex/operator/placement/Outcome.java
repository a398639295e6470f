package io.reflex.operator.placement;

/**
 * Result of admission: an allocation to commit once the tenant's status says so, or the reason none fits.
 * {@code reason} is also set on success ("fits") for uniformity.
 */
public record Outcome(Allocation allocation, String reason) {
  public static Outcome placed(Allocation a) {
    return new Outcome(a, "fits");
  }

  public static Outcome noFit(String reason) {
    return new Outcome(null, reason);
  }

  public boolean fits() {
    return allocation != null;
  }
}

package io.reflex.operator;

import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Readiness detail: what the ledger holds (the operator SDK adds its own check of controllers and informers). */
@Readiness
public class LedgerHealthCheck implements HealthCheck {
  @Inject
  OperatorMetrics metrics;

  @Override
  public HealthCheckResponse call() {
    OperatorMetrics.LedgerStats s = metrics.stats();
    return HealthCheckResponse.named("reflex-ledger").up().withData("devices", s.devices())
        .withData("tenants", s.tenants()).withData("allocatedBytes", s.allocatedBytes()).build();
  }
}

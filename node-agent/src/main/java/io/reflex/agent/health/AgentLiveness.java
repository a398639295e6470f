package io.reflex.agent.health;

import io.reflex.agent.AgentService;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/** Live while every dataplane loop makes progress (answers a no-op within 10 s; see DeviceServer#live). */
@Liveness
@ApplicationScoped
public class AgentLiveness implements HealthCheck {
  private final AgentService service;

  public AgentLiveness(AgentService service) {
    this.service = service;
  }

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("reflex-dataplane-loops").status(service.health().live()).build();
  }
}

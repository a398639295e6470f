package io.reflex.agent.health;

import io.reflex.agent.AgentService;
import io.reflex.agent.NodeAgent;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the informers have synced and every tenant placed on this node listens. */
@Readiness
@ApplicationScoped
public class AgentReadiness implements HealthCheck {
  private final AgentService service;

  public AgentReadiness(AgentService service) {
    this.service = service;
  }

  @Override
  public HealthCheckResponse call() {
    NodeAgent.Health h = service.health();
    var b = HealthCheckResponse.named("reflex-agent").status(h.synced() && h.notListening().isEmpty())
        .withData("synced", h.synced()).withData("devicesServing", h.devices()).withData("tenantsServing", h.tenantsServing());
    if (!h.notListening().isEmpty()) b.withData("notListening", String.join("; ", h.notListening()));
    return b.build();
  }
}

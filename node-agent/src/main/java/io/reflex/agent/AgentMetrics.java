package io.reflex.agent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/** The agent's own metrics (reflex_agent_*); the dataplane's keep their names and come from the dataplanes. */
final class AgentMetrics {
  private final MeterRegistry registry;
  private final Timer passes;
  private final Counter failedPasses;
  private final DistributionSummary toServing;
  /** Held here: Micrometer gauges keep only a weak reference to the object they read. */
  private final Supplier<NodeAgent.Health> health;

  AgentMetrics(MeterRegistry registry, Supplier<NodeAgent.Health> health) {
    this.registry = registry == null ? new SimpleMeterRegistry() : registry;
    this.health = health;
    passes = Timer.builder("reflex_agent_pass").description("Control passes (devices, then tenants)")
        .register(this.registry);
    failedPasses = Counter.builder("reflex_agent_pass_failures").description("Passes that ended with an error (retried)")
        .register(this.registry);
    toServing = DistributionSummary.builder("reflex_agent_tenant_time_to_serving_seconds")
        .description("From a tenant's creation to this agent reporting it Serving").publishPercentiles(0.5, 0.99)
        .register(this.registry);
    Gauge.builder("reflex_agent_devices_serving", this, m -> m.health.get().devices()).description("Devices with a running dataplane")
        .register(this.registry);
    Gauge.builder("reflex_agent_tenants_serving", this, m -> m.health.get().tenantsServing())
        .description("Tenants placed on this node that are listening").register(this.registry);
    Gauge.builder("reflex_agent_tenants_not_serving", this, m -> m.health.get().notListening().size())
        .description("Tenants placed on this node that are not listening (see their Serving condition)").register(this.registry);
  }

  Timer.Sample startPass() {
    return Timer.start(registry);
  }

  void passDone(Timer.Sample s, boolean ok) {
    s.stop(passes);
    if (!ok) failedPasses.increment();
  }

  void servingAfter(String creationTimestamp) {
    if (creationTimestamp == null) return;
    Duration d = Duration.between(Instant.parse(creationTimestamp), Instant.now());
    toServing.record(d.toMillis() / 1000.0);
  }
}

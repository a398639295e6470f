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

  private Counter fences;
  private Counter unfences;
  /** Held here for the same reason as {@link #health}. */
  private java.util.function.BooleanSupplier fencedNow;
  private java.util.function.DoubleSupplier heartbeatAge;

  /** The self-fencing meters (only with the heartbeat on). */
  void fencing(java.util.function.BooleanSupplier fenced, java.util.function.DoubleSupplier secondsSinceRenewal) {
    this.fencedNow = fenced;
    this.heartbeatAge = secondsSinceRenewal;
    Gauge.builder("reflex_agent_fenced", this, m -> m.fencedNow.getAsBoolean() ? 1 : 0)
        .description("1 while the agent serves nothing because its heartbeat Lease was not renewed in time").register(registry);
    Gauge.builder("reflex_agent_heartbeat_age_seconds", this, m -> m.heartbeatAge.getAsDouble())
        .description("Since the last successful heartbeat renewal was sent (NaN: none yet)").register(registry);
    fences = Counter.builder("reflex_agent_fence").description("Times the agent fenced itself (stopped serving every tenant)")
        .register(registry);
    unfences = Counter.builder("reflex_agent_unfence")
        .description("Times the agent served again after a fence (renewed, tenants re-read)").register(registry);
  }

  private java.util.function.IntSupplier calibrating;

  /** Calibration meters: running calibrations, and each one's outcome. */
  void calibration(java.util.function.IntSupplier running) {
    this.calibrating = running;
    Gauge.builder("reflex_agent_devices_calibrating", this, m -> m.calibrating.getAsInt())
        .description("Devices being calibrated now (model calibrate; not offered meanwhile)").register(registry);
  }

  /** A calibration ended: calibrated, failed or cancelled. */
  void calibrationEnded(String outcome) {
    Counter.builder("reflex_agent_calibrations").tag("outcome", outcome)
        .description("Device calibrations that ended, by outcome (calibrated, failed, cancelled)").register(registry).increment();
  }

  void fenced() {
    if (fences != null) fences.increment();
  }

  void unfenced() {
    if (unfences != null) unfences.increment();
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

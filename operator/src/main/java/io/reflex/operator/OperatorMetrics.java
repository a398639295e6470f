package io.reflex.operator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.AtomicReference;

/** Operator meters (Prometheus names reflex_operator_*): placements, refusals, ledger utilisation, reconcile timing. */
@Singleton
public class OperatorMetrics {
  /** Ledger totals, replaced after every change (gauges read it without the ledger lock). */
  public record LedgerStats(int devices, int tenants, double reservedTokens, double budgetTokens, long allocatedBytes,
                            long capacityBytes) {
    static final LedgerStats EMPTY = new LedgerStats(0, 0, 0, 0, 0, 0);
  }

  private final MeterRegistry registry;
  private final AtomicReference<LedgerStats> stats = new AtomicReference<>(LedgerStats.EMPTY);

  @Inject
  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("reflex.operator.ledger.devices", stats, s -> s.get().devices()).register(registry);
    Gauge.builder("reflex.operator.ledger.tenants", stats, s -> s.get().tenants()).register(registry);
    Gauge.builder("reflex.operator.ledger.reserved.tokens", stats, s -> s.get().reservedTokens())
        .description("tokens/s reserved by LC tenants on all devices").register(registry);
    Gauge.builder("reflex.operator.ledger.token.utilisation", stats,
            s -> s.get().budgetTokens() <= 0 ? 0 : s.get().reservedTokens() / s.get().budgetTokens())
        .description("LC reservations / budgets in force, over devices with a finite budget").register(registry);
    Gauge.builder("reflex.operator.ledger.capacity.utilisation", stats,
            s -> s.get().capacityBytes() <= 0 ? 0 : (double) s.get().allocatedBytes() / s.get().capacityBytes())
        .register(registry);
  }

  public void stats(LedgerStats s) {
    stats.set(s);
  }

  public LedgerStats stats() {
    return stats.get();
  }

  public void placed(String how) {
    Counter.builder("reflex.operator.placements").tag("kind", how).register(registry).increment();
  }

  public void refused(String reason) {
    Counter.builder("reflex.operator.rejections").tag("reason", reason).register(registry).increment();
  }

  public Timer.Sample start() {
    return Timer.start(registry);
  }

  public void stop(Timer.Sample s, String controller, boolean ok) {
    s.stop(Timer.builder("reflex.operator.reconcile").tag("controller", controller).tag("outcome", ok ? "ok" : "error")
        .register(registry));
  }
}

package io.reflex.operator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** Operator meters (Prometheus names reflex_operator_*): placements, refusals, ledger utilisation, reconcile timing. */
@Singleton
public class OperatorMetrics {
  /** Ledger totals (computed when read, at most once a second: see {@link #statsSource}). */
  public record LedgerStats(int devices, int tenants, double reservedTokens, double budgetTokens, long allocatedBytes,
                            long capacityBytes) {
    static final LedgerStats EMPTY = new LedgerStats(0, 0, 0, 0, 0, 0);
  }

  private final MeterRegistry registry;
  private final AtomicReference<LedgerStats> stats = new AtomicReference<>(LedgerStats.EMPTY);
  private volatile Supplier<LedgerStats> source = () -> LedgerStats.EMPTY;
  private volatile long computedAt = Long.MIN_VALUE / 2;

  @Inject
  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("reflex.operator.ledger.devices", this, m -> m.stats().devices()).register(registry);
    Gauge.builder("reflex.operator.ledger.tenants", this, m -> m.stats().tenants()).register(registry);
    Gauge.builder("reflex.operator.ledger.reserved.tokens", this, m -> m.stats().reservedTokens())
        .description("tokens/s reserved by LC tenants on all devices").register(registry);
    Gauge.builder("reflex.operator.ledger.token.utilisation", this,
            m -> m.stats().budgetTokens() <= 0 ? 0 : m.stats().reservedTokens() / m.stats().budgetTokens())
        .description("LC reservations / budgets in force, over devices with a finite budget").register(registry);
    Gauge.builder("reflex.operator.ledger.capacity.utilisation", this,
            m -> m.stats().capacityBytes() <= 0 ? 0 : (double) m.stats().allocatedBytes() / m.stats().capacityBytes())
        .register(registry);
  }

  /**
   * Where the ledger totals come from (the placement service, under its lock). Computed on read -- a scrape or a
   * health check -- and reused for a second, not after every ledger change: that walks every device and costs
   * O(devices) under the lock per placement.
   */
  public void statsSource(Supplier<LedgerStats> source) {
    this.source = source;
    computedAt = Long.MIN_VALUE / 2;
  }

  public LedgerStats stats() {
    long now = System.nanoTime();
    if (now - computedAt > 1_000_000_000L) {
      stats.set(source.get());
      computedAt = now;
    }
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

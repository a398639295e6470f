package io.reflex.operator.placement;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TenantDemand;
import io.reflex.devmodels.TokenLimit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/** Random devices and tenant arrivals/departures: the ledger never overcommits and explains every refusal. */
class LedgerPropertyTest {
  static final long MI = 1L << 20;
  static final DeviceModel SAMPLE = DeviceModels.load("sample");
  static final DeviceModel NULL = DeviceModels.load("null");

  record Op(boolean release, int releaseIndex, TenantRequest request) {}

  record Scenario(PlacementPolicy policy, List<Device> devices, List<Op> ops, long seed) {}

  @Provide
  Arbitrary<Scenario> scenarios() {
    Arbitrary<DeviceModel> models = Arbitraries.oneOf(Arbitraries.just(SAMPLE), Arbitraries.just(NULL),
        Combinators.combine(Arbitraries.longs().between(1, 500), Arbitraries.longs().between(1, 5000),
            Arbitraries.doubles().between(1e5, 5e7), Arbitraries.doubles().between(1.0, 3.0))
            .as((r, w, rate, ro) -> new DeviceModel("m", "", r, w, false, List.of(
                new TokenLimit(300, rate, rate * ro), new TokenLimit(2000, rate * 1.6, rate * ro * 1.6)))));
    Arbitrary<Device> device = Combinators.combine(Arbitraries.integers().between(0, 3),
            Arbitraries.of("fast", "slow"), Arbitraries.of("a", "b"), Arbitraries.integers().between(0, 9),
            Arbitraries.longs().between(16, 4096), models)
        .as((node, tier, zone, health, capMi, model) -> new Device("?", "n" + node, Map.of("tier", tier),
            Map.of(Device.ZONE_LABEL, zone), health > 0, capMi * MI, model));
    Arbitrary<Constraints> constraints = Arbitraries.oneOf(Arbitraries.just(Constraints.NONE).withoutEdgeCases(),
        Arbitraries.of("a", "b").map(z -> new Constraints(Map.of(), z, Map.of(), List.of())),
        Arbitraries.of("fast", "slow").map(t -> new Constraints(Map.of(), null, Map.of("tier", t), List.of())));
    Arbitrary<TenantRequest> tenant = Combinators.combine(Arbitraries.integers().between(0, 9),
            Arbitraries.longs().between(1, 300_000), Arbitraries.integers().between(0, 100),
            Arbitraries.of(200L, 300L, 500L, 1000L, 1500L, 2000L, 5000L), Arbitraries.longs().between(1, 1024), constraints)
        .as((cls, iops, read, p95, capMi, c) -> new TenantRequest("?", cls < 7
            ? TenantDemand.lc("?", iops, read, p95) : TenantDemand.be("?"), capMi * MI - (capMi % 3) * 1000, c));
    Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 9), Arbitraries.integers().between(0, 1000),
        tenant).as((k, i, t) -> new Op(k == 0, i, t));
    return Combinators.combine(Arbitraries.of(PlacementPolicy.class), device.list().ofMinSize(0).ofMaxSize(6),
            op.list().ofMinSize(1).ofMaxSize(60), Arbitraries.longs())
        .as(Scenario::new);
  }

  @Property(tries = 300)
  void neverOvercommitsExplainsRefusalsAndRebuildsTheSame(@ForAll("scenarios") Scenario s) {
    Ledger l = new Ledger(s.policy(), 30000, 30005);
    List<Device> devices = new ArrayList<>();
    for (int i = 0; i < s.devices().size(); i++) {
      Device d = s.devices().get(i);
      devices.add(new Device("d" + i, d.node(), d.labels(), d.nodeLabels(), d.healthy(), d.capacityBytes(), d.model()));
    }
    devices.forEach(l::upsertDevice);
    List<String> placed = new ArrayList<>();
    int n = 0;
    int refused = 0;
    for (Op op : s.ops()) {
      if (op.release() && !placed.isEmpty()) {
        String key = placed.remove(op.releaseIndex() % placed.size());
        assertThat(l.release(key)).isPresent();
      } else {
        String key = "ns/t" + n++;
        TenantDemand d0 = op.request().demand();
        TenantRequest r = new TenantRequest(key, new TenantDemand(key, d0.latencyCritical(), d0.iops(),
            d0.readPercent(), d0.p95Micros()), op.request().capacityBytes(), op.request().constraints());
        List<Ledger.Candidate> cands = l.candidates(r);
        Outcome o = l.place(r);
        if (o.fits()) {
          checkPolicy(l, s.policy(), r, o.allocation(), cands);
          // place()'s one-pass choice is the full evaluation's: the policy's first candidate, ties by name.
          Ledger.Candidate expected = cands.stream().min(order(s.policy())).orElseThrow();
          assertThat(o.allocation().device()).isEqualTo(expected.device().name());
          assertThat(o.allocation().offsetBytes()).isEqualTo(expected.offsetBytes());
          assertThat(o.allocation().port()).isEqualTo(expected.port());
          l.commit(o.allocation());
          placed.add(key);
        } else {
          assertThat(o.reason()).isNotBlank().isNotEqualTo("fits");
          refused++;
          assertThat(cands).isEmpty();
        }
      }
      if (op.releaseIndex() % 5 == 0 && !devices.isEmpty()) { // a device's readiness changes (an update in place)
        int i = op.releaseIndex() % devices.size();
        Device d = devices.get(i);
        devices.set(i, new Device(d.name(), d.node(), d.labels(), d.nodeLabels(), !d.healthy(), d.capacityBytes(), d.model()));
        l.upsertDevice(devices.get(i));
      }
      checkInvariants(l, devices);
    }
    Statistics.label("some tenant placed").collect(!l.allocations().isEmpty());
    Statistics.label("some tenant refused").collect(refused > 0);
    Statistics.label("some tenant placed").coverage(c -> c.check(true).percentage(p -> p > 40));
    // Rebuilt from "statuses" (the allocations), in any order: the same ledger, the same next decision.
    Ledger rebuilt = new Ledger(s.policy(), 30000, 30005);
    devices.forEach(rebuilt::upsertDevice);
    List<Allocation> all = new ArrayList<>(l.allocations().values());
    Collections.shuffle(all, new Random(s.seed()));
    for (Allocation a : all) {
      assertThat(rebuilt.restore(a)).isNull();
    }
    assertThat(rebuilt.allocations()).isEqualTo(l.allocations());
    for (Device d : devices) {
      assertThat(rebuilt.usage(d.name())).isEqualTo(l.usage(d.name()));
    }
    TenantRequest probe = new TenantRequest("ns/probe", TenantDemand.lc("ns/probe", 1000, 90, 500), 8 * MI,
        Constraints.NONE);
    assertThat(rebuilt.place(probe)).isEqualTo(l.place(probe));
  }

  private static Comparator<Ledger.Candidate> order(PlacementPolicy p) {
    Comparator<Ledger.Candidate> bySpare = Comparator.comparingDouble(Ledger.Candidate::spareTokensAfter);
    Comparator<Ledger.Candidate> byFree = Comparator.comparingLong(Ledger.Candidate::freeBytesAfter);
    return p == PlacementPolicy.BEST_FIT ? bySpare.thenComparing(byFree)
        : bySpare.reversed().thenComparing(byFree.reversed()).thenComparingInt(Ledger.Candidate::tenantsAfter);
  }

  private static void checkPolicy(Ledger l, PlacementPolicy p, TenantRequest r, Allocation chosen,
                                  List<Ledger.Candidate> cands) {
    // Independent recomputation of each candidate's spare tokens after adding the tenant.
    Map<String, Double> spare = new TreeMap<>();
    for (Ledger.Candidate c : cands) {
      List<TenantDemand> ds = new ArrayList<>();
      l.allocationsOn(c.device().name()).forEach(a -> ds.add(a.demand()));
      ds.add(r.demand());
      Budget.Evaluation e = Budget.evaluate(c.device().model(), ds);
      assertThat(e.overcommitted()).isFalse();
      spare.put(c.device().name(), e.spare());
    }
    double mine = spare.get(chosen.device());
    for (double other : spare.values()) {
      if (p == PlacementPolicy.BEST_FIT) {
        assertThat(mine).isLessThanOrEqualTo(other);
      } else {
        assertThat(mine).isGreaterThanOrEqualTo(other);
      }
    }
  }

  private static void checkInvariants(Ledger l, List<Device> devices) {
    Map<String, Set<Integer>> ports = new HashMap<>();
    for (Allocation a : l.allocations().values()) {
      assertThat(ports.computeIfAbsent(a.node(), k -> new HashSet<>()).add(a.port()))
          .as("port %d on %s used twice", a.port(), a.node()).isTrue();
      assertThat(a.port()).isBetween(30000, 30005);
    }
    for (Device d : devices) {
      List<Allocation> on = l.allocationsOn(d.name());
      List<TenantDemand> ds = on.stream().map(Allocation::demand).toList();
      Budget.Evaluation e = Budget.evaluate(d.model(), ds);
      assertThat(e.lcReserved()).as("LC reservations on %s", d.name()).isLessThanOrEqualTo(e.tokenRate());
      long end = 0;
      for (Allocation a : on) { // sorted by offset
        assertThat(a.offsetBytes()).as("overlap on %s", d.name()).isGreaterThanOrEqualTo(end);
        assertThat(a.offsetBytes() % Ledger.ALIGN_BYTES).isZero();
        end = a.endBytes();
      }
      assertThat(end).isLessThanOrEqualTo(d.capacityBytes());
      Ledger.Usage u = l.usage(d.name()).orElseThrow();
      assertThat(u.tenants()).isEqualTo(on.size());
      assertThat(u.allocatedBytes()).isLessThanOrEqualTo(d.capacityBytes());
    }
  }
}

package io.reflex.operator.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TenantDemand;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LedgerTest {
  static final DeviceModel SAMPLE = DeviceModels.load("sample");
  static final long GI = 1L << 30;

  static Device dev(String name, String node, long capacity) {
    return new Device(name, node, Map.of(), Map.of(), true, capacity, SAMPLE);
  }

  static TenantRequest lc(String key, long iops, int read, long p95, long capacity) {
    return new TenantRequest(key, TenantDemand.lc(key, iops, read, p95), capacity, Constraints.NONE);
  }

  static TenantRequest be(String key, long capacity) {
    return new TenantRequest(key, TenantDemand.be(key), capacity, Constraints.NONE);
  }

  static Allocation placeAndCommit(Ledger l, TenantRequest r) {
    Outcome o = l.place(r);
    assertThat(o.fits()).as(o.reason()).isTrue();
    l.commit(o.allocation());
    return o.allocation();
  }

  @Test
  void placesFirstFitWithLowestPortAndPricesTheReservation() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    Allocation a = placeAndCommit(l, lc("ns/a", 50_000, 80, 1000, 10 * GI));
    Allocation b = placeAndCommit(l, lc("ns/b", 10_000, 100, 1000, 5 * GI + 1));
    assertThat(a.offsetBytes()).isZero();
    assertThat(a.port()).isEqualTo(20000);
    assertThat(a.tokens()).isEqualTo(50_000L * (80 + 200)); // 0.8·100 + 0.2·1000 = 280 per IO
    assertThat(b.offsetBytes()).isEqualTo(10 * GI);
    assertThat(b.lbaOffset()).isEqualTo(10 * GI / 512);
    assertThat(b.sizeBytes()).isEqualTo(5 * GI + 4096);
    assertThat(b.port()).isEqualTo(20001);

    l.release("ns/a");
    Allocation c = placeAndCommit(l, lc("ns/c", 1000, 100, 1000, 2 * GI));
    assertThat(c.offsetBytes()).isZero();
    assertThat(c.port()).isEqualTo(20000);
    assertThat(l.usage("d1").orElseThrow().tenants()).isEqualTo(2);
  }

  @Test
  void aHeldAllocationIsPlannedAroundAndRollsBackToThePreviousOne() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    Allocation a = l.place(lc("ns/a", 10_000, 100, 1000, 10 * GI)).allocation();
    l.hold(a, null);
    // While a's status write is in flight, b is planned around it.
    Allocation b = l.place(lc("ns/b", 10_000, 100, 1000, 10 * GI)).allocation();
    assertThat(b.offsetBytes()).isEqualTo(10 * GI);
    assertThat(b.port()).isEqualTo(20001);
    assertThat(l.pendingCount()).isEqualTo(1);
    assertThat(l.rollback("ns/a")).isNull(); // the write failed: nothing was there before
    assertThat(l.allocation("ns/a")).isEmpty();
    assertThat(l.pendingCount()).isZero();

    Allocation a2 = placeAndCommit(l, lc("ns/a", 10_000, 100, 1000, 10 * GI));
    Allocation grown = l.replan(lc("ns/a", 20_000, 100, 1000, 10 * GI)).allocation();
    l.hold(grown, a2);
    assertThat(l.allocation("ns/a")).contains(grown);
    assertThat(l.rollback("ns/a")).isNull();
    assertThat(l.allocation("ns/a")).contains(a2); // the previous reservation is back
    l.hold(grown, a2);
    l.confirm("ns/a");
    assertThat(l.rollback("ns/a")).isNull(); // nothing pending: no-op
    assertThat(l.allocation("ns/a")).contains(grown);
  }

  @Test
  void rejectionSaysHowManyTokensAreNeededAndHowManyAreSpare() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    placeAndCommit(l, lc("ns/writer", 32_000, 0, 1000, GI)); // 32M of 50M at 1 ms
    // At p95 500 µs the mixed budget is 36M: 4.0M left, 4.1M needed.
    Outcome o = l.place(lc("ns/reader", 41_000, 100, 500, GI));
    assertThat(o.fits()).isFalse();
    assertThat(o.reason()).contains("1 short of tokens")
        .contains("needs 4.1M tokens/s (41000 IOPS, 100% read) at p95 500µs; best device d1 has 4.0M spare");
    assertThat(l.place(lc("ns/reader", 39_000, 100, 500, GI)).fits()).isTrue();
  }

  /** A device whose model starts at 2 ms (calibrated on a loaded node) takes no 1 ms tenant, however idle it is. */
  @Test
  void anSloStricterThanADevicesModelReachesGoesElsewhereOrIsExplained() {
    DeviceModel slow = new DeviceModel("slow", "", 100, 300, false,
        List.of(new io.reflex.devmodels.TokenLimit(2000, 50e6, 90e6)));
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(new Device("s1", "n1", Map.of(), Map.of(), true, 100 * GI, slow));
    Outcome o = l.place(lc("ns/tight", 10, 100, 1000, GI));
    assertThat(o.fits()).isFalse();
    assertThat(o.reason()).contains("1 whose models reach no p95 of 1000µs [strictest: s1, p95 2000µs]");
    assertThat(l.place(lc("ns/loose", 10, 100, 2000, GI)).fits()).isTrue();
    l.upsertDevice(dev("d1", "n2", 100 * GI));
    assertThat(l.place(lc("ns/tight", 10, 100, 1000, GI)).allocation().device()).isEqualTo("d1");
  }

  @Test
  void aBeTenantMayNotForceTheMixedBudgetBelowReadOnlyReservations() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    placeAndCommit(l, lc("ns/ro", 600_000, 100, 1000, GI)); // 60M: fits read-only 95M, not mixed 50M
    Outcome o = l.place(be("ns/be", GI));
    assertThat(o.fits()).isFalse();
    assertThat(o.reason()).contains("cannot add BE tenant ns/be");
  }

  @Test
  void capacityAndConstraintsAreExplained() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(new Device("d1", "n1", Map.of("tier", "fast"), Map.of(Device.ZONE_LABEL, "a"), true, 10 * GI, SAMPLE));
    l.upsertDevice(new Device("d2", "n2", Map.of("tier", "slow"), Map.of(Device.ZONE_LABEL, "b"), true, 10 * GI, SAMPLE));
    l.upsertDevice(dev("d3", "n3", 10 * GI).withHealthy(false));
    Constraints zoneA = new Constraints(Map.of(), "a", Map.of(), List.of());
    Outcome big = l.place(new TenantRequest("ns/big", TenantDemand.be("ns/big"), 20 * GI, zoneA));
    assertThat(big.reason()).contains("3 devices").contains("1 not Ready").contains("1 outside the placement constraints")
        .contains("zone b != a").contains("1 short of contiguous capacity")
        .contains("needs 20Gi contiguous; largest free extent is 10Gi on d1");
    Constraints slow = new Constraints(Map.of(), null, Map.of(),
        List.of(new Constraints.Requirement("tier", Constraints.Operator.IN, List.of("slow"))));
    assertThat(l.place(new TenantRequest("ns/s", TenantDemand.be("ns/s"), GI, slow)).allocation().device()).isEqualTo("d2");
    assertThat(new Ledger(PlacementPolicy.SPREAD, 1, 2).place(be("ns/x", 1)).reason()).isEqualTo("no FlashDevices are known");
  }

  @Test
  void bestFitPacksAndSpreadBalances() {
    for (PlacementPolicy p : PlacementPolicy.values()) {
      Ledger l = new Ledger(p, 20000, 20099);
      l.upsertDevice(dev("d1", "n1", 100 * GI));
      l.upsertDevice(dev("d2", "n2", 100 * GI));
      Allocation first = placeAndCommit(l, lc("ns/a", 10_000, 50, 1000, GI));
      Allocation second = placeAndCommit(l, lc("ns/b", 10_000, 50, 1000, GI));
      if (p == PlacementPolicy.BEST_FIT) {
        assertThat(second.device()).isEqualTo(first.device());
      } else {
        assertThat(second.device()).isNotEqualTo(first.device());
      }
    }
  }

  @Test
  void portsAreUniquePerNodeAcrossDevices() {
    Ledger l = new Ledger(PlacementPolicy.SPREAD, 20000, 20001);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    l.upsertDevice(dev("d2", "n1", 100 * GI));
    Allocation a = placeAndCommit(l, be("ns/a", GI));
    Allocation b = placeAndCommit(l, be("ns/b", GI));
    assertThat(a.device()).isNotEqualTo(b.device());
    assertThat(List.of(a.port(), b.port())).containsExactlyInAnyOrder(20000, 20001);
    assertThat(l.place(be("ns/c", GI)).reason()).contains("2 on nodes with no free port");
  }

  @Test
  void replanGrowsInPlaceOrSaysWhyNot() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    Allocation a = placeAndCommit(l, lc("ns/a", 10_000, 100, 1000, 10 * GI));
    placeAndCommit(l, lc("ns/b", 10_000, 100, 1000, 10 * GI));

    Outcome more = l.replan(lc("ns/a", 200_000, 100, 1000, 10 * GI));
    assertThat(more.fits()).isTrue();
    assertThat(more.allocation()).extracting(Allocation::offsetBytes, Allocation::port, Allocation::tokens)
        .containsExactly(a.offsetBytes(), a.port(), 20_000_000L);
    l.commit(more.allocation());
    assertThat(l.usage("d1").orElseThrow().reservedTokens()).isEqualTo(21_000_000L);

    Outcome tooMuch = l.replan(lc("ns/a", 900_000, 0, 1000, 10 * GI));
    assertThat(tooMuch.fits()).isFalse();
    assertThat(tooMuch.reason()).startsWith("cannot re-admit in place on d1");

    Outcome grow = l.replan(lc("ns/a", 10_000, 100, 1000, 11 * GI));
    assertThat(grow.reason()).contains("cannot grow in place on d1 to 11Gi: only 10Gi free");
    Outcome growB = l.replan(lc("ns/b", 10_000, 100, 1000, 50 * GI));
    assertThat(growB.fits()).isTrue();
    l.commit(growB.allocation());
    assertThat(l.allocation("ns/b").orElseThrow().sizeBytes()).isEqualTo(50 * GI);
  }

  @Test
  void restoreRefusesOverlapsAndCommitRefusesOvercommit() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20009);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    TenantDemand d = TenantDemand.lc("x", 1000, 100, 1000);
    assertThat(l.restore(new Allocation("ns/a", "d1", "n1", 0, GI, 20000, 100_000, d))).isNull();
    assertThat(l.restore(new Allocation("ns/b", "d1", "n1", GI / 2, GI, 20001, 100_000, d))).contains("overlaps ns/a");
    assertThat(l.restore(new Allocation("ns/c", "d1", "n1", GI, GI, 20000, 100_000, d))).contains("port 20000");
    TenantDemand huge = TenantDemand.lc("h", 1_000_000, 0, 1000);
    assertThatThrownBy(() -> l.commit(new Allocation("ns/h", "d1", "n1", 2 * GI, GI, 20005, 1, huge)))
        .hasMessageContaining("overcommits d1");
    // A device that vanished keeps its tenants' extents and ports until they are released.
    assertThat(l.removeDevice("d1")).hasSize(1);
    assertThat(l.restore(new Allocation("ns/d", "d1", "n1", 0, GI, 20003, 0, TenantDemand.be("d")))).contains("overlaps");
  }

  @Test
  void aDeviceTakesNoMoreTenantsThanItsDataplaneServes() {
    Ledger l = new Ledger(PlacementPolicy.BEST_FIT, 20000, 29999);
    l.upsertDevice(dev("d1", "n1", 100 * GI));
    for (int i = 0; i < Ledger.MAX_TENANTS_PER_DEVICE; i++) placeAndCommit(l, be("ns/t" + i, GI / 4));
    Outcome o = l.place(be("ns/one-more", GI / 4));
    assertThat(o.fits()).isFalse();
    assertThat(o.reason()).contains("1 at their limit of 64 tenants");
    l.upsertDevice(dev("d2", "n1", 100 * GI));
    assertThat(l.place(be("ns/one-more", GI / 4)).allocation().device()).isEqualTo("d2");
  }
}

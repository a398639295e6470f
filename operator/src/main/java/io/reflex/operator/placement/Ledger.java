package io.reflex.operator.placement;

import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.TenantDemand;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The placement ledger (DESIGN §6): devices with their budgets, capacity, allocated extents and node ports, and
 * admission + placement of tenants against them. Pure and single-threaded: the operator serialises every call
 * under one lock, and commits an allocation only after the tenant's status carrying it was written.
 *
 * <p>Budget: the devmodels {@link Budget} re-evaluated over every tenant on the device plus the candidate, so the
 * rate in force is the one at the strictest LC SLO there (mixed unless everyone is read-only LC). LC reservations
 * never exceed it; BE tenants share what is left and are admitted only if they do not push the device into the
 * mixed budget below what LC tenants reserved.
 *
 * <p>Extents: first fit over the device's free gaps, aligned to {@link #ALIGN_BYTES}; never overlapping. Ports:
 * the lowest free port of the configured range on the device's node (unique per node: one dataplane per node).
 */
public final class Ledger {
  /**
   * Tenants one device's dataplane serves at most (the dataplane's DataplaneConfig.MAX_TENANTS, which the operator
   * cannot import): a 65th tenant would be placed but never served.
   */
  public static final int MAX_TENANTS_PER_DEVICE = 64;

  /** Extent alignment (4 KiB: the cost unit and any NVMe LBA format). */
  public static final long ALIGN_BYTES = 4096;

  private final PlacementPolicy policy;
  private final int portMin;
  private final int portMax;
  private final TreeMap<String, Device> devices = new TreeMap<>();
  /** device -> offset -> allocation; also holds extents on devices that are gone (their tenants still own them). */
  private final Map<String, TreeMap<Long, Allocation>> extents = new HashMap<>();
  private final TreeMap<String, Allocation> byTenant = new TreeMap<>();
  private final Map<String, TreeSet<Integer>> portsByNode = new HashMap<>();
  /** Held allocations not yet confirmed (their status write is in flight), with the allocation to roll back to. */
  private final Map<String, Pending> pending = new HashMap<>();
  /**
   * What placement needs of each device's tenants (their budget tally, their extents, the bytes they hold), computed
   * when first needed and dropped when they or the device change: placing a tenant evaluates every device, and
   * re-adding every device's tenants (then looking their extents up and summing their sizes) was most of its cost.
   */
  private final Map<String, Tenancy> tallies = new HashMap<>();

  /**
   * A device's tenants as placement sees them; {@code extents} is the ledger's own map (null: none), not a copy.
   * {@code largestGap}: the largest free extent, so a device is known to fit a size without walking its extents.
   */
  private record Tenancy(Budget.Tally tally, TreeMap<Long, Allocation> extents, long usedBytes, long largestGap) {
    Collection<Allocation> allocations() {
      return extents == null ? List.of() : extents.values();
    }

    int count() {
      return extents == null ? 0 : extents.size();
    }
  }

  public Ledger(PlacementPolicy policy, int portMin, int portMax) {
    if (portMin < 1 || portMax > 65535 || portMin > portMax) {
      throw new IllegalArgumentException("bad port range " + portMin + "-" + portMax);
    }
    this.policy = policy;
    this.portMin = portMin;
    this.portMax = portMax;
  }

  public PlacementPolicy policy() {
    return policy;
  }

  // ---- devices ------------------------------------------------------------------------------------------------

  public void upsertDevice(Device d) {
    devices.put(d.name(), d);
    tallies.remove(d.name()); // the model may have changed
  }

  /** The device is gone: forgotten, but the extents and ports of tenants still on it stay held until released. */
  public List<Allocation> removeDevice(String name) {
    devices.remove(name);
    tallies.remove(name);
    return allocationsOn(name);
  }

  public Optional<Device> device(String name) {
    return Optional.ofNullable(devices.get(name));
  }

  public List<Device> devices() {
    return List.copyOf(devices.values());
  }

  public List<Allocation> allocationsOn(String device) {
    TreeMap<Long, Allocation> m = extents.get(device);
    return m == null ? List.of() : List.copyOf(m.values());
  }

  public Optional<Allocation> allocation(String tenant) {
    return Optional.ofNullable(byTenant.get(tenant));
  }

  /** How many tenants hold an allocation. */
  public int tenantCount() {
    return byTenant.size();
  }

  /** Every allocation by tenant key (a copy, sorted). */
  public Map<String, Allocation> allocations() {
    return new TreeMap<>(byTenant);
  }

  /** What a device carries now. */
  public record Usage(Budget.Evaluation budget, long capacityBytes, long allocatedBytes, int tenants,
                      long reservedTokens) {
    /** LC reservations as a percentage of the budget in force, 0–100 (capped; 0 for an unlimited device). */
    public int reservedPercent() {
      if (Double.isInfinite(budget.tokenRate()) || budget.tokenRate() <= 0) {
        return 0;
      }
      return (int) Math.min(100, Math.round(100.0 * budget.lcReserved() / budget.tokenRate()));
    }
  }

  public Optional<Usage> usage(String device) {
    Device d = devices.get(device);
    if (d == null) {
      return Optional.empty();
    }
    List<Allocation> on = allocationsOn(device);
    long bytes = 0;
    long tokens = 0;
    for (Allocation a : on) {
      bytes += a.sizeBytes();
      tokens += a.tokens();
    }
    return Optional.of(new Usage(Budget.evaluate(d.model(), demands(on, null)), d.capacityBytes(), bytes, on.size(),
        tokens));
  }

  // ---- admission and placement ---------------------------------------------------------------------------------

  /** A device the tenant fits on, and what would be left there. */
  public record Candidate(Device device, long offsetBytes, int port, Budget.Evaluation after, long freeBytesAfter,
                          int tenantsAfter) {
    public double spareTokensAfter() {
      return after.spare();
    }
  }

  /**
   * Admits and places a new tenant (not yet in the ledger). Does not change the ledger: {@link #commit} the
   * allocation once the tenant's status holds it.
   */
  public Outcome place(TenantRequest r) {
    if (byTenant.containsKey(r.key())) {
      throw new IllegalStateException(r.key() + " is already placed; use replan");
    }
    Candidate c = best(r);
    if (c == null) { // none fits, or the best one's node has no free port: the full evaluation decides and explains
      Evaluated ev = evaluate(r);
      if (ev.candidates.isEmpty()) {
        return Outcome.noFit(reason(ev, r));
      }
      c = choose(ev.candidates);
    }
    return Outcome.placed(new Allocation(r.key(), c.device().name(), c.device().node(), c.offsetBytes(),
        aligned(r.capacityBytes()), c.port(), tokens(c.device().model(), r.demand()), r.demand()));
  }

  /** Devices the tenant fits on now, in name order. */
  public List<Candidate> candidates(TenantRequest r) {
    return evaluate(r).candidates;
  }

  private Candidate choose(List<Candidate> cs) {
    // Ties broken by device name (candidates arrive in name order and the first of equals is kept).
    Candidate best = null;
    for (Candidate c : cs) {
      if (best == null || before(c.spareTokensAfter(), c.freeBytesAfter(), c.tenantsAfter(), best.spareTokensAfter(),
          best.freeBytesAfter(), best.tenantsAfter())) {
        best = c;
      }
    }
    return best;
  }

  /** Whether the policy prefers a device left with (spare tokens, free bytes, tenants) {@code a} over {@code b}. */
  private boolean before(double spareA, long freeA, int tenantsA, double spareB, long freeB, int tenantsB) {
    int c = switch (policy) {
      case BEST_FIT -> {
        int x = Double.compare(spareA, spareB);
        yield x != 0 ? x : Long.compare(freeA, freeB);
      }
      case SPREAD -> {
        int x = Double.compare(spareB, spareA);
        x = x != 0 ? x : Long.compare(freeB, freeA);
        yield x != 0 ? x : Integer.compare(tenantsA, tenantsB);
      }
    };
    return c < 0;
  }

  /**
   * Re-admits a placed tenant whose spec changed, in place: same device, extent start and port; the new
   * reservation must fit the device's budget with everyone else there, and a larger capacity must fit the free
   * gap after its extent. Otherwise the reason (the current allocation stays).
   */
  public Outcome replan(TenantRequest r) {
    Allocation cur = byTenant.get(r.key());
    if (cur == null) {
      throw new IllegalStateException(r.key() + " is not placed; use place");
    }
    Device d = devices.get(cur.device());
    if (d == null) {
      return Outcome.noFit("cannot re-admit in place: device " + cur.device() + " is gone");
    }
    String v = r.constraints().violation(d);
    if (v != null) {
      return Outcome.noFit("cannot re-admit in place: device " + d.name() + " no longer meets the constraints ("
          + v + "); a placed tenant is not moved (its data would be lost)");
    }
    List<TenantDemand> others = demands(allocationsOn(d.name()), r.key());
    Budget.Decision dec = Budget.admit(d.model(), others, r.demand());
    if (!dec.admitted()) {
      return Outcome.noFit("cannot re-admit in place on " + d.name() + ": " + dec.reason());
    }
    long size = Math.max(cur.sizeBytes(), aligned(r.capacityBytes()));
    if (size > cur.sizeBytes()) {
      Map.Entry<Long, Allocation> next = extents.get(d.name()).higherEntry(cur.offsetBytes());
      long limit = next == null ? alignedDown(d.capacityBytes()) : next.getKey();
      if (cur.offsetBytes() + size > limit) {
        return Outcome.noFit("cannot grow in place on " + d.name() + " to " + Bytes.human(size) + ": only "
            + Bytes.human(limit - cur.offsetBytes()) + " free from the tenant's offset");
      }
    }
    return Outcome.placed(new Allocation(cur.tenant(), cur.device(), cur.node(), cur.offsetBytes(), size,
        cur.port(), tokens(d.model(), r.demand()), r.demand()));
  }

  /**
   * Records an allocation from {@link #place} or {@link #replan} after its status write succeeded. Throws if it
   * conflicts with the ledger (overlap, port taken, budget exceeded): a bug, since planning and committing happen
   * under the same lock.
   */
  public void commit(Allocation a) {
    String conflict = conflict(a);
    if (conflict != null) {
      throw new IllegalStateException("cannot commit " + a + ": " + conflict);
    }
    Device d = devices.get(a.device());
    if (d != null) {
      List<TenantDemand> all = demands(allocationsOn(a.device()), a.tenant());
      all.add(a.demand());
      Budget.Evaluation e = Budget.evaluate(d.model(), all);
      if (e.overcommitted()) {
        throw new IllegalStateException("cannot commit " + a.tenant() + ": overcommits " + d.name());
      }
    }
    put(a);
  }

  /**
   * Reserves an allocation from {@link #place} or {@link #replan} before its status write, so that the lock need
   * not be held across that write: others plan around it, but it is only tentative until {@link #confirm} (after
   * the status write succeeded) and {@link #rollback} puts {@code previous} (the tenant's allocation before, or
   * null) back if the write failed. Same checks as {@link #commit}.
   */
  public void hold(Allocation a, Allocation previous) {
    commit(a);
    pending.put(a.tenant(), new Pending(previous));
  }

  /** The held allocation's status write succeeded: it is committed. */
  public void confirm(String tenant) {
    pending.remove(tenant);
  }

  /**
   * The held allocation's status write failed: frees it and restores the tenant's previous allocation, if any.
   * Returns a conflict restoring the previous one (null if none).
   */
  public String rollback(String tenant) {
    Pending p = pending.remove(tenant);
    if (p == null) {
      return null;
    }
    release(tenant);
    return p.previous() == null ? null : restore(p.previous());
  }

  /** Tenants whose allocation is held but not yet confirmed. */
  public int pendingCount() {
    return pending.size();
  }

  private record Pending(Allocation previous) {}

  /**
   * Records an allocation read back from a tenant's status when the ledger is rebuilt. The API server is the
   * truth, so the budget is not checked (a device whose model shrank shows as overcommitted in its usage); an
   * extent overlap or a port clash cannot be both true, so it is refused: returns the conflict, else null.
   */
  public String restore(Allocation a) {
    String conflict = conflict(a);
    if (conflict == null) {
      put(a);
    }
    return conflict;
  }

  /** Frees a tenant's extent, port and reservation. */
  public Optional<Allocation> release(String tenant) {
    pending.remove(tenant);
    Allocation a = byTenant.remove(tenant);
    if (a == null) {
      return Optional.empty();
    }
    TreeMap<Long, Allocation> m = extents.get(a.device());
    tallies.remove(a.device());
    m.remove(a.offsetBytes());
    if (m.isEmpty()) {
      extents.remove(a.device());
    }
    TreeSet<Integer> ports = portsByNode.get(a.node());
    ports.remove(a.port());
    if (ports.isEmpty()) {
      portsByNode.remove(a.node());
    }
    return Optional.of(a);
  }

  private void put(Allocation a) {
    Allocation old = byTenant.get(a.tenant());
    if (old != null) {
      release(a.tenant());
    }
    byTenant.put(a.tenant(), a);
    tallies.remove(a.device());
    extents.computeIfAbsent(a.device(), k -> new TreeMap<>()).put(a.offsetBytes(), a);
    portsByNode.computeIfAbsent(a.node(), k -> new TreeSet<>()).add(a.port());
  }

  /** Overlap or port clash with allocations of other tenants; null if none. */
  private String conflict(Allocation a) {
    if (a.sizeBytes() <= 0 || a.offsetBytes() < 0) {
      return "empty or negative extent";
    }
    TreeMap<Long, Allocation> m = extents.getOrDefault(a.device(), new TreeMap<>());
    Map.Entry<Long, Allocation> before = m.floorEntry(a.offsetBytes());
    if (before != null && !before.getValue().tenant().equals(a.tenant())
        && before.getValue().endBytes() > a.offsetBytes()) {
      return "extent overlaps " + before.getValue().tenant();
    }
    Map.Entry<Long, Allocation> after = m.higherEntry(a.offsetBytes());
    if (after != null && !after.getValue().tenant().equals(a.tenant()) && after.getKey() < a.endBytes()) {
      return "extent overlaps " + after.getValue().tenant();
    }
    Allocation old = byTenant.get(a.tenant());
    boolean samePort = old != null && old.node().equals(a.node()) && old.port() == a.port();
    if (!samePort && portsByNode.getOrDefault(a.node(), new TreeSet<>()).contains(a.port())) {
      return "port " + a.port() + " on node " + a.node() + " is taken";
    }
    return null;
  }

  // ---- evaluation ----------------------------------------------------------------------------------------------

  /** A device the tenant does not fit on; the words for it are made only for the few a message names. */
  private record Rejection(Device device, Kind kind, String constraint, double spareForCandidate, long largestGap,
                           double needed) {}

  private enum Kind { NOT_READY, CONSTRAINTS, LATENCY, TENANTS, TOKENS, CAPACITY, PORTS }

  private record Evaluated(List<Candidate> candidates, List<Rejection> rejections, int deviceCount) {}

  private String reason(Evaluated ev, TenantRequest r) {
    if (ev.deviceCount() == 0) {
      return "no FlashDevices are known";
    }
    List<Rejection> rejections = ev.rejections();
    Map<Kind, Integer> counts = new LinkedHashMap<>();
    for (Kind k : Kind.values()) {
      counts.put(k, 0);
    }
    for (Rejection j : rejections) {
      counts.merge(j.kind(), 1, Integer::sum);
    }
    StringBuilder sb = new StringBuilder("no device fits");
    List<String> parts = new ArrayList<>();
    add(parts, counts.get(Kind.NOT_READY), "not Ready");
    add(parts, counts.get(Kind.CONSTRAINTS), "outside the placement constraints" + rejections.stream()
        .filter(j -> j.kind() == Kind.CONSTRAINTS).findFirst()
        .map(j -> " [" + j.device().name() + ": " + j.constraint() + "]").orElse(""));
    add(parts, counts.get(Kind.LATENCY), "whose models reach no p95 of " + r.demand().p95Micros() + "µs" + rejections.stream()
        .filter(j -> j.kind() == Kind.LATENCY).min(Comparator.comparingLong(j -> j.device().model().strictestP95Micros()))
        .map(j -> " [strictest: " + j.device().name() + ", p95 " + j.device().model().strictestP95Micros() + "µs]").orElse(""));
    add(parts, counts.get(Kind.TENANTS), "at their limit of " + MAX_TENANTS_PER_DEVICE + " tenants");
    add(parts, counts.get(Kind.TOKENS), "short of tokens");
    add(parts, counts.get(Kind.CAPACITY), "short of contiguous capacity");
    add(parts, counts.get(Kind.PORTS), "on nodes with no free port");
    sb.append(" (").append(ev.deviceCount()).append(ev.deviceCount() == 1 ? " device: " : " devices: ")
        .append(String.join(", ", parts)).append(")");
    TenantDemand t = r.demand();
    if (counts.get(Kind.TOKENS) > 0) {
      if (t.latencyCritical()) {
        Rejection best = rejections.stream().filter(j -> j.kind() == Kind.TOKENS)
            .max(Comparator.comparingDouble(Rejection::spareForCandidate)).orElseThrow();
        sb.append(String.format("; needs %s tokens/s (%d IOPS, %d%% read) at p95 %dµs; best device %s has %s spare",
            Budget.human(Math.ceil(best.needed())), t.iops(), t.readPercent(), t.p95Micros(), best.device().name(),
            Budget.human(Math.max(0, best.spareForCandidate()))));
      } else {
        rejections.stream().filter(j -> j.kind() == Kind.TOKENS).findFirst().ifPresent(j -> sb.append("; ")
            .append(j.device().name()).append(": ")
            .append(Budget.admit(j.device().model(), demands(allocationsOn(j.device().name()), null), t).reason()));
      }
    }
    if (counts.get(Kind.CAPACITY) > 0) {
      Rejection best = rejections.stream().filter(j -> j.kind() == Kind.CAPACITY)
          .max(Comparator.comparingLong(Rejection::largestGap)).orElseThrow();
      sb.append("; needs ").append(Bytes.human(aligned(r.capacityBytes()))).append(" contiguous; largest free extent is ")
          .append(Bytes.human(best.largestGap())).append(" on ").append(best.device().name());
    }
    return sb.toString();
  }

  private static void add(List<String> parts, int n, String what) {
    if (n > 0) {
      parts.add(n + " " + what);
    }
  }

  private Tenancy tenancy(Device d) {
    Tenancy t = tallies.get(d.name());
    if (t == null) {
      Budget.Tally tally = Budget.Tally.EMPTY;
      long used = 0;
      TreeMap<Long, Allocation> m = extents.get(d.name());
      if (m != null) {
        for (Allocation a : m.values()) { // offset order, as Budget.evaluate over allocationsOn: the same sums
          tally = tally.plus(d.model(), a.demand());
          used += a.sizeBytes();
        }
      }
      t = new Tenancy(tally, m, used, largestGap(d, m == null ? List.of() : m.values()));
      tallies.put(d.name(), t);
    }
    return t;
  }

  /**
   * The device {@link #evaluate} would choose, without its lists: one pass keeping the policy's best so far, the
   * extent and port found for that device alone (a device fits the size iff its largest free extent does). Null when
   * nothing fits or the chosen device's node has no free port; {@link #evaluate} then decides (and explains).
   */
  private Candidate best(TenantRequest r) {
    long size = aligned(r.capacityBytes());
    TenantDemand demand = r.demand();
    Device best = null;
    Tenancy bestTenancy = null;
    Budget.Evaluation bestAfter = null;
    long bestFree = 0;
    int bestTenants = 0;
    for (Device d : devices.values()) {
      if (!d.healthy() || r.constraints().violation(d) != null
          || (demand.latencyCritical() && !d.model().reaches(demand.p95Micros()))) {
        continue;
      }
      Tenancy tenancy = tenancy(d);
      if (tenancy.count() >= MAX_TENANTS_PER_DEVICE || tenancy.largestGap() < size) {
        continue;
      }
      Budget.Evaluation after = tenancy.tally().plus(d.model(), demand).evaluation(d.model());
      if (after.overcommitted()) {
        continue;
      }
      long free = alignedDown(d.capacityBytes()) - tenancy.usedBytes() - size;
      if (best == null || before(after.spare(), free, tenancy.count() + 1, bestAfter.spare(), bestFree, bestTenants)) {
        best = d;
        bestTenancy = tenancy;
        bestAfter = after;
        bestFree = free;
        bestTenants = tenancy.count() + 1;
      }
    }
    if (best == null) {
      return null;
    }
    int port = freePort(best.node());
    if (port < 0) {
      return null;
    }
    return new Candidate(best, firstFit(best, bestTenancy.allocations(), size), port, bestAfter, bestFree, bestTenants);
  }

  private Evaluated evaluate(TenantRequest r) {
    List<Candidate> cs = new ArrayList<>();
    List<Rejection> rs = new ArrayList<>();
    long size = aligned(r.capacityBytes());
    TenantDemand demand = r.demand();
    for (Device d : devices.values()) {
      if (!d.healthy()) {
        rs.add(new Rejection(d, Kind.NOT_READY, null, 0, 0, 0));
        continue;
      }
      String v = r.constraints().violation(d);
      if (v != null) {
        rs.add(new Rejection(d, Kind.CONSTRAINTS, v, 0, 0, 0));
        continue;
      }
      if (demand.latencyCritical() && !d.model().reaches(demand.p95Micros())) {
        rs.add(new Rejection(d, Kind.LATENCY, null, 0, 0, 0));
        continue;
      }
      Tenancy tenancy = tenancy(d);
      Collection<Allocation> on = tenancy.allocations();
      if (on.size() >= MAX_TENANTS_PER_DEVICE) {
        rs.add(new Rejection(d, Kind.TENANTS, null, 0, 0, 0));
        continue;
      }
      Budget.Evaluation after = tenancy.tally().plus(d.model(), demand).evaluation(d.model());
      double needed = demand.latencyCritical() ? d.model().reservation(demand.iops(), demand.readPercent()) : 0;
      double spareForCandidate = after.tokenRate() - (after.lcReserved() - needed);
      if (after.overcommitted()) {
        rs.add(new Rejection(d, Kind.TOKENS, null, spareForCandidate, 0, needed));
        continue;
      }
      long offset = firstFit(d, on, size);
      if (offset < 0) {
        rs.add(new Rejection(d, Kind.CAPACITY, null, spareForCandidate, tenancy.largestGap(), needed));
        continue;
      }
      int port = freePort(d.node());
      if (port < 0) {
        rs.add(new Rejection(d, Kind.PORTS, null, spareForCandidate, 0, needed));
        continue;
      }
      cs.add(new Candidate(d, offset, port, after, alignedDown(d.capacityBytes()) - tenancy.usedBytes() - size,
          on.size() + 1));
    }
    return new Evaluated(cs, rs, devices.size());
  }

  private long firstFit(Device d, Collection<Allocation> on, long size) {
    long cursor = 0;
    long end = alignedDown(d.capacityBytes());
    for (Allocation a : on) { // sorted by offset
      if (a.offsetBytes() - cursor >= size) {
        return cursor;
      }
      cursor = Math.max(cursor, a.endBytes());
    }
    return end - cursor >= size ? cursor : -1;
  }

  private long largestGap(Device d, Collection<Allocation> on) {
    long cursor = 0;
    long best = 0;
    for (Allocation a : on) {
      best = Math.max(best, a.offsetBytes() - cursor);
      cursor = Math.max(cursor, a.endBytes());
    }
    return Math.max(best, alignedDown(d.capacityBytes()) - cursor);
  }

  private int freePort(String node) {
    TreeSet<Integer> used = portsByNode.get(node);
    if (used == null) {
      return portMin;
    }
    // Ports are taken lowest first, so a node's usually run from portMin without a gap: the next one is free.
    int last = used.last();
    if (used.first() == portMin && last - portMin + 1 == used.size()) {
      return last < portMax ? last + 1 : -1;
    }
    for (int p = portMin; p <= portMax; p++) {
      if (!used.contains(p)) {
        return p;
      }
    }
    return -1;
  }

  private static List<TenantDemand> demands(List<Allocation> on, String except) {
    List<TenantDemand> l = new ArrayList<>(on.size() + 1);
    for (Allocation a : on) {
      if (!a.tenant().equals(except)) {
        l.add(a.demand());
      }
    }
    return l;
  }

  /** Tokens/s reserved for the tenant on a device with this model (rounded up; 0 for BE). */
  public static long tokens(DeviceModel model, TenantDemand t) {
    return t.latencyCritical() ? (long) Math.ceil(model.reservation(t.iops(), t.readPercent())) : 0;
  }

  public static long aligned(long bytes) {
    return (bytes + ALIGN_BYTES - 1) / ALIGN_BYTES * ALIGN_BYTES;
  }

  static long alignedDown(long bytes) {
    return bytes / ALIGN_BYTES * ALIGN_BYTES;
  }
}

package io.reflex.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.devmodels.DeviceModel;
import io.reflex.operator.liveness.AgentHeartbeats;
import io.reflex.operator.liveness.LeaderFence;
import io.reflex.operator.placement.Allocation;
import io.reflex.operator.placement.Device;
import io.reflex.operator.placement.Ledger;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The one ledger of the operator and its lock. Every read-modify-write of placement runs in {@link #withLedger},
 * which first rebuilds the ledger from the API server (FlashDevices, Nodes, FlashTenant statuses) if this process
 * has not done so yet: the API server is the source of truth and the operator may restart at any time.
 */
@Singleton
public class PlacementService {
  private static final Logger LOG = Logger.getLogger(PlacementService.class);

  private final ReentrantLock lock = new ReentrantLock();
  private final Ledger ledger;
  private final OperatorMetrics metrics;
  private final Set<String> namespaces;
  private final Set<ResourceID> waiting = ConcurrentHashMap.newKeySet();
  private volatile boolean initialised;
  private volatile Consumer<Set<ResourceID>> retry = ids -> {};
  private volatile Consumer<String> usageChanged = device -> {};

  private final AgentHeartbeats heartbeats;
  private final LeaderFence fence;

  @Inject
  public PlacementService(OperatorSettings settings, OperatorMetrics metrics, AgentHeartbeats heartbeats,
                          LeaderFence fence) {
    this(settings, metrics, Set.of(), heartbeats, fence);
  }

  /** {@code namespaces}: where tenants are watched (empty: all). No agent heartbeats, no leader fence. */
  public PlacementService(OperatorSettings settings, OperatorMetrics metrics, Set<String> namespaces) {
    this(settings, metrics, namespaces, AgentHeartbeats.NONE, LeaderFence.NONE);
  }

  public PlacementService(OperatorSettings settings, OperatorMetrics metrics, Set<String> namespaces,
                          AgentHeartbeats heartbeats, LeaderFence fence) {
    this.ledger = new Ledger(settings.policy(), settings.portMin(), settings.portMax());
    this.metrics = metrics;
    this.namespaces = Set.copyOf(namespaces);
    this.heartbeats = heartbeats;
    this.fence = fence;
    metrics.statsSource(this::stats);
  }

  public Set<String> namespaces() {
    return namespaces;
  }

  /** Whether the node agents of heartbeat-tracked devices are alive. */
  public AgentHeartbeats heartbeats() {
    return heartbeats;
  }

  /** Checked before every write of the operator's decisions (a deposed leader must not write). */
  public LeaderFence fence() {
    return fence;
  }

  /**
   * The device as placement sees it: Ready only if its agent says so and, for a device whose agent renews a Lease,
   * that Lease is being renewed.
   */
  public Device device(FlashDevice d, DeviceModel model, Node node) {
    Device x = Translate.device(d, model, node);
    return x.healthy() && heartbeats.problem(d) != null ? x.withHealthy(false) : x;
  }

  /** Deleted tenants (by UID) whose delete the ledger has absorbed; bounded, oldest forgotten first. Under the lock. */
  private final Map<String, Boolean> deleted = new java.util.LinkedHashMap<>(64, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > DELETED_REMEMBERED;
    }
  };
  /** More than the deletes a reconcile that read a tenant just before its delete can overlap with. */
  static final int DELETED_REMEMBERED = 4096;

  /**
   * Records, with the ledger lock held (inside {@link #withLedger}), that the tenant with this UID is deleted: a
   * reconcile that read it before its delete and plans after must not place it or restore its allocation from
   * its stale status (that allocation would never be freed).
   */
  public void markDeleted(String uid) {
    if (!lock.isHeldByCurrentThread()) throw new IllegalStateException("markDeleted outside withLedger");
    if (uid != null) deleted.put(uid, Boolean.TRUE);
  }

  /** Whether {@link #markDeleted} was called for this UID (call inside {@link #withLedger}). */
  public boolean isDeleted(String uid) {
    if (!lock.isHeldByCurrentThread()) throw new IllegalStateException("isDeleted outside withLedger");
    return uid != null && deleted.containsKey(uid);
  }

  /** Runs {@code f} on the ledger under the lock (rebuilding it first if needed); the gauges read it when scraped. */
  public <T> T withLedger(KubernetesClient client, Function<Ledger, T> f) {
    lock.lock();
    try {
      if (!initialised) {
        rebuild(client);
        initialised = true;
      }
      return f.apply(ledger);
    } finally {
      lock.unlock();
    }
  }

  private void rebuild(KubernetesClient client) {
    long t0 = System.nanoTime();
    Map<String, Node> nodes = new HashMap<>();
    try {
      client.nodes().list().getItems().forEach(n -> nodes.put(n.getMetadata().getName(), n));
    } catch (RuntimeException e) {
      LOG.warnf("cannot list Nodes (%s): node selectors and zones match nothing until Nodes are visible", e.getMessage());
    }
    int devices = 0;
    for (FlashDevice d : client.resources(FlashDevice.class).list().getItems()) {
      try {
        ledger.upsertDevice(device(d, Translate.model(d), nodes.get(d.getSpec().getNodeName())));
        devices++;
      } catch (Translate.AwaitingCalibration e) {
        LOG.infof("FlashDevice %s: %s", d.getMetadata().getName(), e.getMessage());
      } catch (RuntimeException e) {
        LOG.warnf("FlashDevice %s is not usable: %s", d.getMetadata().getName(), e.getMessage());
      }
    }
    List<FlashTenant> tenants = namespaces.isEmpty()
        ? client.resources(FlashTenant.class).inAnyNamespace().list().getItems()
        : namespaces.stream().flatMap(ns -> client.resources(FlashTenant.class).inNamespace(ns).list().getItems().stream())
            .toList();
    int restored = 0;
    for (FlashTenant t : tenants) {
      Allocation a;
      try {
        a = Translate.allocation(t).orElse(null);
      } catch (RuntimeException e) {
        LOG.warnf("FlashTenant %s: cannot read its placement: %s", Translate.key(t), e.getMessage());
        continue;
      }
      if (a == null) {
        continue;
      }
      String conflict = ledger.restore(a);
      if (conflict != null) {
        LOG.errorf("FlashTenant %s: its recorded placement conflicts with another tenant's (%s); it will be re-placed",
            a.tenant(), conflict);
      } else {
        restored++;
      }
    }
    LOG.infof("ledger rebuilt from the API server: %d devices, %d of %d tenants placed, in %d ms", devices, restored,
        tenants.size(), (System.nanoTime() - t0) / 1_000_000);
  }

  /** Ledger totals for the gauges (under the lock; computed when read). */
  private OperatorMetrics.LedgerStats stats() {
    lock.lock();
    try {
      return computeStats();
    } finally {
      lock.unlock();
    }
  }

  private OperatorMetrics.LedgerStats computeStats() {
    double reserved = 0;
    double budget = 0;
    long allocated = 0;
    long capacity = 0;
    int n = 0;
    for (var d : ledger.devices()) {
      var u = ledger.usage(d.name()).orElseThrow();
      n++;
      allocated += u.allocatedBytes();
      capacity += u.capacityBytes();
      if (!Double.isInfinite(u.budget().tokenRate())) {
        reserved += u.budget().lcReserved();
        budget += u.budget().tokenRate();
      }
    }
    return new OperatorMetrics.LedgerStats(n, ledger.tenantCount(), reserved, budget, allocated, capacity);
  }

  // ---- tenants waiting for capacity ------------------------------------------------------------------------------

  public void waiting(ResourceID tenant, boolean waiting) {
    if (waiting) {
      this.waiting.add(tenant);
    } else {
      this.waiting.remove(tenant);
    }
  }

  /**
   * Where {@link #deviceAbsorbed} and {@link #capacityFreed} send the tenants to reconcile (the tenant controller's
   * event source). Tenants decide from the ledger, and only the device reconciler writes devices into it: a tenant
   * reconcile triggered by the FlashDevice watch event itself can run before the device reconciler has absorbed
   * the change and would decide on the old device (e.g. not Ready yet), with no later event to try again. So the
   * retry is triggered from here, after the ledger holds the change.
   */
  public void onRetry(Consumer<Set<ResourceID>> retry) {
    this.retry = retry == null ? ids -> {} : retry;
  }

  /**
   * The ledger has absorbed a change to {@code device} (added, readiness, capacity, labels, model, removed):
   * reconciles the tenants on it and those waiting for capacity. Call after the change is in the ledger.
   */
  public void deviceAbsorbed(String device) {
    Set<ResourceID> ids = affectedByDevice(device);
    if (!ids.isEmpty()) {
      retry.accept(ids);
    }
  }

  /** Capacity was given back (a tenant left): reconciles the tenants waiting for capacity. */
  public void capacityFreed() {
    Set<ResourceID> ids = Set.copyOf(waiting);
    if (!ids.isEmpty()) {
      retry.accept(ids);
    }
  }

  /**
   * Where {@link #usageChanged} sends devices whose allocations changed (the device controller's event source, which
   * reports the usage in the device's status). The ledger only changes through this service, so this replaces
   * watching every FlashTenant a second time for the device controller.
   */
  public void onUsageChanged(Consumer<String> usageChanged) {
    this.usageChanged = usageChanged == null ? device -> {} : usageChanged;
  }

  /** Allocations on {@code device} were committed, rolled back, restored or released: report its usage again. */
  public void usageChanged(String device) {
    if (device != null) {
      usageChanged.accept(device);
    }
  }

  /** Tenants placed on a device. */
  public Set<ResourceID> tenantsOn(String device) {
    Set<ResourceID> ids = new HashSet<>();
    lock.lock();
    try {
      for (Allocation a : ledger.allocationsOn(device)) {
        ids.add(id(a.tenant()));
      }
    } finally {
      lock.unlock();
    }
    return ids;
  }

  /** Tenants to reconcile when a device changes: those on it, and those waiting for capacity anywhere. */
  public Set<ResourceID> affectedByDevice(String device) {
    Set<ResourceID> ids = tenantsOn(device);
    ids.addAll(waiting);
    return ids;
  }

  /** Tenants on a node (their Service endpoints use its address). */
  public Set<ResourceID> affectedByNode(String node) {
    Set<ResourceID> ids = new HashSet<>();
    lock.lock();
    try {
      for (Allocation a : ledger.allocations().values()) {
        if (a.node().equals(node)) {
          ids.add(id(a.tenant()));
        }
      }
    } finally {
      lock.unlock();
    }
    return ids;
  }

  static ResourceID id(String key) {
    int slash = key.indexOf('/');
    return new ResourceID(key.substring(slash + 1), key.substring(0, slash));
  }
}

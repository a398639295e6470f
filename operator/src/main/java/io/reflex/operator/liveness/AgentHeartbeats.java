package io.reflex.operator.liveness;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.reflex.crds.v1alpha1.FlashDevice;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Whether the node agent serving a FlashDevice is still there. The agent renews a Lease (coordination.k8s.io/v1, one
 * per node, {@code leaseDurationSeconds} its own setting) and names it in the annotation {@value #LEASE_ANNOTATION}
 * ({@code namespace/name}) of every FlashDevice it publishes. A device so annotated counts as Ready only while that
 * Lease is being renewed: the operator notes when it <em>saw</em> each renewal (its own monotonic clock, as the node
 * lifecycle controller does with node Leases, so clock skew between nodes does not matter) and declares the agent
 * gone once no renewal was seen for the Lease's duration, or, for a Lease it has never seen, for
 * {@code missingGrace} after its watch of the Leases synced (nothing is judged while they cannot be listed). An agent killed -9, a node powered off or cut off from the API
 * server all look the same: the device's phase stays what the agent last wrote, but it is not Ready for placement
 * and its tenants are told (or re-placed). Devices without the annotation (published by hand, or by an older agent)
 * are judged by their phase alone.
 */
public final class AgentHeartbeats implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AgentHeartbeats.class);
  /** FlashDevice annotation: {@code namespace/name} of the Lease its node agent renews. */
  public static final String LEASE_ANNOTATION = FlashDevice.GROUP + "/agent-lease";
  /** Tracks nothing: every device is judged by its phase. */
  public static final AgentHeartbeats NONE = new AgentHeartbeats();

  private final String namespace;
  private final Duration missingGrace;
  private final LongSupplier nanos;
  private final long createdNanos;
  /** When the Lease watch had first synced (0: not yet): a Lease never seen is judged from then on. */
  private volatile long syncedNanos;
  private volatile boolean unsyncedLogged;
  private final SharedIndexInformer<Lease> leases;
  private final ScheduledExecutorService sweeper;
  /** Lease name -> the last renewal seen and when. */
  private final Map<String, Beat> beats = new ConcurrentHashMap<>();
  /** Lease keys devices refer to -> the verdict last announced (true: alive). */
  private final Map<String, Boolean> announced = new ConcurrentHashMap<>();
  private volatile Consumer<String> changed = key -> {};

  /** A renewal as seen: the Lease's renewTime (only compared), when it was seen, the Lease's duration. */
  private record Beat(Object renewTime, long seenNanos, long durationNanos) {}

  private AgentHeartbeats() {
    namespace = null;
    missingGrace = Duration.ZERO;
    nanos = System::nanoTime;
    createdNanos = 0;
    leases = null;
    sweeper = null;
  }

  /**
   * Watches the Leases of {@code namespace} and re-judges every tracked device every {@code sweep}: a verdict that
   * changes is announced to {@link #onChange}.
   */
  public AgentHeartbeats(KubernetesClient client, String namespace, Duration missingGrace, Duration sweep) {
    this(client, namespace, missingGrace, sweep, System::nanoTime);
  }

  AgentHeartbeats(KubernetesClient client, String namespace, Duration missingGrace, Duration sweep, LongSupplier nanos) {
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.missingGrace = missingGrace;
    this.nanos = nanos;
    this.createdNanos = nanos.getAsLong();
    this.leases = client.resources(Lease.class).inNamespace(namespace).runnableInformer(0);
    this.leases.addEventHandler(new ResourceEventHandler<>() {
      @Override public void onAdd(Lease l) { seen(l); }
      @Override public void onUpdate(Lease o, Lease n) { seen(n); }
      @Override public void onDelete(Lease l, boolean unknown) { beats.remove(l.getMetadata().getName()); }
    });
    this.leases.start();
    this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "reflex-agent-heartbeats");
      t.setDaemon(true);
      return t;
    });
    long every = Math.max(50, sweep.toMillis());
    sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    LOG.infof("agent heartbeats: Leases in namespace %s; a device whose agent's Lease is not renewed for its duration "
        + "(or not seen for %s) is not Ready", namespace, missingGrace);
  }

  /** Where changed verdicts go: the Lease key ({@code namespace/name}, as in the annotation) of the devices affected. */
  public void onChange(Consumer<String> changed) {
    if (leases != null) { // NONE is shared and never announces anything
      this.changed = changed == null ? key -> {} : changed;
    }
  }

  /** The device's Lease key, or null when the device is not heartbeat-tracked. */
  public static String leaseKey(FlashDevice d) {
    var a = d.getMetadata().getAnnotations();
    String k = a == null ? null : a.get(LEASE_ANNOTATION);
    return k == null || k.isBlank() ? null : k.trim();
  }

  /** Whether the device's agent counts as gone, and why (null: alive, or not tracked). */
  public String problem(FlashDevice d) {
    if (leases == null) {
      return null;
    }
    String key = leaseKey(d);
    if (key == null) {
      return null;
    }
    String why = judge(key);
    announced.putIfAbsent(key, why == null);
    return why;
  }

  /**
   * The Lease's verdict: null when alive, else why not. Nothing is judged before the watch has synced: Leases that
   * cannot be listed (RBAC, an API server not answering) must not make every device look abandoned.
   */
  private String judge(String key) {
    if (!synced()) {
      return null;
    }
    int slash = key.indexOf('/');
    String ns = slash < 0 ? namespace : key.substring(0, slash);
    String name = key.substring(slash + 1);
    if (!namespace.equals(ns)) {
      return "its node agent renews Lease " + key + ", but the operator watches Leases in namespace " + namespace
          + " only (reflex.operator.agent-heartbeat.namespace)";
    }
    long now = nanos.getAsLong();
    Beat b = beats.get(name);
    if (b == null) {
      return now - syncedNanos <= missingGrace.toNanos() ? null
          : "its node agent's Lease " + key + " does not exist (agent gone before it ever renewed, or it cannot write "
            + "Leases)";
    }
    if (now - b.seenNanos() <= b.durationNanos()) {
      return null;
    }
    return "its node agent stopped renewing Lease " + key + ": no renewal for more than its "
        + b.durationNanos() / 1_000_000_000 + " s (agent killed, node down, or cut off from the API server)";
  }

  private boolean synced() {
    if (syncedNanos != 0) {
      return true;
    }
    if (!leases.hasSynced()) {
      if (!unsyncedLogged && nanos.getAsLong() - createdNanos > missingGrace.toNanos()) {
        unsyncedLogged = true;
        LOG.errorf("agent heartbeats: the Leases of namespace %s cannot be listed (RBAC: list/watch leases there?); "
            + "devices are judged by their phase alone until they can", namespace);
      }
      return false;
    }
    syncedNanos = nanos.getAsLong();
    return true;
  }

  private void seen(Lease l) {
    var spec = l.getSpec();
    if (spec == null) {
      return;
    }
    long duration = TimeUnit.SECONDS.toNanos(spec.getLeaseDurationSeconds() == null ? 40 : spec.getLeaseDurationSeconds());
    Object renew = spec.getRenewTime();
    beats.compute(l.getMetadata().getName(), (k, old) -> old != null && Objects.equals(old.renewTime(), renew)
        ? new Beat(renew, old.seenNanos(), duration) : new Beat(renew, nanos.getAsLong(), duration));
  }

  /** Re-judges every tracked Lease and announces those whose verdict changed. */
  void sweep() {
    try {
      for (var e : announced.entrySet()) {
        boolean alive = judge(e.getKey()) == null;
        if (e.getValue() != alive) {
          e.setValue(alive);
          LOG.infof("node agent of Lease %s is %s", e.getKey(), alive ? "back (renewing)" : "gone: " + judge(e.getKey()));
          changed.accept(e.getKey());
        }
      }
    } catch (RuntimeException e) {
      LOG.warnf("agent heartbeat sweep: %s", e.getMessage());
    }
  }

  @Override
  public void close() {
    if (sweeper != null) {
      sweeper.shutdownNow();
    }
    if (leases != null) {
      leases.stop();
    }
  }
}

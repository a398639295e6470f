package io.reflex.agent.kube;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.reflex.agent.config.AgentSettings;
import io.reflex.crds.v1alpha1.FlashDevice;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The agent's heartbeat: a Lease (coordination.k8s.io/v1) per node, {@code reflex-agent-NODE} in the agent's
 * namespace, holder the node, renewed every quarter of its duration by server-side apply (one request; RBAC: create
 * and patch on leases in that namespace). Every FlashDevice the agent publishes names it in the annotation
 * {@value #LEASE_ANNOTATION}; the operator counts such a device Ready only while the Lease is renewed, so an agent
 * killed -9 or a node that went away is noticed after the Lease's duration (its tenants get DeviceReady=False, or are
 * re-placed with replace-on-device-loss). The Lease is left in place on shutdown: an agent restarted within the
 * duration (an upgrade) goes unnoticed.
 *
 * <p><b>Self-fencing.</b> An agent that is alive but cut off from the API server looks exactly like a dead one to the
 * operator, which may move its tenants elsewhere; the agent must then have stopped serving them, or two copies of a
 * tenant accept writes. So the heartbeat also tells the agent when its Lease may be considered lost: once no renewal
 * has succeeded for the <em>fence interval</em> (default: the duration minus two renew periods, i.e. half of it —
 * 20 s of a 40 s Lease), {@link Listener#lapsed} is called from a watchdog thread of its own (never behind a
 * renewal request that hangs), and {@link #held()} is false until a renewal succeeds again. Why that is early enough:
 * <ul>
 *   <li>The agent counts from when it <em>sent</em> its last successful renewal. The API server stored it later, and
 *       the operator saw it later still (its watch), and the operator declares the agent lost only once its own
 *       monotonic clock says no renewal was seen for the Lease's duration, at its next sweep after that. So the
 *       operator's verdict comes at least a full duration after the agent's reference point, the agent's fence half a
 *       duration (plus one watchdog tick, at most 1/20 of the interval) after it.</li>
 *   <li>The remaining ~45% of the duration (18 s of 40) is the margin for the two clocks running at different rates
 *       (NTP-disciplined clocks differ by &lt; 0.05%, i.e. milliseconds over 40 s; even a 10% difference fits), for the
 *       watchdog thread being scheduled late, and for the dataplane loops closing listeners and connections (a task
 *       each loop runs within one iteration). The operator's sweep interval, its reconcile and the client's move to
 *       the new endpoint only come after its verdict, so they add to the margin.</li>
 *   <li>Time since the renewal is the larger of the monotonic and the wall-clock readings: the monotonic clock stops
 *       while a machine is suspended (a paused VM), the wall clock does not; a wall clock stepped forward at most
 *       fences early, stepped back it is ignored.</li>
 *   <li>Two renew periods, not one: renewals are due every quarter of the duration after the last successful one was
 *       sent, so the next has a whole renew period (10 s of 40) to succeed, retried every sixteenth of the duration
 *       when it fails, before anything is fenced: one slow or lost request does not fence.</li>
 * </ul>
 * Not covered: the whole agent process frozen (SIGSTOP, a stop-the-world pause) for longer than the margin — on
 * waking, a dataplane loop may answer before the watchdog runs. Only a check in the dataplane's reply path or fencing
 * tokens at the storage would close that.
 *
 * <p>Settings (environment, like the DaemonSet's other REFLEX_* settings): {@code REFLEX_HEARTBEAT_SECONDS} the
 * Lease's duration (default 40, as a kubelet's node Lease; 0: no heartbeat, devices are judged by their phase alone,
 * and no fencing), {@code REFLEX_HEARTBEAT_NAMESPACE} its namespace (default: the client's namespace, i.e. the agent's
 * own in a Pod; it must be the one the operator watches, reflex.operator.agent-heartbeat.namespace, also the release
 * namespace by default), {@code REFLEX_HEARTBEAT_FENCE_SECONDS} the fence interval (default: duration − 2 renew
 * periods = duration / 2; "0" or "off": never fence; otherwise more than one renew period and less than the
 * duration — a value above duration − 2 renew periods is accepted with a warning: it leaves less margin).
 */
public final class Heartbeat implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Heartbeat.class.getName());
  /** FlashDevice annotation naming the Lease ({@code namespace/name}); the operator reads the same key. */
  public static final String LEASE_ANNOTATION = FlashDevice.GROUP + "/agent-lease";
  public static final String NAME_PREFIX = "reflex-agent-";
  public static final int DEFAULT_SECONDS = 40;
  public static final String SECONDS_ENV = "REFLEX_HEARTBEAT_SECONDS";
  public static final String NAMESPACE_ENV = "REFLEX_HEARTBEAT_NAMESPACE";
  public static final String FENCE_ENV = "REFLEX_HEARTBEAT_FENCE_SECONDS";

  /** What the agent does when its Lease lapses and when it is renewed. */
  public interface Listener {
    /**
     * No renewal succeeded for the fence interval (or none ever did): stop serving now. Called once per lapse, on the
     * watchdog thread; must not wait for the API server.
     */
    void lapsed(String why);

    /** A renewal succeeded (on the renewal thread; every time). */
    void renewed();
  }

  private static final Listener NO_LISTENER = new Listener() {
    @Override public void lapsed(String why) {}
    @Override public void renewed() {}
  };

  /** The agent's client, for the first renewal (a cold start may take a while; the Lease must exist before devices name it). */
  private final KubernetesClient client;
  /** The same with a short request timeout and no retries inside a request, for the periodic renewals. */
  private final KubernetesClient renewClient;
  private final String namespace;
  private final String name;
  private final String node;
  private final int durationSeconds;
  private final String fieldManager;
  /** Renewals are due this long after the last successful one was sent; a failed one is retried after a quarter of it. */
  private final long renewNanos;
  /** No successful renewal for this long: lapsed (0: never). */
  private final long fenceNanos;
  private final LongSupplier nanos;
  private final LongSupplier wallMillis;
  private final ScheduledExecutorService timer;
  private final ScheduledExecutorService watchdog;
  private volatile Listener listener = NO_LISTENER;
  private ZonedDateTime acquired;
  private volatile boolean failing;
  /** When the last successful renewal was sent, on both clocks; {@link #renewedOnce} false: never. */
  private volatile long lastSentNanos;
  private volatile long lastSentWallMillis;
  private volatile boolean renewedOnce;
  /** Announced to the listener as lapsed, and not renewed since. */
  private boolean lapsed;

  Heartbeat(KubernetesClient client, String namespace, String node, int durationSeconds, String fieldManager) {
    this(client, namespace, node, durationSeconds, fieldManager, defaultFence(durationSeconds), System::nanoTime,
        System::currentTimeMillis);
  }

  /** {@code fence}: the fence interval, {@link Duration#ZERO} for none. */
  Heartbeat(KubernetesClient client, String namespace, String node, int durationSeconds, String fieldManager,
            Duration fence, LongSupplier nanos, LongSupplier wallMillis) {
    this.client = client;
    this.renewClient = client == null ? null : renewClient(client, durationSeconds);
    this.namespace = namespace;
    this.name = leaseName(node);
    this.node = node;
    this.durationSeconds = durationSeconds;
    this.fieldManager = fieldManager;
    this.renewNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(250), TimeUnit.SECONDS.toNanos(durationSeconds) / 4);
    this.fenceNanos = fence.toNanos();
    this.nanos = nanos;
    this.wallMillis = wallMillis;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "reflex-agent-heartbeat");
      t.setDaemon(true);
      return t;
    });
    this.watchdog = fenceNanos == 0 ? null : Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "reflex-agent-fence");
      t.setDaemon(true);
      t.setPriority(Thread.MAX_PRIORITY);
      return t;
    });
  }

  /** The heartbeat the environment asks for, or null when it is off (REFLEX_HEARTBEAT_SECONDS=0). */
  public static Heartbeat fromEnvironment(KubernetesClient client, AgentSettings settings) {
    String secs = System.getenv(SECONDS_ENV);
    int seconds;
    try {
      seconds = secs == null || secs.isBlank() ? DEFAULT_SECONDS : Integer.parseInt(secs.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(SECONDS_ENV + " must be a whole number of seconds, got '" + secs + "'");
    }
    if (seconds < 0) throw new IllegalArgumentException(SECONDS_ENV + " must be >= 0 (0: off), got " + seconds);
    if (seconds == 0) return null;
    Duration fence = fenceInterval(System.getenv(FENCE_ENV), seconds);
    String ns = System.getenv(NAMESPACE_ENV);
    if (ns == null || ns.isBlank()) ns = client.getNamespace();
    if (ns == null || ns.isBlank()) ns = "default";
    return new Heartbeat(client, ns.trim(), settings.node(), seconds, settings.fieldManager(), fence,
        System::nanoTime, System::currentTimeMillis);
  }

  /** Duration − 2 renew periods (renewals every quarter of the duration): half the duration. */
  static Duration defaultFence(int durationSeconds) {
    return Duration.ofMillis(durationSeconds * 1000L / 2);
  }

  /**
   * The fence interval {@code value} ({@value #FENCE_ENV}) asks for with a Lease of {@code durationSeconds}: unset or
   * blank the default, "0"/"off" none ({@link Duration#ZERO}), else seconds (fractions allowed), more than one renew
   * period and less than the duration.
   */
  static Duration fenceInterval(String value, int durationSeconds) {
    if (value == null || value.isBlank()) return defaultFence(durationSeconds);
    String v = value.trim();
    if (v.equalsIgnoreCase("off") || v.equalsIgnoreCase("false")) return Duration.ZERO;
    double s;
    try {
      s = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(FENCE_ENV + " must be a number of seconds (0 or off: never fence), got '" + value + "'");
    }
    if (s == 0) return Duration.ZERO;
    double renew = durationSeconds / 4.0;
    if (!(s > renew) || !(s < durationSeconds)) {
      throw new IllegalArgumentException(FENCE_ENV + " must be more than one renew period (" + renew + " s) and less than the "
          + "Lease's duration (" + SECONDS_ENV + "=" + durationSeconds + "), got " + value + " (0 or off: never fence)");
    }
    if (s > durationSeconds - 2 * renew) {
      LOG.warning(FENCE_ENV + "=" + value + " leaves less than two renew periods (" + 2 * renew + " s) between this agent "
          + "fencing itself and the operator declaring it lost: clock drift or a slow fence may let both copies of a "
          + "moved tenant serve for a moment");
    }
    return Duration.ofNanos((long) (s * 1e9));
  }

  /**
   * The client the renewals go through: no retries inside a request (the heartbeat retries on its own schedule, and
   * a request that retried for a minute would make the renewal look older than it is) and a request timeout of at
   * most one renew period.
   */
  private static KubernetesClient renewClient(KubernetesClient client, int durationSeconds) {
    try {
      RequestConfig rc = new RequestConfigBuilder(client.getConfiguration().getRequestConfig())
          .withRequestRetryBackoffLimit(0)
          .withRequestTimeout((int) Math.max(1000, Math.min(10_000, durationSeconds * 1000L / 4)))
          .build();
      return client.newClient(rc).adapt(KubernetesClient.class);
    } catch (RuntimeException e) {
      LOG.fine("heartbeat: using the agent's client as it is (" + e.getMessage() + ")");
      return client;
    }
  }

  /** {@code reflex-agent-NODE}; a node name too long for that is shortened with a hash (Lease names: 253). */
  static String leaseName(String node) {
    String n = NAME_PREFIX + node;
    if (n.length() <= 253) return n;
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(node.getBytes(StandardCharsets.UTF_8));
      return n.substring(0, 253 - 17) + "-" + HexFormat.of().formatHex(h, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What the devices' annotation says: {@code namespace/name}. */
  public String key() {
    return namespace + "/" + name;
  }

  /** Where lapses and renewals are reported; before {@link #start}. */
  public Heartbeat listener(Listener l) {
    this.listener = l == null ? NO_LISTENER : l;
    return this;
  }

  /** Whether the agent fences itself at all. */
  public boolean fencing() {
    return fenceNanos > 0;
  }

  /** The fence interval ({@link Duration#ZERO}: never). */
  public Duration fenceInterval() {
    return Duration.ofNanos(fenceNanos);
  }

  public Duration duration() {
    return Duration.ofSeconds(durationSeconds);
  }

  /**
   * Whether this agent may serve: a renewal succeeded less than the fence interval ago (always true without fencing).
   * Read fresh on every decision to serve, not only when the watchdog ticks.
   */
  public boolean held() {
    return fenceNanos == 0 || renewedOnce && sinceRenewalNanos() < fenceNanos;
  }

  /** Time since the last successful renewal was sent (null: none yet): the larger of the monotonic and wall readings. */
  public Duration sinceRenewal() {
    return renewedOnce ? Duration.ofNanos(sinceRenewalNanos()) : null;
  }

  private long sinceRenewalNanos() {
    long mono = nanos.getAsLong() - lastSentNanos;
    long wall = TimeUnit.MILLISECONDS.toNanos(wallMillis.getAsLong() - lastSentWallMillis);
    return Math.max(mono, wall);
  }

  /** Renews once now (so the Lease exists before any device names it), then every quarter of the duration. */
  public Heartbeat start() {
    timer.schedule(this::renewAndReschedule, nextDelay(renew(client)), TimeUnit.NANOSECONDS);
    if (watchdog != null) {
      long tick = Math.clamp(fenceNanos / 20, TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.SECONDS.toNanos(1));
      watchdog.scheduleAtFixedRate(this::check, tick, tick, TimeUnit.NANOSECONDS);
    }
    LOG.info("heartbeat: Lease " + key() + " renewed every " + renewNanos / 1_000_000 + " ms (duration " + durationSeconds
        + " s); " + (fenceNanos == 0 ? "self-fencing off (" + FENCE_ENV + ")"
            : "tenants stop being served after " + fenceNanos / 1_000_000 + " ms without a successful renewal"));
    return this;
  }

  /** After a success, one renew period after it was sent (not after it returned); after a failure, a quarter of one. */
  private long nextDelay(boolean renewed) {
    return renewed ? Math.max(0, renewNanos - (nanos.getAsLong() - lastSentNanos)) : renewNanos / 4;
  }

  private void renewAndReschedule() {
    long delay = renewNanos / 4;
    try {
      delay = nextDelay(renew(renewClient));
    } finally {
      if (!timer.isShutdown()) {
        try {
          timer.schedule(this::renewAndReschedule, delay, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // closing
        }
      }
    }
  }

  /** One renewal through {@code via}; true when the API server took it. */
  boolean renew(KubernetesClient via) {
    long sentNanos = nanos.getAsLong();
    long sentWall = wallMillis.getAsLong();
    try {
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      if (acquired == null) acquired = now;
      Map<String, String> labels = new HashMap<>();
      labels.put("app.kubernetes.io/component", "node-agent");
      if (node.length() <= 63) labels.put(FlashDevice.GROUP + "/node", node);
      LeaseSpec spec = new LeaseSpec();
      spec.setHolderIdentity(node);
      spec.setLeaseDurationSeconds(durationSeconds);
      spec.setAcquireTime(acquired);
      spec.setRenewTime(now);
      Lease lease = new Lease();
      lease.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).withLabels(labels).build());
      lease.setSpec(spec);
      via.resource(lease).fieldManager(fieldManager).forceConflicts().serverSideApply();
    } catch (RuntimeException e) {
      // The API server is unreachable, or RBAC refuses: said once per streak; the operator will notice the silence.
      if (!failing) LOG.warning("heartbeat: cannot renew Lease " + key() + ": " + e.getMessage());
      failing = true;
      return false;
    }
    long took = nanos.getAsLong() - sentNanos;
    if (took > renewNanos / 2) {
      // Slow renewals are what makes an agent fence itself although the API server answers: say so.
      LOG.warning("heartbeat: renewing Lease " + key() + " took " + took / 1_000_000 + " ms (renewed every "
          + renewNanos / 1_000_000 + " ms" + (fenceNanos == 0 ? ")" : "; tenants stop being served after "
              + fenceNanos / 1_000_000 + " ms without a successful renewal)"));
    }
    if (failing) LOG.info("heartbeat: Lease " + key() + " renewed again");
    failing = false;
    renewed(sentNanos, sentWall);
    return true;
  }

  /** A renewal sent at {@code sentNanos} succeeded. Under the same lock as {@link #check}: a lapse and a renewal never interleave. */
  synchronized void renewed(long sentNanos, long sentWallMillis) {
    if (renewedOnce && sentNanos - lastSentNanos < 0) return; // an older request finishing late (not with one timer thread)
    lastSentNanos = sentNanos;
    lastSentWallMillis = sentWallMillis;
    renewedOnce = true;
    if (held()) lapsed = false; // else it took longer than the fence interval: still lapsed
    listener.renewed();
  }

  /** The watchdog's tick: announces a lapse once. */
  synchronized void check() {
    try {
      if (lapsed || held()) return;
      lapsed = true;
      Duration since = sinceRenewal();
      listener.lapsed(since == null ? "Lease " + key() + " was never renewed"
          : "no successful renewal of Lease " + key() + " for " + since.toMillis() + " ms (fence interval "
              + fenceNanos / 1_000_000 + " ms; the operator declares this agent lost after " + durationSeconds + " s)");
    } catch (RuntimeException e) {
      LOG.log(java.util.logging.Level.SEVERE, "heartbeat watchdog: " + e.getMessage(), e); // next tick again
      lapsed = false;
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    if (watchdog != null) watchdog.shutdownNow();
  }
}

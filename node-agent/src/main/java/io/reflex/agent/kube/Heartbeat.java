package io.reflex.agent.kube;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.agent.config.AgentSettings;
import io.reflex.crds.v1alpha1.FlashDevice;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * <p>Settings (environment, like the DaemonSet's other REFLEX_* settings): {@code REFLEX_HEARTBEAT_SECONDS} the
 * Lease's duration (default 40, as a kubelet's node Lease; 0: no heartbeat, devices are judged by their phase alone),
 * {@code REFLEX_HEARTBEAT_NAMESPACE} its namespace (default: the client's namespace, i.e. the agent's own in a Pod;
 * it must be the one the operator watches, reflex.operator.agent-heartbeat.namespace, also the release namespace by
 * default).
 */
public final class Heartbeat implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Heartbeat.class.getName());
  /** FlashDevice annotation naming the Lease ({@code namespace/name}); the operator reads the same key. */
  public static final String LEASE_ANNOTATION = FlashDevice.GROUP + "/agent-lease";
  public static final String NAME_PREFIX = "reflex-agent-";
  public static final int DEFAULT_SECONDS = 40;

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final String node;
  private final int durationSeconds;
  private final String fieldManager;
  private final ScheduledExecutorService timer;
  private ZonedDateTime acquired;
  private volatile boolean failing;

  Heartbeat(KubernetesClient client, String namespace, String node, int durationSeconds, String fieldManager) {
    this.client = client;
    this.namespace = namespace;
    this.name = leaseName(node);
    this.node = node;
    this.durationSeconds = durationSeconds;
    this.fieldManager = fieldManager;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "reflex-agent-heartbeat");
      t.setDaemon(true);
      return t;
    });
  }

  /** The heartbeat the environment asks for, or null when it is off (REFLEX_HEARTBEAT_SECONDS=0). */
  public static Heartbeat fromEnvironment(KubernetesClient client, AgentSettings settings) {
    String secs = System.getenv("REFLEX_HEARTBEAT_SECONDS");
    int seconds;
    try {
      seconds = secs == null || secs.isBlank() ? DEFAULT_SECONDS : Integer.parseInt(secs.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("REFLEX_HEARTBEAT_SECONDS must be a whole number of seconds, got '" + secs + "'");
    }
    if (seconds < 0) throw new IllegalArgumentException("REFLEX_HEARTBEAT_SECONDS must be >= 0 (0: off), got " + seconds);
    if (seconds == 0) return null;
    String ns = System.getenv("REFLEX_HEARTBEAT_NAMESPACE");
    if (ns == null || ns.isBlank()) ns = client.getNamespace();
    if (ns == null || ns.isBlank()) ns = "default";
    return new Heartbeat(client, ns.trim(), settings.node(), seconds, settings.fieldManager());
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

  /** Renews once now (so the Lease exists before any device names it), then every quarter of the duration. */
  public Heartbeat start() {
    renew();
    long every = Math.max(250, durationSeconds * 1000L / 4);
    timer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    LOG.info("heartbeat: Lease " + key() + " renewed every " + every + " ms (duration " + durationSeconds + " s)");
    return this;
  }

  void renew() {
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
      client.resource(lease).fieldManager(fieldManager).forceConflicts().serverSideApply();
      if (failing) LOG.info("heartbeat: Lease " + key() + " renewed again");
      failing = false;
    } catch (RuntimeException e) {
      // The API server is unreachable, or RBAC refuses: said once per streak; the operator will notice the silence.
      if (!failing) LOG.warning("heartbeat: cannot renew Lease " + key() + ": " + e.getMessage());
      failing = true;
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}

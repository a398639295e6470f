package io.reflex.operator.liveness;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Keeps a deposed leader from writing. Leader election alone does not: a leader that was paused (GC, SIGSTOP, a
 * frozen VM) past its lease resumes believing it still leads, and its reconcile threads finish what they were doing
 * (status writes of placements decided from a ledger the new leader no longer shares) before its elector notices
 * and the process exits. So every write of the operator's decisions first checks the leader Lease as this process
 * last saw it (a watch of that one Lease, no request per write): this replica must be its holder, renewed less than
 * the renew deadline ago by the local clock (if the watch says otherwise, a GET of the Lease decides: the watch may
 * lag behind this replica's own acquisition). The elector renews every retry period, so a live leader passes with
 * (renew deadline - retry period) to spare; a replica that was paused for longer than the renew deadline fails
 * closed at once on resuming, whatever its cache holds (an old renewTime, or the new holder), and the other
 * replicas take over only after the longer lease duration. What is left is a write that passed this check and is
 * then paused for more than (lease duration - renew deadline) before it reaches the API server.
 */
public final class LeaderFence implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(LeaderFence.class);
  /** Fences nothing (leader election off: a single replica). */
  public static final LeaderFence NONE = new LeaderFence();

  private final String namespace;
  private final String name;
  private final String identity;
  private final Duration renewDeadline;
  private final Clock clock;
  private final KubernetesClient client;
  private final SharedIndexInformer<Lease> lease;

  private LeaderFence() {
    client = null;
    namespace = name = identity = null;
    renewDeadline = null;
    clock = null;
    lease = null;
  }

  /** Starts watching the Lease {@code namespace/name} that the elector renews for {@code identity}. */
  public LeaderFence(KubernetesClient client, String namespace, String name, String identity, Duration renewDeadline) {
    this(client, namespace, name, identity, renewDeadline, Clock.systemUTC());
  }

  LeaderFence(KubernetesClient client, String namespace, String name, String identity, Duration renewDeadline, Clock clock) {
    this.namespace = namespace;
    this.name = name;
    this.identity = identity;
    this.renewDeadline = renewDeadline;
    this.clock = clock;
    this.client = client;
    this.lease = client.resources(Lease.class).inNamespace(namespace).withName(name).runnableInformer(0);
    this.lease.start(); // syncs in the background; until then writes are refused (fails closed)
    LOG.infof("leader fence: writes only while Lease %s/%s names %s, renewed within %s", namespace, name, identity,
        renewDeadline);
  }

  /**
   * Throws {@link NotLeaderException} unless this replica holds the leader Lease, renewed within the deadline: as
   * the watch last showed it, or else (the watch may not have delivered this replica's own acquisition yet) as the
   * API server has it now.
   */
  public void check(String what) {
    if (lease == null) {
      return;
    }
    List<Lease> seen = lease.getStore().list();
    if (refusal(seen.isEmpty() ? null : seen.getFirst()) == null) {
      LOG.debugf("fence passed: %s", what); // bench/faults: when each write was let through
      return;
    }
    Lease now;
    try {
      now = client.resources(Lease.class).inNamespace(namespace).withName(name).get();
    } catch (RuntimeException e) {
      throw new NotLeaderException(what + ": not provably the leader: cannot read Lease " + namespace + "/" + name
          + ": " + e.getMessage());
    }
    String why = refusal(now);
    if (why != null) {
      throw new NotLeaderException(what + ": " + why);
    }
    LOG.debugf("fence passed: %s", what);
  }

  /** Why this Lease does not let this replica write now, or null when it does. */
  private String refusal(Lease l) {
    if (l == null || l.getSpec() == null) {
      return "not the leader (any more, or yet): no Lease " + namespace + "/" + name;
    }
    var spec = l.getSpec();
    if (!identity.equals(spec.getHolderIdentity())) {
      return "not the leader any more: Lease " + namespace + "/" + name + " is held by " + spec.getHolderIdentity()
          + ", this replica is " + identity;
    }
    Instant renewed = spec.getRenewTime() == null ? Instant.EPOCH : spec.getRenewTime().toInstant();
    Instant now = clock.instant();
    if (now.isAfter(renewed.plus(renewDeadline))) {
      return "not the leader any more: Lease " + namespace + "/" + name + " last renewed "
          + Duration.between(renewed, now).toMillis() + " ms ago (renew deadline " + renewDeadline
          + "); another replica may hold it now";
    }
    return null;
  }

  @Override
  public void close() {
    if (lease != null) {
      lease.stop();
    }
  }

  /** A write refused because this replica is not (or no longer provably) the leader. */
  public static final class NotLeaderException extends IllegalStateException {
    public NotLeaderException(String message) {
      super(message);
    }
  }
}

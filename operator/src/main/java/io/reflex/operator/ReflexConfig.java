package io.reflex.operator;

import io.reflex.operator.placement.PlacementPolicy;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;

/** {@code reflex.operator.*} configuration; see application.properties. */
@ConfigMapping(prefix = "reflex.operator")
public interface ReflexConfig {
  @WithDefault("best-fit")
  String policy();

  Ports ports();

  /** pending (retry when capacity appears) or rejected. */
  @WithDefault("pending")
  String onNoFit();

  @WithDefault("false")
  boolean replaceOnDeviceLoss();

  @WithDefault("60s")
  Duration pendingRetry();

  LeaderElectionGroup leaderElection();

  AgentHeartbeatGroup agentHeartbeat();

  /** The node agents' Leases (see io.reflex.operator.liveness.AgentHeartbeats). */
  interface AgentHeartbeatGroup {
    /** Judge heartbeat-tracked devices by their agent's Lease (false: by their phase alone). */
    @WithDefault("true")
    boolean enabled();

    /** Namespace of the agents' Leases; default: the client's namespace (the release namespace, in a Pod). */
    java.util.Optional<String> namespace();

    /** A tracked device whose agent's Lease was never seen counts as alive for this long after the operator starts. */
    @WithDefault("40s")
    Duration missingGrace();
  }

  interface LeaderElectionGroup {
    @WithDefault("false")
    boolean enabled();

    @WithDefault("reflex-operator")
    String leaseName();

    /** Namespace of the Lease; default: the client's namespace (the operator's own, in a Pod). */
    java.util.Optional<String> leaseNamespace();

    /** This replica's name in the Lease; default: $HOSTNAME (the Pod's name), else a random UUID. */
    java.util.Optional<String> identity();

    /** How long a Lease not renewed keeps the other replicas waiting. */
    @WithDefault("15s")
    Duration leaseDuration();

    /** How long the leader keeps trying to renew before it gives up (and exits; also when its writes stop). */
    @WithDefault("10s")
    Duration renewDeadline();

    /** How often the Lease is renewed, or tried by the replicas that wait. */
    @WithDefault("2s")
    Duration retryPeriod();

    /**
     * Refuse writes unless this replica provably still holds the Lease (LeaderFence); false only to show what a
     * deposed leader does without it (bench/faults).
     */
    @WithDefault("true")
    boolean fence();
  }

  interface Ports {
    @WithDefault("20000")
    int min();

    @WithDefault("29999")
    int max();
  }

  /** CDI producer of the settings record. */
  @Singleton
  class Producer {
    @Produces
    @Singleton
    OperatorSettings settings(ReflexConfig c) {
      PlacementPolicy p = switch (c.policy().toLowerCase().replace('_', '-')) {
        case "best-fit", "bestfit", "pack" -> PlacementPolicy.BEST_FIT;
        case "spread" -> PlacementPolicy.SPREAD;
        default -> throw new IllegalArgumentException("reflex.operator.policy: best-fit or spread, not " + c.policy());
      };
      boolean reject = switch (c.onNoFit().toLowerCase()) {
        case "pending" -> false;
        case "rejected", "reject" -> true;
        default -> throw new IllegalArgumentException("reflex.operator.on-no-fit: pending or rejected, not " + c.onNoFit());
      };
      return new OperatorSettings(p, c.ports().min(), c.ports().max(), reject, c.replaceOnDeviceLoss(), c.pendingRetry());
    }
  }
}

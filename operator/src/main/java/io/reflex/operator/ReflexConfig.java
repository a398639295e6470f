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

  interface LeaderElectionGroup {
    @WithDefault("false")
    boolean enabled();

    @WithDefault("reflex-operator")
    String leaseName();

    /** Namespace of the Lease; default: the client's namespace (the operator's own, in a Pod). */
    java.util.Optional<String> leaseNamespace();
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

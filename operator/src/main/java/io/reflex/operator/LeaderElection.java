package io.reflex.operator;

import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.quarkiverse.operatorsdk.runtime.api.ConfigurationServiceCustomizer;
import jakarta.inject.Singleton;
import java.util.function.Consumer;
import jakarta.inject.Inject;

/**
 * Leader election for several replicas (the ledger lives in one process, so exactly one may place): JOSDK's
 * Lease-based election, on with {@code reflex.operator.leader-election.enabled=true}. A replica that becomes leader
 * rebuilds its ledger from the API server before its first placement.
 */
@Singleton
public class LeaderElection implements ConfigurationServiceCustomizer {
  @Inject
  ReflexConfig config;

  @Override
  public Consumer<ConfigurationServiceOverrider> overrider() {
    return o -> {
      var le = config.leaderElection();
      if (le.enabled()) {
        o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(le.leaseName(), le.leaseNamespace().orElse(null)));
      }
    };
  }
}

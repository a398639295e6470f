package io.reflex.operator;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Leader election for several replicas (the ledger lives in one process, so exactly one may place): JOSDK's
 * Lease-based election, on with {@code reflex.operator.leader-election.enabled=true}, handed to quarkus-operator-sdk
 * as its {@link LeaderElectionConfiguration} bean (which it reads in the {@code prod} profile, the packaged one's).
 * Not through a {@code ConfigurationServiceCustomizer}: with one, quarkus-operator-sdk 7.7.3 wraps its configuration
 * in an {@code OverriddenConfigurationService} that passes on neither the Kubernetes client nor the cloner, and JOSDK
 * then makes a default client of its own, without the operator's client settings ({@link ClientConfig},
 * {@link ClientSerialization}).
 *
 * <p>A replica that becomes leader rebuilds its ledger from the API server before its first placement; one that
 * loses the Lease exits (JOSDK), and until it has, {@link io.reflex.operator.liveness.LeaderFence} keeps its writes
 * out.
 */
@Singleton
public class LeaderElection {
  private static final Logger LOG = Logger.getLogger(LeaderElection.class);
  private final ReflexConfig.LeaderElectionGroup config;
  private final String identity;

  @Inject
  public LeaderElection(ReflexConfig config) {
    this.config = config.leaderElection();
    String host = System.getenv("HOSTNAME");
    this.identity = this.config.identity().filter(s -> !s.isBlank())
        .orElse(host != null && !host.isBlank() ? host : UUID.randomUUID().toString());
  }

  public boolean enabled() {
    return config.enabled();
  }

  /** This replica's holder identity in the Lease. */
  public String identity() {
    return identity;
  }

  /**
   * JOSDK's own exit on losing the Lease ({@code exitOnStopLeading}) is off: it calls System.exit from inside the
   * elector's synchronized stopLeading, and the shutdown hook (Quarkus stopping the operator, which stops the elector)
   * then waits for that same monitor: the deposed replica hung in shutdown for good, neither leading nor restarting
   * (seen in bench/faults). Here the exit runs on a thread of its own, so the elector's thread returns and lets go of
   * the monitor; a halt after {@link #EXIT_GRACE} makes sure the process ends even if some other hook hangs.
   */
  @Produces
  @Dependent
  LeaderElectionConfiguration configuration() {
    if (!config.enabled()) {
      return null; // no election: this replica leads
    }
    return new LeaderElectionConfiguration(config.leaseName(), config.leaseNamespace().orElse(null),
        config.leaseDuration(), config.renewDeadline(), config.retryPeriod(), identity,
        new LeaderCallbacks(() -> {}, () -> exitAfterLosingTheLease(identity), leader -> {}), false);
  }

  static final java.time.Duration EXIT_GRACE = java.time.Duration.ofSeconds(30);

  static void exitAfterLosingTheLease(String identity) {
    LOG.errorf("replica %s lost the leader Lease: exiting, to come back as a standby with a fresh ledger", identity);
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(EXIT_GRACE);
      } catch (InterruptedException e) {
        return;
      }
      Runtime.getRuntime().halt(1);
    }, "reflex-halt-after-lost-lease");
    halt.setDaemon(true);
    halt.start();
    new Thread(() -> System.exit(1), "reflex-exit-after-lost-lease").start();
  }
}

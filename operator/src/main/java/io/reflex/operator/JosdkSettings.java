package io.reflex.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.Cloner;
import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import io.quarkiverse.operatorsdk.runtime.api.ConfigurationServiceCustomizer;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.function.Consumer;

/**
 * The operator's changes to JOSDK's configuration (quarkus-operator-sdk takes one such bean): leader election
 * ({@link LeaderElection}), and no copy of the primary resource before each reconcile.
 *
 * <p>JOSDK clones a tenant (a JSON round trip through fabric8's reflective model) before every reconcile so that a
 * reconciler that edits it cannot corrupt the informer's cache. Ours never edit what they are given (statuses and
 * patches are new objects), and the copy was 5% of the operator's CPU placing 3,000 tenants.
 */
@Singleton
public class JosdkSettings implements ConfigurationServiceCustomizer {
  /** Hands reconcilers the cached object itself: they must treat it as read-only. */
  public static final Cloner NO_COPY = new Cloner() {
    @Override
    public <R extends HasMetadata> R clone(R object) {
      return object;
    }
  };

  private final LeaderElection election;

  @Inject
  public JosdkSettings(LeaderElection election) {
    this.election = election;
  }

  @Override
  public Consumer<ConfigurationServiceOverrider> overrider() {
    return o -> {
      election.apply(o);
      o.withResourceCloner(NO_COPY);
    };
  }
}

package io.reflex.operator.apiserver;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.PlacementService;
import io.reflex.operator.device.FlashDeviceReconciler;
import io.reflex.operator.liveness.AgentHeartbeats;
import io.reflex.operator.liveness.LeaderFence;
import io.reflex.operator.tenant.FlashTenantReconciler;
import java.nio.file.Path;
import java.util.Set;

/**
 * The operator's reconcilers on a plain JOSDK {@link Operator} in the test JVM, watching one namespace: the same
 * classes Quarkus wires, without CDI, so a test can stop it and start a fresh one (new ledger, rebuilt from the
 * API server) as a restart would.
 */
final class InProcessOperator implements AutoCloseable {
  final Operator operator;
  final PlacementService placement;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  /** The client this operator owns (closed by {@link #kill}), or null when the test's client is shared. */
  private final KubernetesClient ownClient;

  InProcessOperator(KubernetesClient client, String namespace, OperatorSettings settings) {
    this(client, namespace, settings, AgentHeartbeats.NONE, false);
  }

  /**
   * {@code heartbeats}: how devices' agents are judged; {@code ownsClient}: {@link #kill} closes {@code client} (give
   * it a client of its own, e.g. {@code ControlPlane#newClient}).
   */
  InProcessOperator(KubernetesClient client, String namespace, OperatorSettings settings, AgentHeartbeats heartbeats,
                    boolean ownsClient) {
    OperatorMetrics metrics = new OperatorMetrics(registry);
    placement = new PlacementService(settings, metrics, Set.of(namespace), heartbeats, LeaderFence.NONE);
    ownClient = ownsClient ? client : null;
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));

    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(namespace));
    operator.start();
  }

  /**
   * The in-process stand-in for kill -9: its connections to the API server are cut first (its client closed, so
   * requests in flight fail and nothing it still computes reaches the server), then its threads are stopped; its
   * ledger is dropped with it. Only for an operator that owns its client.
   */
  void kill() {
    if (ownClient == null) {
      throw new IllegalStateException("kill() needs an operator with a client of its own");
    }
    ownClient.close();
    try {
      operator.stop();
    } catch (RuntimeException e) {
      // informers and reconciles failing on the closed client: what a killed process leaves behind is the point
    }
  }

  static Path[] crds() {
    Path dir = Path.of(System.getProperty("reflex.crds.dir", "../crds/generated"));
    return new Path[] {dir.resolve("flashdevices.reflex.io-v1.yml"), dir.resolve("flashtenants.reflex.io-v1.yml")};
  }

  @Override
  public void close() {
    operator.stop();
    if (ownClient != null) {
      ownClient.close();
    }
  }
}

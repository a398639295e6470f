package io.reflex.operator.apiserver;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.PlacementService;
import io.reflex.operator.device.FlashDeviceReconciler;
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

  InProcessOperator(KubernetesClient client, String namespace, OperatorSettings settings) {
    OperatorMetrics metrics = new OperatorMetrics(registry);
    placement = new PlacementService(settings, metrics, Set.of(namespace));
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(4).withStopOnInformerErrorDuringStartup(true));
    operator.register(new FlashDeviceReconciler(placement, metrics));
    operator.register(new FlashTenantReconciler(placement, settings, metrics), o -> o.settingNamespaces(namespace));
    operator.start();
  }

  static Path[] crds() {
    Path dir = Path.of(System.getProperty("reflex.crds.dir", "../crds/generated"));
    return new Path[] {dir.resolve("flashdevices.reflex.io-v1.yml"), dir.resolve("flashtenants.reflex.io-v1.yml")};
  }

  @Override
  public void close() {
    operator.stop();
  }
}

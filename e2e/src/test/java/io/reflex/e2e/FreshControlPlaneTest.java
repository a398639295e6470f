package io.reflex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;

/** {@code freshServer = true}: this class gets its own etcd + kube-apiserver, stopped after the class. */
@KubeApiTest(freshServer = true)
class FreshControlPlaneTest {

  @Test
  void getsItsOwnServer(ControlPlane controlPlane, KubernetesClient client, KubeApi api) {
    assertThat(controlPlane.owned()).isTrue();
    assertThat(controlPlane.startTime()).isPositive();
    assertThat(client.namespaces().list().getItems()).extracting(n -> n.getMetadata().getName())
        .as("a fresh server has only the built-in namespaces and ours")
        .containsExactlyInAnyOrder("default", "kube-system", "kube-public", "kube-node-lease", api.namespace());
    System.out.printf("[reflex-e2e] private control plane ready in %d ms%n", controlPlane.startTime().toMillis());
  }
}

package io.reflex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The harness hands out a real API server: what the mock server cannot do works here. */
@KubeApiTest
class SharedControlPlaneTest {

  KubeApi api;
  KubernetesClient client;

  @Test
  void runsThePinnedVersionWithAFreshNamespace() {
    assertThat(client.getKubernetesVersion().getGitVersion()).isEqualTo("v1.33.13");
    assertThat(client.namespaces().withName(api.namespace()).get().getStatus().getPhase()).isEqualTo("Active");
    assertThat(client.getNamespace()).isEqualTo(api.namespace());
    assertThat(client.namespaces().withName(api.namespace()).get().getMetadata().getLabels())
        .containsEntry("reflex.io/test-class", "SharedControlPlaneTest");
  }

  @Test
  void kubectlTalksToTheSameServer() {
    client.configMaps().resource(cm("from-java", "a", "1")).create();
    assertThat(api.kubectl("get", "configmap", "from-java", "-o", "jsonpath={.data.a}").assertOk().stdout())
        .isEqualTo("1");
  }

  @Test
  void serverSideApplyTracksFieldOwnership() {
    client.configMaps().resource(cm("ssa", "a", "1")).fieldManager("alice").serverSideApply();
    assertThatThrownBy(() -> client.configMaps().resource(cm("ssa", "a", "2")).fieldManager("bob").serverSideApply())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
    client.configMaps().resource(cm("ssa", "a", "2")).fieldManager("bob").forceConflicts().serverSideApply();
    ConfigMap now = client.configMaps().withName("ssa").get();
    assertThat(now.getData()).containsEntry("a", "2");
    assertThat(now.getMetadata().getManagedFields()).extracting(m -> m.getManager()).contains("bob");
  }

  @Test
  void watchesDeliverEventsInOrder() {
    List<String> events = new CopyOnWriteArrayList<>();
    try (var w = client.configMaps().withName("watched").watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, ConfigMap cm) {
        events.add(action + ":" + (cm.getData() == null ? "" : cm.getData().get("v")));
      }

      @Override
      public void onClose(WatcherException cause) {}
    })) {
      client.configMaps().resource(cm("watched", "v", "1")).create();
      client.configMaps().withName("watched").edit(c -> { c.getData().put("v", "2"); return c; });
      client.configMaps().withName("watched").delete();
      Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> events.size() >= 3);
    }
    assertThat(events).containsExactly("ADDED:1", "MODIFIED:2", "DELETED:2");
  }

  private static ConfigMap cm(String name, String key, String value) {
    return new ConfigMapBuilder().withNewMetadata().withName(name).endMetadata().addToData(key, value).build();
  }
}

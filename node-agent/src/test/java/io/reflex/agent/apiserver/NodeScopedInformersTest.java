package io.reflex.agent.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.reflex.agent.kube.NodeScopedInformers;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A node agent sees only its node's tenants (selectable field status.placement.node) on a real API server. */
@KubeApiTest
class NodeScopedInformersTest {
  static KubeApi api;
  static KubernetesClient client;

  @BeforeAll
  static void start(KubeApi kubeApi) {
    api = kubeApi;
    client = kubeApi.client();
    api.installCrds(NodeAgentLoopTest.crds());
  }

  @Test
  void theAgentWatchesOnlyTenantsPlacedOnItsNodeAndSeesAMovedOneLeave() throws Exception {
    String ns = api.namespace();
    place(tenant(ns, "here-1"), "scoped-a");
    place(tenant(ns, "here-2"), "scoped-a");
    place(tenant(ns, "there"), "scoped-b");
    tenant(ns, "unplaced");
    SharedIndexInformer<FlashTenant> inf = NodeScopedInformers.forNode(
        client.resources(FlashTenant.class).inNamespace(ns), "FlashTenant", FlashTenant.NODE_FIELD, "scoped-a");
    try {
      inf.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(inf.getStore().list()).extracting(t -> t.getMetadata().getName())
          .containsExactlyInAnyOrder("here-1", "here-2");
      // Re-placed on another node: it leaves this agent's view (the watch reports it deleted).
      place(client.resources(FlashTenant.class).inNamespace(ns).withName("here-2").get(), "scoped-b");
      await().atMost(Duration.ofSeconds(30)).until(() -> inf.getStore().list().size() == 1);
      assertThat(inf.getStore().list().getFirst().getMetadata().getName()).isEqualTo("here-1");
    } finally {
      inf.close();
    }
  }

  @Test
  void aFieldTheApiServerCannotSelectOnFallsBackToWatchingEverything() throws Exception {
    String ns = api.namespace();
    tenant(ns, "fallback");
    // status.phase is not a selectable field of the CRD: the API server refuses it with 400, as one without
    // custom-resource field selectors refuses status.placement.node.
    SharedIndexInformer<FlashTenant> inf = NodeScopedInformers.forNode(
        client.resources(FlashTenant.class).inNamespace(ns), "FlashTenant", "status.phase", "scoped-a");
    try {
      inf.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(inf.getStore().list()).extracting(t -> t.getMetadata().getName()).contains("fallback");
    } finally {
      inf.close();
    }
  }

  static FlashTenant tenant(String ns, String name) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(TenantClass.BE);
    s.setCapacity(new Quantity("1Gi"));
    t.setSpec(s);
    return client.resource(t).create();
  }

  static void place(FlashTenant t, String node) {
    TenantPlacement p = new TenantPlacement();
    p.setDevice("dev-" + node);
    p.setNode(node);
    p.setPort(20001);
    p.setLbaOffset(0L);
    p.setLbaCount(2097152L);
    FlashTenantStatus st = new FlashTenantStatus();
    st.setPhase(TenantPhase.Placed);
    st.setPlacement(p);
    t.setStatus(st);
    client.resource(t).updateStatus();
  }
}

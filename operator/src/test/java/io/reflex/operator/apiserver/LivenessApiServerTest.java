package io.reflex.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import io.reflex.operator.liveness.AgentHeartbeats;
import io.reflex.operator.liveness.LeaderFence;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The Lease-based pieces against a real kube-apiserver: the leader fence and the node agents' heartbeats. */
@KubeApiTest
class LivenessApiServerTest {
  static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void theFenceLetsOnlyTheHolderOfAFreshlyRenewedLeaseWrite(KubeApi api) {
    KubernetesClient c = api.client();
    String ns = api.namespace();
    lease(c, ns, "leader", "me", 15, ZonedDateTime.now(ZoneOffset.UTC));
    try (LeaderFence fence = new LeaderFence(c, ns, "leader", "me", Duration.ofSeconds(10));
         LeaderFence other = new LeaderFence(c, ns, "leader", "you", Duration.ofSeconds(10));
         LeaderFence none = new LeaderFence(c, ns, "no-such-lease", "me", Duration.ofSeconds(10))) {
      fence.check("write");
      assertThatThrownBy(() -> other.check("write")).isInstanceOf(LeaderFence.NotLeaderException.class)
          .hasMessageContaining("held by me, this replica is you");
      assertThatThrownBy(() -> none.check("write")).isInstanceOf(LeaderFence.NotLeaderException.class)
          .hasMessageContaining("no Lease " + ns + "/no-such-lease");
      // Taken over: refused once the watch shows it (until then the Lease as last seen, renewed within the deadline,
      // still lets it write: the new holder could only have taken it after the longer lease duration).
      lease(c, ns, "leader", "you", 15, ZonedDateTime.now(ZoneOffset.UTC));
      await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> fence.check("write")).hasMessageContaining("held by you"));
      other.check("write"); // its watch may not show it yet: the GET does
      // Held, but not renewed within the renew deadline (a replica paused past it): refused.
      lease(c, ns, "leader", "me", 15, ZonedDateTime.now(ZoneOffset.UTC).minusSeconds(11));
      assertThatThrownBy(() -> fence.check("write")).hasMessageContaining("last renewed");
      assertThat(LeaderFence.NONE).satisfies(f -> f.check("anything"));
    }
  }

  @Test
  void aDeviceWhoseAgentStopsRenewingItsLeaseIsNotAliveUntilItRenewsAgain(KubeApi api) throws Exception {
    KubernetesClient c = api.client();
    String ns = api.namespace();
    List<String> changed = new CopyOnWriteArrayList<>();
    try (AgentHeartbeats hb = new AgentHeartbeats(c, ns, Duration.ofSeconds(2), Duration.ofMillis(100))) {
      hb.onChange(changed::add);
      FlashDevice renewed = device(ns + "/reflex-agent-n1");
      FlashDevice neverRenewed = device(ns + "/reflex-agent-n2");
      FlashDevice elsewhere = device("kube-system/reflex-agent-n3");
      FlashDevice untracked = device(null);
      lease(c, ns, "reflex-agent-n1", "n1", 2, ZonedDateTime.now(ZoneOffset.UTC));
      await().atMost(WAIT).until(() -> hb.problem(renewed) == null);
      assertThat(hb.problem(untracked)).isNull();
      assertThat(hb.problem(elsewhere)).contains("watches Leases in namespace " + ns);
      // A Lease never seen counts as alive for the grace after the watch started, then as gone.
      await().atMost(WAIT).until(() -> hb.problem(neverRenewed) != null);
      assertThat(hb.problem(neverRenewed)).contains("reflex-agent-n2 does not exist");

      // Renewed every 0.3 s for a while: alive all along.
      for (int i = 0; i < 10; i++) {
        lease(c, ns, "reflex-agent-n1", "n1", 2, ZonedDateTime.now(ZoneOffset.UTC));
        Thread.sleep(300);
        assertThat(hb.problem(renewed)).as("renewed %d times", i + 1).isNull();
      }
      // No renewal for longer than its 2 s: gone, and announced.
      String gone = await().atMost(WAIT).until(() -> hb.problem(renewed), p -> p != null);
      assertThat(gone).contains("stopped renewing Lease " + ns + "/reflex-agent-n1").contains("2 s");
      await().atMost(WAIT).until(() -> changed.contains(ns + "/reflex-agent-n1"));
      // Renewing again: alive again, announced again.
      changed.clear();
      lease(c, ns, "reflex-agent-n1", "n1", 2, ZonedDateTime.now(ZoneOffset.UTC));
      await().atMost(WAIT).until(() -> hb.problem(renewed) == null);
      await().atMost(WAIT).until(() -> changed.contains(ns + "/reflex-agent-n1"));
    }
  }

  static void lease(KubernetesClient c, String ns, String name, String holder, int seconds, ZonedDateTime renewed) {
    LeaseSpec spec = new LeaseSpec();
    spec.setHolderIdentity(holder);
    spec.setLeaseDurationSeconds(seconds);
    spec.setRenewTime(renewed);
    Lease l = new Lease();
    l.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    l.setSpec(spec);
    c.resource(l).fieldManager("test").forceConflicts().serverSideApply();
  }

  /** A FlashDevice as the agent publishes it (only its annotations matter here; not stored). */
  static FlashDevice device(String lease) {
    FlashDevice d = new FlashDevice();
    d.setMetadata(new ObjectMetaBuilder().withName("dev").withAnnotations(lease == null ? Map.of()
        : Map.of(AgentHeartbeats.LEASE_ANNOTATION, lease)).build());
    return d;
  }
}

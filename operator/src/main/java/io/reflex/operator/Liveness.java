package io.reflex.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.operator.liveness.AgentHeartbeats;
import io.reflex.operator.liveness.LeaderFence;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import org.jboss.logging.Logger;

/** CDI producers of the node agents' heartbeat watch and the leader fence (both need the API client). */
@Singleton
public class Liveness {
  private static final Logger LOG = Logger.getLogger(Liveness.class);

  @Produces
  @Singleton
  AgentHeartbeats heartbeats(KubernetesClient client, ReflexConfig config) {
    var c = config.agentHeartbeat();
    if (!c.enabled()) {
      LOG.info("agent heartbeats off (reflex.operator.agent-heartbeat.enabled=false): devices are judged by their phase");
      return AgentHeartbeats.NONE;
    }
    return new AgentHeartbeats(client, c.namespace().orElseGet(() -> namespace(client)), c.missingGrace(),
        Duration.ofSeconds(1));
  }

  @Produces
  @Singleton
  LeaderFence fence(KubernetesClient client, ReflexConfig config, LeaderElection election) {
    var le = config.leaderElection();
    if (!election.enabled()) {
      return LeaderFence.NONE;
    }
    if (!le.fence()) {
      LOG.warn("leader fence off (reflex.operator.leader-election.fence=false): a deposed leader may still write");
      return LeaderFence.NONE;
    }
    return new LeaderFence(client, le.leaseNamespace().orElseGet(() -> namespace(client)), le.leaseName(),
        election.identity(), le.renewDeadline());
  }

  void close(@Disposes AgentHeartbeats h) {
    h.close();
  }

  void close(@Disposes LeaderFence f) {
    f.close();
  }

  /** The client's namespace (the operator's own in a Pod; the kubeconfig context's elsewhere), else "default". */
  static String namespace(KubernetesClient client) {
    String ns = client.getNamespace();
    return ns == null || ns.isBlank() ? "default" : ns;
  }
}

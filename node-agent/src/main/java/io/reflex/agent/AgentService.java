package io.reflex.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.reflex.agent.cli.AgentMain;
import io.reflex.agent.config.AgentSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import org.jboss.logging.Logger;

/** The node agent inside Quarkus: started once the app is up, closed (drained) on SIGTERM. */
@ApplicationScoped
public class AgentService {
  private static final Logger LOG = Logger.getLogger(AgentService.class);
  private final KubernetesClient client;
  /** The agent's own metrics (and the JVM's); served with the dataplanes' on /metrics. */
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private volatile NodeAgent agent;

  public AgentService(KubernetesClient client) {
    this.client = client;
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  void onStart(@Observes StartupEvent e) {
    AgentSettings s = AgentMain.settings();
    if (s == null) {
      LOG.warn("no settings (not started through AgentMain): the agent is idle");
      return;
    }
    LOG.infof("node agent for %s: address %s, devices %s, state %s", s.node(), s.address().getHostAddress(),
        s.devices().stream().map(d -> d.target()).toList(), s.stateDir());
    agent = new NodeAgent(client, s, registry).start();
  }

  void onStop(@Observes ShutdownEvent e) {
    NodeAgent a = agent;
    if (a != null) {
      LOG.info("stopping: no new connections, draining in-flight I/O");
      a.close();
    }
  }

  public NodeAgent agent() {
    return agent;
  }

  public NodeAgent.Health health() {
    NodeAgent a = agent;
    return a == null ? new NodeAgent.Health(false, true, List.of("agent not started"), 0, 0) : a.health();
  }
}

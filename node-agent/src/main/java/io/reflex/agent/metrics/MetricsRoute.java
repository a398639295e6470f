package io.reflex.agent.metrics;

import io.reflex.agent.AgentService;
import io.reflex.agent.NodeAgent;
import io.reflex.agent.serving.DeviceServer;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;

/**
 * GET /metrics: the agent's metrics (reflex_agent_*, JVM) and every dataplane's (names unchanged, each sample labelled
 * with its device) in one Prometheus scrape.
 */
@ApplicationScoped
public class MetricsRoute {
  private final AgentService service;

  public MetricsRoute(AgentService service) {
    this.service = service;
  }

  void routes(@Observes Router router) {
    router.get("/metrics").blockingHandler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(scrape()));
  }

  String scrape() {
    StringBuilder out = new StringBuilder(service.registry().scrape());
    NodeAgent agent = service.agent();
    if (agent != null) {
      List<PrometheusText.Source> sources = new ArrayList<>();
      for (DeviceServer s : agent.servers()) {
        sources.add(new PrometheusText.Source(s.device().name(), s.dataplane().metrics().scrape()));
      }
      out.append(PrometheusText.merge("device", sources));
    }
    return out.toString();
  }
}

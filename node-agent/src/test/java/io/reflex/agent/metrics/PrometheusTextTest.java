package io.reflex.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  @Test
  void eachFamilyAppearsOnceWithEverySourcesSamplesLabelledByDevice() {
    String a = """
        # HELP reflex_tenant_requests_total Requests completed
        # TYPE reflex_tenant_requests_total counter
        reflex_tenant_requests_total{class="LC",op="read",tenant="ns.db"} 10.0
        # HELP reflex_device_capacity_bytes\s
        # TYPE reflex_device_capacity_bytes gauge
        reflex_device_capacity_bytes 1024.0
        """;
    String b = """
        # HELP reflex_tenant_requests_total Requests completed
        # TYPE reflex_tenant_requests_total counter
        reflex_tenant_requests_total{class="BE",op="write",tenant="ns.logs"} 3.0
        # HELP reflex_device_capacity_bytes\s
        # TYPE reflex_device_capacity_bytes gauge
        reflex_device_capacity_bytes 2048.0
        """;
    String merged = PrometheusText.merge("device", List.of(new PrometheusText.Source("a", a), new PrometheusText.Source("b", b)));
    assertThat(merged.lines().filter(l -> l.startsWith("# TYPE reflex_tenant_requests_total")).count()).isEqualTo(1);
    assertThat(merged.lines().filter(l -> l.startsWith("# HELP reflex_device_capacity_bytes")).count()).isEqualTo(1);
    assertThat(merged).contains("reflex_tenant_requests_total{device=\"a\",class=\"LC\",op=\"read\",tenant=\"ns.db\"} 10.0")
        .contains("reflex_tenant_requests_total{device=\"b\",class=\"BE\",op=\"write\",tenant=\"ns.logs\"} 3.0")
        .contains("reflex_device_capacity_bytes{device=\"a\"} 1024.0")
        .contains("reflex_device_capacity_bytes{device=\"b\"} 2048.0");
    // Samples follow their family's header.
    assertThat(merged.indexOf("reflex_device_capacity_bytes{device=\"b\"}"))
        .isGreaterThan(merged.indexOf("# TYPE reflex_device_capacity_bytes"))
        .isLessThan(merged.length());
    assertThat(merged.indexOf("reflex_tenant_requests_total{device=\"b\""))
        .isLessThan(merged.indexOf("# HELP reflex_device_capacity_bytes"));
  }

  @Test
  void labelValuesAreEscaped() {
    assertThat(PrometheusText.withLabel("m{} 1", "device", "a\"b\\c")).isEqualTo("m{device=\"a\\\"b\\\\c\"} 1");
  }
}

package io.reflex.dataplane.server;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.metrics.AdminServer;
import io.reflex.dataplane.net.PollMode;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Metrics, health, tenant listing and reload-by-API against a running dataplane with an SLO table file. */
class AdminEndpointTest {
    @Test
    void servesMetricsHealthTenantsAndReload() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "admin-test"));
        Path table = dir.resolve("slo.yaml");
        int lcPort = TestServer.freePort(), bePort = TestServer.freePort();
        Files.writeString(table, """
                tenants:
                  - {name: lc, port: %d, class: LC, iops: 100000, readPercent: 100, p95Micros: 500, lbaBase: 0, lbaCount: 2048}
                  - {name: be, port: %d, class: BE, lbaBase: 2048, lbaCount: 2048}
                """.formatted(lcPort, bePort));
        var cfg = new DataplaneConfig(null, "memory", 16L << 20, new InetSocketAddress("127.0.0.1", TestServer.freePort()), table, "sample",
                1, PollMode.ADAPTIVE, true, true, 64, null);
        try (Dataplane dp = Dataplane.start(cfg); AdminServer admin = new AdminServer(dp, new InetSocketAddress("127.0.0.1", 0))) {
            try (RawClient c = new RawClient(lcPort)) {
                for (int i = 0; i < 50; i++) {
                    c.get(i, i, 1);
                    c.read();
                }
            }
            AdminHttp a = new AdminHttp(admin.address());
            assertThat(a.get("/health/ready").statusCode()).isEqualTo(200);
            assertThat(a.get("/health/live").statusCode()).isEqualTo(200);
            String metrics = a.get("/metrics").body();
            assertThat(metrics).contains("reflex_tenant_requests_total{class=\"LC\",op=\"read\",tenant=\"lc\"} 50.0");
            assertThat(metrics).contains("reflex_tenant_latency_micros{class=\"LC\",quantile=\"0.95\",tenant=\"lc\"}");
            assertThat(metrics).contains("reflex_tenant_reserved_tokens_per_second{class=\"LC\",tenant=\"lc\"} 1.0E7");
            assertThat(metrics).contains("reflex_device_token_budget");
            assertThat(metrics).containsPattern("reflex_tenant_latency_seconds_bucket\\{class=\"LC\",tenant=\"lc\",le=\"\\+Inf\"} 50");
            assertThat(metrics).contains("reflex_tenant_latency_seconds_count{class=\"LC\",tenant=\"lc\"} 50");
            assertThat(a.get("/tenants").body()).contains("\"name\" : \"lc\"").contains("\"name\" : \"be\"");

            // An LC tenant the device cannot satisfy: the API caller gets the reason.
            Files.writeString(table, Files.readString(table) + """
                      - {name: greedy, port: %d, class: LC, iops: 900000, readPercent: 100, p95Micros: 500, lbaBase: 4096, lbaCount: 2048}
                    """.formatted(TestServer.freePort()));
            var r = a.post("/reload");
            assertThat(r.statusCode()).isEqualTo(422);
            assertThat(r.body()).contains("greedy").contains("cannot satisfy greedy");
            assertThat(a.get("/tenants").body()).doesNotContain("greedy");

            Files.writeString(table, "tenants: [{name: lc, port: %d, class: BE, lbaCount: 2048}]".formatted(lcPort));
            var ok = a.post("/reload");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("\"removed\" : [ \"be\" ]").contains("\"updated\" : [ \"lc\" ]");

            Files.writeString(table, "tenants: [{name: lc, port: 0, class: BE}]");
            var bad = a.post("/reload");
            assertThat(bad.statusCode()).isEqualTo(422);
            assertThat(bad.body()).contains("lbaCount");
            assertThat(a.get("/metrics").body()).doesNotContain("tenant=\"be\"");
        }
    }
}

package io.reflex.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.metrics.AdminServer;
import io.reflex.dataplane.net.PollMode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The server's own latency (parse to completion) must start when a request arrives, not when an idle loop went to
 * sleep: a blocked loop that wakes for a request used to stamp it with the time before the block (up to 100 ms),
 * which counted every first request after a pause as slow and inflated the tenant's p95.
 */
class ServerLatencyTest {
    @Test
    void requestsAfterAnIdlePauseAreNotChargedForTheLoopsSleep() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "latency-test"));
        Path table = dir.resolve("slo.yaml");
        int port = TestServer.freePort();
        // memory engine: a request takes microseconds; anything near the 20 ms SLO is the loop's sleep
        Files.writeString(table, "tenants: [{name: lc, port: %d, class: LC, iops: 1000, readPercent: 100, p95Micros: 20000, lbaBase: 0, lbaCount: 2048}]"
                .formatted(port));
        for (PollMode mode : new PollMode[] {PollMode.BLOCK, PollMode.ADAPTIVE}) {
            var cfg = new DataplaneConfig(null, "memory", 16L << 20, new InetSocketAddress("127.0.0.1", TestServer.freePort()), table,
                    "sample", 1, mode, true, true, 64, null);
            try (Dataplane dp = Dataplane.start(cfg); AdminServer admin = new AdminServer(dp, new InetSocketAddress("127.0.0.1", 0));
                 RawClient c = new RawClient(port)) {
                for (int i = 0; i < 6; i++) {
                    Thread.sleep(130 + 17 * i); // past the loop's 100 ms select timeout, at varying phases
                    c.get(i, i, 1);
                    assertThat(c.read().handle()).isEqualTo(i);
                }
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin.address().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).as("poll %s", mode).contains("reflex_tenant_requests_total{class=\"LC\",op=\"read\",tenant=\"lc\"} 6.0")
                        .contains("reflex_tenant_slow_requests_total{class=\"LC\",tenant=\"lc\"} 0.0");
            }
        }
    }
}

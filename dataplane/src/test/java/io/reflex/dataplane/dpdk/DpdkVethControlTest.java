package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.client.ClientOptions;
import io.reflex.client.UdpConnection;
import io.reflex.client.UdpOptions;
import io.reflex.dataplane.cli.DataplaneMain;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code reflex-dataplane --net dpdk --admin ...} on a veth pair (net_af_packet, MTU 9000) with the Java UDP client in
 * the other namespace: the admin endpoint of the DPDK path reloads the SLO table (a tenant added serves, a removed
 * tenant's port stops) and /metrics has per-tenant and engine counters. Needs root and DPDK (CI has both).
 */
class DpdkVethControlTest {
    private static final int ADMIN = 9400;
    private static final UdpOptions RETRY = new UdpOptions(Duration.ofMillis(20), 8, 8972);
    private static VethRig rig;
    private static Path table;

    @BeforeAll
    static void start() throws Exception {
        VethRig.assumeUsable();
        rig = new VethRig(200 + (int) (ProcessHandle.current().pid() % 50));
        table = Files.createTempFile("rfxdp-control", ".yaml");
        Files.writeString(table, "tenants: [{name: a, port: 5000, class: BE, lbaBase: 0, lbaCount: 65536}]\n");
        rig.startServer(DataplaneMain.class, List.of("--no-huge", "--no-shconf", "-m", "256"),
                List.of("--net", "dpdk", "--threads", "1", "--pin", "no", "--slo-table", table.toString(),
                        "--admin", "127.0.0.1:" + ADMIN));
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) rig.close();
    }

    private static UdpConnection connect(int port) throws Exception {
        return NetNs.call(rig.clientNs, () -> UdpConnection.open(rig.serverIp, port, ClientOptions.defaults().withMaxInFlight(32), RETRY));
    }

    /** One HTTP/1.0 exchange with the admin endpoint, from the server's namespace: the response body (asserting status). */
    private static String admin(String method, String path, int expectStatus) throws Exception {
        return NetNs.call(rig.serverNs, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", ADMIN), 10_000);
                s.setSoTimeout(30_000);
                OutputStream out = s.getOutputStream();
                out.write((method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(response).as(method + " " + path).startsWith("HTTP/1.1 " + expectStatus);
                return response.substring(response.indexOf("\r\n\r\n") + 4);
            } catch (IOException e) {
                throw new IllegalStateException(method + " " + path + ": " + e, e);
            }
        });
    }

    /** The status a single 4 KiB read from {@code lba} completes with (after the client's retries). */
    private static int readStatus(UdpConnection c, long lba) {
        int[] status = {Integer.MIN_VALUE};
        assertThat(c.submitRead(lba, 8, null, 1)).isTrue();
        while (c.inFlight() > 0) c.poll((t, s, d) -> status[0] = s);
        return status[0];
    }

    @Test
    void reloadOverTheAdminApiAddsAndRemovesUdpTenantsWithMetrics() throws Exception {
        try (UdpConnection a = connect(5000)) {
            DpdkVethTest.writeReadVerify(a, 0, 20, 11);
        }
        assertThat(admin("GET", "/health/ready", 200)).contains("UP");
        String m = admin("GET", "/metrics", 200);
        // writes are applied once however often the client retried them; a retried read is served again
        assertThat(DpdkControlTest.sample(m, "reflex_tenant_requests_total", "class=\"BE\",op=\"write\",tenant=\"a\"")).isEqualTo(20);
        assertThat(DpdkControlTest.sample(m, "reflex_tenant_requests_total", "class=\"BE\",op=\"read\",tenant=\"a\"")).isGreaterThanOrEqualTo(20);
        assertThat(DpdkControlTest.sample(m, "reflex_tenant_latency_seconds_count", "class=\"BE\",tenant=\"a\"")).isGreaterThanOrEqualTo(40);
        assertThat(DpdkControlTest.sample(m, "reflex_dpdk_writes_applied_total", "")).isEqualTo(20);
        assertThat(DpdkControlTest.sample(m, "reflex_dpdk_arp_replies_total", "")).isPositive();

        // a's port goes to nobody, b serves on 5001 (the file watcher may apply it first: the result is checked, not the diff)
        Files.writeString(table, "tenants: [{name: b, port: 5001, class: BE, lbaBase: 0, lbaCount: 65536}]\n");
        admin("POST", "/reload", 200);
        String tenants = admin("GET", "/tenants", 200);
        assertThat(tenants).contains("\"name\" : \"b\"").doesNotContain("\"name\" : \"a\"");

        Map<String, Long> before = rig.stats();
        try (UdpConnection b = connect(5001)) {
            DpdkVethTest.writeReadVerify(b, 0, 20, 12);
        }
        try (UdpConnection a = connect(5000)) {
            assertThat(readStatus(a, 0)).isEqualTo(UdpConnection.STATUS_TIMEOUT); // no tenant there: never answered
        }
        Map<String, Long> after = rig.stats();
        assertThat(after.getOrDefault("drop.no_tenant", 0L)).isGreaterThan(before.getOrDefault("drop.no_tenant", 0L));
        m = admin("GET", "/metrics", 200);
        assertThat(DpdkControlTest.sample(m, "reflex_tenant_requests_total", "class=\"BE\",op=\"write\",tenant=\"b\"")).isEqualTo(20);
        assertThat(m).doesNotContain("tenant=\"a\"");
        assertThat(m).containsPattern("reflex_dpdk_dropped_frames_total\\{reason=\"no_tenant\"} [1-9]");
        assertThat(rig.serverAlive()).isTrue();
    }
}

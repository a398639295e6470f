package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.dataplane.metrics.AdminServer;
import io.reflex.dataplane.server.AdminHttp;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.Status;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The DPDK engine under the dataplane's control, in process on a net_ring port: the admin endpoint's /reload adds,
 * removes and updates UDP tenants live, and /metrics carries the same per-tenant metrics as kernel TCP plus the
 * engine's frame counters. Skips where DPDK is not installed.
 */
class DpdkControlTest {
    /** The value of the one sample of {@code metric} whose labels are exactly {@code labels} (empty: none). */
    static double sample(String metrics, String metric, String labels) {
        String name = labels.isEmpty() ? metric : metric + "{" + labels + "}";
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics);
        assertThat(m.find()).as("%s{%s} in\n%s", metric, labels, metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void reloadAddsRemovesAndUpdatesUdpTenantsWithPerTenantMetrics() throws Exception {
        Path table = Files.createTempFile("rfxdp-control", ".yaml");
        Files.writeString(table, """
                tenants:
                  - {name: a, port: 5000, class: BE, lbaBase: 0, lbaCount: 65536}
                  - {name: lc, port: 5001, class: LC, iops: 10000, readPercent: 100, p95Micros: 500, lbaBase: 65536, lbaCount: 8192}
                """);
        try (RingRig rig = new RingRig(0, "memory", null, table, "sample");
             AdminServer admin = new AdminServer(rig.server.dataplane(), new InetSocketAddress("127.0.0.1", 0))) {
            AdminHttp a = new AdminHttp(admin.address());
            byte[] block = new byte[4096];
            new Random(5).nextBytes(block);
            assertThat(rig.call(Opcode.SET, 1, 0, 8, block).status()).isEqualTo(Status.OK);
            for (int i = 0; i < 3; i++) assertThat(rig.call(Opcode.GET, 2 + i, 0, 8, null).data()).isEqualTo(block);
            assertThat(rig.call(Opcode.GET, 9, 65536, 8, null).status()).isEqualTo(Status.ERANGE); // past a's window
            rig.sendRequest(Opcode.GET, 10, 0, 8, null, 5001, null);
            assertThat(rig.receiveReply().status()).isEqualTo(Status.OK);

            assertThat(a.get("/health/ready").statusCode()).isEqualTo(200);
            String m = a.get("/metrics").body();
            // per-tenant metrics of DPDK traffic, as on kernel TCP
            assertThat(sample(m, "reflex_tenant_requests_total", "class=\"BE\",op=\"read\",tenant=\"a\"")).isEqualTo(3);
            assertThat(sample(m, "reflex_tenant_requests_total", "class=\"BE\",op=\"write\",tenant=\"a\"")).isEqualTo(1);
            assertThat(sample(m, "reflex_tenant_bytes_total", "class=\"BE\",op=\"read\",tenant=\"a\"")).isEqualTo(3 * 4096);
            assertThat(sample(m, "reflex_tenant_rejected_total", "class=\"BE\",tenant=\"a\"")).isEqualTo(1);
            assertThat(sample(m, "reflex_tenant_latency_seconds_count", "class=\"BE\",tenant=\"a\"")).isEqualTo(4);
            assertThat(sample(m, "reflex_tenant_requests_total", "class=\"LC\",op=\"read\",tenant=\"lc\"")).isEqualTo(1);
            assertThat(sample(m, "reflex_tenant_reserved_iops", "class=\"LC\",tenant=\"lc\"")).isEqualTo(10000);
            double tokensBefore = sample(m, "reflex_tenant_reserved_tokens_per_second", "class=\"LC\",tenant=\"lc\"");
            assertThat(tokensBefore).isPositive();
            // the engine's own counters
            assertThat(sample(m, "reflex_dpdk_requests_total", "")).isEqualTo(rig.server.count(Count.REQUESTS)).isGreaterThanOrEqualTo(6);
            assertThat(sample(m, "reflex_dpdk_rx_frames_total", "")).isGreaterThanOrEqualTo(6);
            assertThat(m).contains("reflex_dpdk_dropped_frames_total{reason=\"no_tenant\"}");
            assertThat(m).contains("reflex_dpdk_port_ipackets_total{port=\"" + rig.server.port() + "\"}");

            // no tenant on 5002 yet: dropped, not answered
            long noTenant = rig.server.drops(Drop.NO_TENANT);
            rig.sendRequest(Opcode.GET, 11, 0, 8, null, 5002, null);
            assertThat(rig.call(Opcode.GET, 12, 0, 8, null).status()).isEqualTo(Status.OK); // answered after the drop
            assertThat(rig.server.drops(Drop.NO_TENANT)).isEqualTo(noTenant + 1);

            Files.writeString(table, """
                    tenants:
                      - {name: lc, port: 5001, class: LC, iops: 20000, readPercent: 100, p95Micros: 500, lbaBase: 65536, lbaCount: 8192}
                      - {name: c, port: 5002, class: BE, lbaBase: 0, lbaCount: 65536}
                    """);
            var r = a.post("/reload");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("\"added\" : [ \"c\" ]").contains("\"removed\" : [ \"a\" ]").contains("\"updated\" : [ \"lc\" ]");
            rig.settle();

            // the added tenant serves on its port, over the removed tenant's blocks (its LBA window now)
            rig.sendRequest(Opcode.GET, 13, 0, 8, null, 5002, null);
            RingRig.Reply fromC = rig.receiveReply();
            assertThat(fromC.status()).isEqualTo(Status.OK);
            assertThat(fromC.data()).isEqualTo(block);
            // the removed tenant's port stops: dropped as no tenant, nothing comes back
            noTenant = rig.server.drops(Drop.NO_TENANT);
            rig.sendRequest(Opcode.GET, 14, 0, 8, null, RingRig.UDP_PORT, null);
            assertThat(rig.nothingWithin(200)).isTrue();
            rig.sendRequest(Opcode.GET, 15, 0, 8, null, 5001, null);
            assertThat(rig.receiveReply().status()).isEqualTo(Status.OK); // the updated tenant still serves
            assertThat(rig.server.drops(Drop.NO_TENANT)).isEqualTo(noTenant + 1);

            m = a.get("/metrics").body();
            assertThat(sample(m, "reflex_tenant_reserved_iops", "class=\"LC\",tenant=\"lc\"")).isEqualTo(20000);
            assertThat(sample(m, "reflex_tenant_reserved_tokens_per_second", "class=\"LC\",tenant=\"lc\"")).isGreaterThan(tokensBefore);
            assertThat(sample(m, "reflex_tenant_requests_total", "class=\"LC\",op=\"read\",tenant=\"lc\"")).isEqualTo(2); // kept across the update
            assertThat(sample(m, "reflex_tenant_requests_total", "class=\"BE\",op=\"read\",tenant=\"c\"")).isEqualTo(1);
            assertThat(m).doesNotContain("tenant=\"a\"");
            assertThat(a.get("/tenants").body()).contains("\"name\" : \"c\"").doesNotContain("\"name\" : \"a\"");
        }
    }
}

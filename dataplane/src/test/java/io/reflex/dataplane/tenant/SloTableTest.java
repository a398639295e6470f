package io.reflex.dataplane.tenant;

import io.reflex.devmodels.DeviceModels;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SloTableTest {
    private static final long DEVICE = 8L << 21; // 8 GiB in sectors

    private static SloTable parse(String yaml) {
        return SloTable.parse(yaml.getBytes(StandardCharsets.UTF_8), "test", DEVICE);
    }

    @Test
    void parsesYamlAndJson() {
        SloTable t = parse("""
                tenants:
                  - {name: lc1, port: 5678, class: LC, iops: 50000, readPercent: 90, p95Micros: 1000, lbaBase: 0, lbaCount: 1000, token: abc}
                  - {name: be1, port: 5679, class: BE, lbaBase: 1000, lbaCount: 1000}
                """);
        assertThat(t.tenants()).hasSize(2);
        assertThat(t.tenants().get(0)).isEqualTo(new TenantSpec("lc1", 5678, TenantClass.LC, 50000, 90, 1000, 0, 1000, "abc"));
        assertThat(t.tenants().get(1).readPercent()).isEqualTo(100);
        SloTable json = parse("{\"tenants\": [{\"name\": \"x\", \"port\": 1, \"class\": \"BE\", \"lbaCount\": 8}]}");
        assertThat(json.tenants().getFirst().name()).isEqualTo("x");
    }

    @Test
    void reportsEveryProblemWithTheTenantsName() {
        assertThatThrownBy(() -> parse("""
                tenants:
                  - {name: a, port: 5678, class: LC, iops: 0, readPercent: 120, lbaBase: 0, lbaCount: 1000}
                  - {name: b, port: 5678, class: BE, p95Micros: 5, lbaBase: 500, lbaCount: 1000}
                  - {name: c, port: 9, class: BE, lbaBase: 0, lbaCount: 99999999999}
                """))
                .isInstanceOf(SloTableException.class)
                .hasMessageContaining("tenant 'a': an LC tenant needs iops > 0")
                .hasMessageContaining("tenant 'a': readPercent must be 0–100")
                .hasMessageContaining("tenant 'a': an LC tenant needs p95Micros > 0")
                .hasMessageContaining("tenant 'b': a BE tenant has no latency SLO")
                .hasMessageContaining("share port 5678")
                .hasMessageContaining("'a' and 'b' have overlapping LBA ranges")
                .hasMessageContaining("tenant 'c': LBA range");
    }

    @Test
    void rejectsUnknownFieldsAndMissingOnes() {
        assertThatThrownBy(() -> parse("tenants: [{name: a, port: 1, class: BE, lbaCount: 8, iopz: 3}]"))
                .hasMessageContaining("iopz");
        assertThatThrownBy(() -> parse("tenants: [{name: a, class: BE, lbaCount: 8}]")).hasMessageContaining("port");
        assertThatThrownBy(() -> parse("tenants: [{name: a, port: 1, class: XX, lbaCount: 8}]")).hasMessageContaining("XX");
        assertThatThrownBy(() -> parse("nothing: here")).isInstanceOf(SloTableException.class);
    }

    @Test
    void admissionRejectsWhatTheDeviceCannotSatisfyWithAReason() {
        var model = DeviceModels.load("sample");
        SloTable t = parse("""
                tenants:
                  - {name: big, port: 1, class: LC, iops: 500000, readPercent: 100, p95Micros: 500, lbaBase: 0, lbaCount: 100}
                  - {name: more, port: 2, class: LC, iops: 500000, readPercent: 100, p95Micros: 500, lbaBase: 100, lbaCount: 100}
                  - {name: be, port: 3, class: BE, lbaBase: 200, lbaCount: 100}
                """);
        AdmissionPlan plan = AdmissionPlan.plan(model, Map.of(), t);
        assertThat(plan.admitted()).extracting(a -> a.spec().name()).containsExactly("big");
        assertThat(plan.rejected()).extracting(r -> r.spec().name()).containsExactly("more", "be");
        assertThat(plan.rejected().get(0).reason()).contains("cannot satisfy more").contains("p95 500µs");
        assertThat(plan.rejected().get(1).reason()).contains("BE tenant be");
    }

    @Test
    void runningTenantsKeepTheirPlaceAndAnOversizedChangeKeepsTheOldSlo() {
        var model = DeviceModels.load("sample");
        SloTable before = parse("tenants: [{name: a, port: 1, class: LC, iops: 100000, readPercent: 100, p95Micros: 500, lbaCount: 100}]");
        var running = Map.of("a", before.tenants().getFirst());
        SloTable after = parse("""
                tenants:
                  - {name: newcomer, port: 2, class: LC, iops: 500000, readPercent: 100, p95Micros: 500, lbaBase: 100, lbaCount: 100}
                  - {name: a, port: 1, class: LC, iops: 900000, readPercent: 100, p95Micros: 500, lbaCount: 100}
                """);
        AdmissionPlan plan = AdmissionPlan.plan(model, running, after);
        assertThat(plan.admitted()).hasSize(2);
        var a = plan.admitted().stream().filter(x -> x.spec().name().equals("a")).findFirst().orElseThrow();
        assertThat(a.spec().iops()).isEqualTo(100000);
        assertThat(a.note()).startsWith("new SLO rejected");
        assertThat(plan.rejected()).extracting(r -> r.spec().name()).containsExactly("a");
    }

    @Test
    void beTenantsShareTheSpareBudget() {
        var model = DeviceModels.load("sample");
        SloTable t = parse("""
                tenants:
                  - {name: lc, port: 1, class: LC, iops: 100000, readPercent: 100, p95Micros: 500, lbaCount: 100}
                  - {name: be1, port: 2, class: BE, lbaBase: 100, lbaCount: 100}
                  - {name: be2, port: 3, class: BE, lbaBase: 200, lbaCount: 100}
                """);
        AdmissionPlan plan = AdmissionPlan.plan(model, Map.of(), t);
        assertThat(plan.admitted()).extracting(AdmissionPlan.Admitted::tokensPerSec).containsExactly(10e6, 13e6, 13e6);
    }
}

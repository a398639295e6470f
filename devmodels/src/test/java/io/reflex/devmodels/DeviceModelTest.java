package io.reflex.devmodels;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class DeviceModelTest {
    private final DeviceModel sample = DeviceModels.load("sample");

    @Test
    void loadsBuiltinModels() {
        for (String name : DeviceModels.BUILTIN) assertThat(DeviceModels.load(name).name()).isEqualTo(name);
        assertThat(DeviceModels.load("null").unlimited()).isTrue();
    }

    /** Calibrated models in models/ (written by the bench scripts) load, and their budgets never shrink as the SLO loosens. */
    @Test
    void everyCalibratedModelLoadsWithAMonotoneBudget() throws java.io.IOException {
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("models"))) {
            List<java.nio.file.Path> models = files.filter(f -> f.toString().endsWith(".yaml")).toList();
            assertThat(models).isNotEmpty();
            for (var f : models) {
                DeviceModel m = DeviceModels.load(f);
                if (m.unlimited()) continue;
                assertThat(m.writeCost4k()).as(f.toString()).isGreaterThanOrEqualTo(m.readCost4k());
                double previous = 0;
                for (long p95 = 100; p95 <= 10_000; p95 += 100) {
                    double rate = m.tokenRateAt(p95, false);
                    assertThat(rate).as("%s at p95 %d µs", f, p95).isGreaterThanOrEqualTo(previous);
                    previous = rate;
                }
            }
        }
    }

    @Test
    void unknownModelNamesTheBuiltins() {
        assertThatThrownBy(() -> DeviceModels.load("nope")).hasMessageContaining("sample");
    }

    @Test
    void costIsBaseTimesFourKibUnitsAtLeastOne() {
        assertThat(sample.requestCost(false, 512)).isEqualTo(100);
        assertThat(sample.requestCost(false, 4096)).isEqualTo(100);
        assertThat(sample.requestCost(false, 4097)).isEqualTo(200);
        assertThat(sample.requestCost(true, 8192)).isEqualTo(2000);
    }

    @Test
    void interpolatesAndHasNoRateStricterThanItsFirstPoint() {
        assertThat(sample.strictestP95Micros()).isEqualTo(500);
        assertThat(sample.tokenRateAt(499, false)).isZero();
        assertThat(sample.tokenRateAt(100, true)).isZero();
        assertThat(sample.tokenRateAt(500, false)).isEqualTo(36e6);
        assertThat(sample.tokenRateAt(750, false)).isCloseTo(43e6, within(1.0));
        assertThat(sample.tokenRateAt(750, true)).isCloseTo(90e6, within(1.0));
        assertThat(sample.tokenRateAt(10_000, false)).isEqualTo(80e6);
    }

    @Test
    void reservationMixesReadAndWriteCost() {
        // 70K IOPS at 80% read: 70000 × (0.8×100 + 0.2×1000) = 19.6M tokens/s
        assertThat(sample.reservation(70_000, 80)).isCloseTo(19.6e6, within(1.0));
    }

    @Test
    void budgetUsesStrictestSloAndReadOnlyOnlyWithoutBe() {
        var lc1 = TenantDemand.lc("a", 120_000, 100, 1000);
        var lc2 = TenantDemand.lc("b", 100_000, 100, 500);
        var e = Budget.evaluate(sample, List.of(lc1, lc2));
        assertThat(e.readOnly()).isTrue();
        assertThat(e.tokenRate()).isEqualTo(85e6);
        var withBe = Budget.evaluate(sample, List.of(lc1, lc2, TenantDemand.be("c")));
        assertThat(withBe.readOnly()).isFalse();
        assertThat(withBe.tokenRate()).isEqualTo(36e6);
        assertThat(withBe.perBeShare()).isCloseTo(36e6 - 22e6, within(1.0));
    }

    @Test
    void admissionRejectsWithReason() {
        var existing = List.of(TenantDemand.lc("a", 300_000, 80, 1000));
        var d = Budget.admit(sample, existing, TenantDemand.lc("big", 200_000, 50, 500));
        assertThat(d.admitted()).isFalse();
        assertThat(d.reason()).contains("big").contains("p95 500µs").contains("36.0M");
        assertThat(Budget.admit(sample, List.of(), TenantDemand.lc("ok", 100_000, 100, 500)).admitted()).isTrue();
    }

    /** A calibrated model that only reaches 2 ms (a slow or loaded device) must not admit a 1 ms tenant on its 2 ms budget. */
    @Test
    void admissionRefusesAnSloStricterThanTheModelReaches() {
        var slow = new DeviceModel("slow", "", 100, 300, false, List.of(new TokenLimit(2000, 3e6, 4e6), new TokenLimit(5000, 5e6, 6e6)));
        var d = Budget.admit(slow, List.of(), TenantDemand.lc("tight", 10, 100, 1000));
        assertThat(d.admitted()).isFalse();
        assertThat(d.reason()).contains("tight").contains("p95 1000µs").contains("slow").contains("p95 2000µs");
        assertThat(Budget.admit(slow, List.of(), TenantDemand.lc("fine", 10, 100, 2000)).admitted()).isTrue();
        // An existing tenant that is already too strict (placed before this rule) leaves no budget for anyone.
        assertThat(Budget.evaluate(slow, List.of(TenantDemand.lc("old", 10, 100, 1000))).overcommitted()).isTrue();
        assertThat(Budget.admit(DeviceModels.load("null"), List.of(), TenantDemand.lc("any", 10, 100, 1)).admitted()).isTrue();
    }
}

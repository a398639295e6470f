package io.reflex.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.reflex.crds.v1alpha1.DeviceCalibration;
import io.reflex.crds.v1alpha1.DeviceModelRef;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashDeviceSpec;
import io.reflex.crds.v1alpha1.FlashDeviceStatus;
import io.reflex.crds.v1alpha1.TokenLimit;
import io.reflex.devmodels.DeviceModel;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TranslateTest {
    @Test
    void endpointAddressesKubernetesWouldRefuseAreExplained() {
        assertThat(Translate.endpointAddressProblem(null)).isNull();
        assertThat(Translate.endpointAddressProblem("10.1.2.3")).isNull();
        assertThat(Translate.endpointAddressProblem("2001:db8::1")).isNull();
        assertThat(Translate.endpointAddressProblem("127.0.0.1")).contains("loopback");
        assertThat(Translate.endpointAddressProblem("::1")).contains("loopback");
        assertThat(Translate.endpointAddressProblem("169.254.1.1")).contains("link-local");
        assertThat(Translate.endpointAddressProblem("0.0.0.0")).contains("unspecified");
        assertThat(Translate.endpointAddressProblem("224.0.0.1")).contains("multicast");
        assertThat(Translate.endpointAddressProblem("node-a.example")).contains("not an IP");
    }

    @Test
    void aCalibrateDeviceIsAwaitingCalibrationUntilItsAgentPublishesTheModelThenPricedWithIt() {
        for (DeviceModelRef ref : new DeviceModelRef[] {DeviceModelRef.named("calibrate"), null}) {
            FlashDevice d = device(ref);
            assertThatThrownBy(() -> Translate.model(d)).isInstanceOf(Translate.AwaitingCalibration.class)
                .hasMessageContaining("awaiting calibration").hasMessageContaining("node-a");
            DeviceCalibration c = new DeviceCalibration();
            c.setConfigMap("reflex-model-d1");
            c.setNamespace("reflex-system");
            c.setCalibratedAt("2026-12-06T14:00:00Z");
            c.setReadCost4k(100L);
            c.setWriteCost4k(730L);
            c.setTokenLimits(List.of(new TokenLimit(1000, 3_000_000, 6_000_000), new TokenLimit(500, 2_000_000, 4_000_000)));
            d.setStatus(new FlashDeviceStatus());
            d.getStatus().setCalibration(c);
            DeviceModel m = Translate.model(d);
            assertThat(m.readCost4k()).isEqualTo(100);
            assertThat(m.writeCost4k()).isEqualTo(730);
            assertThat(m.tokenLimits()).extracting(io.reflex.devmodels.TokenLimit::p95Micros).containsExactly(500L, 1000L);
            assertThat(m.tokenRateAt(1000, false)).isEqualTo(3_000_000);
            c.setTokenLimits(List.of());
            assertThatThrownBy(() -> Translate.model(d)).isNotInstanceOf(Translate.AwaitingCalibration.class)
                .hasMessageContaining("incomplete");
        }
    }

    @Test
    void aNamedModelIgnoresAnyCalibration() {
        FlashDevice d = device(DeviceModelRef.named("sample"));
        assertThat(Translate.model(d).name()).isEqualTo("sample");
        assertThatThrownBy(() -> Translate.model(device(DeviceModelRef.named("nope")))).hasMessageContaining("calibrate");
    }

    private static FlashDevice device(DeviceModelRef ref) {
        FlashDevice d = new FlashDevice();
        d.setMetadata(new ObjectMetaBuilder().withName("d1").build());
        FlashDeviceSpec s = new FlashDeviceSpec();
        s.setNodeName("node-a");
        s.setDeviceModel(ref);
        d.setSpec(s);
        return d;
    }
}

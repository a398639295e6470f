package io.reflex.operator;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

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
}

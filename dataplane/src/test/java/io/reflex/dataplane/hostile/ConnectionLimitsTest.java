package io.reflex.dataplane.hostile;

import io.reflex.dataplane.net.ConnectionLimits;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The limits' defaults and the errors a bad flag gets. */
class ConnectionLimitsTest {
    @Test
    void defaults() {
        ConnectionLimits d = ConnectionLimits.DEFAULTS;
        assertThat(d.idleTimeout()).isZero();
        assertThat(d.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(d.keepAlive()).isEqualTo(Duration.ofSeconds(60));
        assertThat(d.maxConnectionBytes()).isEqualTo(16L << 20);
        assertThat(d.maxConnectRate()).isEqualTo(200);
        assertThat(d.connectBurst()).isEqualTo(200);
        assertThat(d.maxTenantConnections()).isEqualTo(1024);
        assertThat(d.describeAdmission()).isEqualTo("200 connections/s (burst 200) and at most 1024 open per tenant");
        assertThat(d.withoutAdmission().limitsAdmission()).isFalse();
        assertThat(d.withoutAdmission().describeAdmission()).isEqualTo("connect rate unlimited and no cap on open connections per tenant");
    }

    @Test
    void badValuesNameTheirFlag() {
        assertThatThrownBy(() -> new ConnectionLimits(Duration.ofSeconds(-1), Duration.ZERO, Duration.ZERO, 1 << 20))
                .hasMessageContaining("--idle-timeout");
        assertThatThrownBy(() -> new ConnectionLimits(Duration.ZERO, Duration.ofSeconds(-1), Duration.ZERO, 1 << 20))
                .hasMessageContaining("--request-timeout");
        assertThatThrownBy(() -> new ConnectionLimits(Duration.ZERO, Duration.ZERO, Duration.ofMillis(1500), 1 << 20))
                .hasMessageContaining("--tcp-keepalive").hasMessageContaining("1.5 s");
        assertThatThrownBy(() -> new ConnectionLimits(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(40_000), 1 << 20))
                .hasMessageContaining("--tcp-keepalive");
        assertThatThrownBy(() -> new ConnectionLimits(Duration.ZERO, Duration.ZERO, Duration.ZERO, 4096))
                .hasMessageContaining("--max-connection-buffers");
        ConnectionLimits d = ConnectionLimits.DEFAULTS;
        assertThatThrownBy(() -> d.withAdmission(-1, 10, 0)).hasMessageContaining("--max-connect-rate");
        assertThatThrownBy(() -> d.withAdmission(Double.NaN, 10, 0)).hasMessageContaining("--max-connect-rate");
        assertThatThrownBy(() -> d.withAdmission(100, 0, 0)).hasMessageContaining("--connect-burst");
        assertThatThrownBy(() -> d.withAdmission(0, 0, -1)).hasMessageContaining("--max-tenant-connections");
        assertThat(d.withAdmission(0.5, 1, 0).describeAdmission()).startsWith("0.5 connections/s (burst 1)");
    }
}

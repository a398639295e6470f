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
    }
}

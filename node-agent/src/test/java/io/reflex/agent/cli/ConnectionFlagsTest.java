package io.reflex.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reflex.dataplane.net.ConnectionLimits;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The agent takes the dataplane's client-connection flags (timeouts, buffers, per-tenant admission) and passes them on. */
class ConnectionFlagsTest {
  @Test
  void theDataplaneDefaultsUnlessFlagsSaySo() {
    assertThat(CalibrationFlagsTest.parse("--node", "n1").connections()).isEqualTo(ConnectionLimits.DEFAULTS);
    ConnectionLimits l = CalibrationFlagsTest.parse("--node", "n1", "--idle-timeout", "600", "--request-timeout", "5",
        "--tcp-keepalive", "30", "--max-connection-buffers", "4Mi", "--max-connect-rate", "50", "--connect-burst", "20",
        "--max-tenant-connections", "0").connections();
    assertThat(l).isEqualTo(new ConnectionLimits(Duration.ofSeconds(600), Duration.ofSeconds(5), Duration.ofSeconds(30),
        4L << 20, 50, 20, 0));
  }

  @Test
  void badValuesAreRefusedNamingTheFlag() {
    assertThatThrownBy(() -> CalibrationFlagsTest.parse("--node", "n1", "--max-connect-rate", "fast"))
        .hasMessageContaining("--max-connect-rate");
    assertThatThrownBy(() -> CalibrationFlagsTest.parse("--node", "n1", "--max-tenant-connections", "-1"))
        .hasMessageContaining("--max-tenant-connections");
    assertThatThrownBy(() -> CalibrationFlagsTest.parse("--node", "n1", "--max-connect-rate", "10", "--connect-burst", "0"))
        .hasMessageContaining("--connect-burst");
    assertThatThrownBy(() -> CalibrationFlagsTest.parse("--node", "n1", "--request-timeout", "-5"))
        .hasMessageContaining("--request-timeout");
  }
}

package io.reflex.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.config.DeviceSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CalibrationFlagsTest {
  static AgentSettings parse(String... args) {
    AgentCommand cmd = new AgentCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd.settings();
  }

  @Test
  void theStandardPlanByDefaultQuickAndADurationPerPointOnRequest() {
    AgentSettings s = parse("--node", "n1", "--state-dir", "/tmp/x", "--device", "/tmp/a.img,model=calibrate");
    assertThat(s.calibration().plan()).isEqualTo("standard");
    assertThat(s.calibration().perPoint()).isNull();
    assertThat(s.devices()).extracting(DeviceSpec::model).containsExactly("calibrate");
    s = parse("--node", "n1", "--state-dir", "/tmp/x", "--calibration-plan", "Quick", "--calibration-duration-per-point", "0.5");
    assertThat(s.calibration().plan()).isEqualTo("quick");
    assertThat(s.calibration().perPoint()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.calibration().describe()).isEqualTo("quick plan, 0.5 s per point, through the dataplane");
    assertThat(parse("--node", "n1", "--calibrate-through", "Device").calibration().through()).isEqualTo("device");
  }

  @Test
  void badValuesAreRefusedNamingTheFlag() {
    assertThatThrownBy(() -> parse("--node", "n1", "--calibration-plan", "thorough"))
        .hasMessageContaining("--calibration-plan must be standard or quick");
    assertThatThrownBy(() -> parse("--node", "n1", "--calibration-duration-per-point", "0"))
        .hasMessageContaining("--calibration-duration-per-point must be > 0");
    assertThatThrownBy(() -> parse("--node", "n1", "--calibrate-through", "nvme"))
        .hasMessageContaining("--calibrate-through must be dataplane or device");
  }
}

package io.reflex.agent.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NbdPortsTest {
  @TempDir Path state;

  @Test
  void eachDeviceKeepsItsPortAcrossRestartsAndNewOnesTakeTheLowestNeverUsed() {
    NbdPorts p = new NbdPorts(state, 10809);
    assertThat(p.portFor("n1-a")).isEqualTo(10809);
    assertThat(p.portFor("n1-b")).isEqualTo(10810);
    assertThat(p.portFor("n1-a")).isEqualTo(10809);
    NbdPorts restarted = new NbdPorts(state, 10809);
    assertThat(restarted.portFor("n1-b")).isEqualTo(10810);
    assertThat(restarted.portFor("n1-c")).isEqualTo(10811);
  }

  @Test
  void zeroMeansNoNbdAndTouchesNothing() {
    NbdPorts p = new NbdPorts(state.resolve("x"), 0);
    assertThat(p.enabled()).isFalse();
    assertThat(p.portFor("n1-a")).isZero();
    assertThat(state.resolve("x")).doesNotExist();
  }

  @Test
  void aDamagedFileIsAClearErrorNotNewPorts() throws Exception {
    Files.writeString(state.resolve("nbd-ports.json"), "{not json");
    assertThatThrownBy(() -> new NbdPorts(state, 10809)).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("nbd-ports.json").hasMessageContaining("fix or remove it");
    assertThatThrownBy(() -> new NbdPorts(state, 70000)).hasMessageContaining("--nbd-port");
  }
}

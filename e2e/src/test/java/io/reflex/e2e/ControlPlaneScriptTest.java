package io.reflex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failure modes of e2e/controlplane: clear messages, nothing left behind. */
class ControlPlaneScriptTest {

  @Test
  void missingBinariesNameTheBuildScript(@TempDir Path tmp) {
    assertThatThrownBy(() -> ControlPlane.start(tmp.resolve("state"),
        Map.of("REFLEX_CONTROLPLANE_BIN", tmp.resolve("no-such-dir").toString())))
        .isInstanceOf(ControlPlaneException.class)
        .hasMessageContaining("control plane binaries not found")
        .hasMessageContaining("e2e/bin/build-controlplane");
  }

  @Test
  @Tag(KubeApiTest.TAG)
  void aTakenPortIsReportedAndNothingIsStarted(@TempDir Path tmp) throws IOException {
    Path scripts = ControlPlane.extractScripts(tmp.resolve("scripts"));
    Path state = tmp.resolve("state");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ControlPlane.ScriptResult r = ControlPlane.run(scripts.resolve("controlplane"),
          Map.of("REFLEX_CP_DIR", state.toString(), "REFLEX_APISERVER_PORT", Integer.toString(taken.getLocalPort())),
          "up");
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.output()).contains("port " + taken.getLocalPort() + " on 127.0.0.1 is already in use")
          .contains("REFLEX_APISERVER_PORT");
    }
    assertThat(Files.exists(state)).as("a refused up leaves no state dir").isFalse();
  }

  @Test
  void namespaceNamesAreValidDnsLabels() {
    String ns = KubeApiExtension.namespaceName(ControlPlaneScriptTestWithAVeryLongNameThatGoesOnAndOnForever.class);
    assertThat(ns).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  }

  static class ControlPlaneScriptTestWithAVeryLongNameThatGoesOnAndOnForever {}
}

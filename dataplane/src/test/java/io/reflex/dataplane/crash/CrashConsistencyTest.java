package io.reflex.dataplane.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reflex.check.crash.CrashHarness;
import io.reflex.check.crash.Durability;
import io.reflex.check.crash.NbdTarget;
import io.reflex.check.crash.ReflexTarget;
import io.reflex.check.crash.ServerProcess;
import io.reflex.dataplane.cli.DataplaneMain;
import io.reflex.dataplane.storage.Engines;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Crash consistency, the short CI version of {@code bench/crash/run.sh}: {@code reflex-dataplane} as a separate
 * process on a real file (O_DIRECT), QD32 random 4 KiB writes over real loopback TCP, SIGKILL at a random moment
 * under that load, restart on the same file, and every block of the region read back and checked by the
 * client's crash checker ({@link CrashHarness}): each holds its latest acknowledged write or the write in flight at
 * the kill — never older data, another block's, torn or never-written data; blocks never written hold their
 * (random) pre-run content. No timing is asserted.
 */
class CrashConsistencyTest {
  static final Path DIR = Path.of("target", "crash-test").toAbsolutePath();
  static final int BLOCKS = 4096; // 16 MiB region
  static Path device;

  @BeforeAll
  static void device() throws IOException {
    Files.createDirectories(DIR);
    assumeTrue(!"tmpfs".equals(Files.getFileStore(DIR).type()), DIR + " is on tmpfs, which has no O_DIRECT");
    device = DIR.resolve("device.img");
    byte[] chunk = new byte[1 << 20];
    Random r = new Random(7);
    try (OutputStream out = Files.newOutputStream(device)) {
      for (int i = 0; i < 24; i++) { // 24 MiB of random bytes: the pre-run content the checker must find untouched
        r.nextBytes(chunk);
        out.write(chunk);
      }
    }
  }

  @Test
  void killNineUnderQd32WritesLosesNoAcknowledgedWrite() throws Exception {
    String engine = Engines.uringAvailable() ? "uring" : "file";
    int port = freePort();
    CrashHarness.Summary s = run("native-" + engine, dataplane(engine, port, 0, true), Durability.REPLY, 5,
        () -> ReflexTarget.connect("127.0.0.1", port, null));
    assertThat(s.error()).isNull();
    assertThat(s.roundsDone()).isEqualTo(5);
    assertThat(s.violations()).as("violations: %s", s.firstViolations()).isZero();
    assertThat(s.rounds()).allSatisfy(r -> assertThat(r.durable()).isGreaterThanOrEqualTo(32));
    assertThat(s.acknowledgedReadBack()).isPositive();
  }

  @Test
  void nbdFuaWritesSurviveKillNine() throws Exception {
    int port = freePort();
    int nbd = freePort();
    CrashHarness.Summary s = run("nbd-file", dataplane("file", port, nbd, true), Durability.FUA, 2,
        () -> NbdTarget.connect("127.0.0.1", nbd, "default", 5000));
    assertThat(s.error()).isNull();
    assertThat(s.roundsDone()).isEqualTo(2);
    assertThat(s.violations()).as("violations: %s", s.firstViolations()).isZero();
    assertThat(s.rounds()).allSatisfy(r -> assertThat(r.durable()).isGreaterThanOrEqualTo(32));
  }

  /** The negative control: the memory engine forgets everything on a kill, and the checker says so. */
  @Test
  void theCheckerCatchesAServerThatLosesAcknowledgedWrites() throws Exception {
    int port = freePort();
    List<String> cmd = dataplane("memory", port, 0, true);
    int i = cmd.indexOf("--device");
    cmd.set(i, "--size");
    cmd.set(i + 1, "16Mi");
    CrashHarness.Summary s = run("memory", cmd, Durability.REPLY, 1, () -> ReflexTarget.connect("127.0.0.1", port, null));
    assertThat(s.error()).isNull();
    assertThat(s.violations()).isPositive();
    assertThat(s.firstViolations().getFirst().detail()).contains("an acknowledged write was lost");
  }

  private static CrashHarness.Summary run(String name, List<String> cmd, Durability d, int rounds, CrashHarness.Connector connector)
      throws Exception {
    CrashHarness.Options o = new CrashHarness.Options(0, BLOCKS, 32, d, 32, rounds, 200, 600, Duration.ofSeconds(60),
        name.hashCode(), 16, DIR.resolve(name + ".records"));
    Path log = DIR.resolve(name + "-server.log");
    Files.deleteIfExists(log);
    ServerProcess server = new ServerProcess(cmd, log, Map.of());
    System.out.println("== " + name + ": " + String.join(" ", cmd.subList(cmd.indexOf(DataplaneMain.class.getName()), cmd.size())));
    return new CrashHarness(o, System.out).run(server, connector);
  }

  /** reflex-dataplane as its own process, from this test's classpath. */
  private static List<String> dataplane(String engine, int port, int nbdPort, boolean syncWrites) {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), DataplaneMain.class.getName(),
        "--device", device.toString(), "--engine", engine, "--listen", "127.0.0.1:" + port, "--admin", "none",
        "--sync-writes", Boolean.toString(syncWrites)));
    if (nbdPort > 0) cmd.addAll(List.of("--nbd", "127.0.0.1:" + nbdPort));
    return cmd;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

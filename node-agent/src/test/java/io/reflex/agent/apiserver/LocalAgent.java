package io.reflex.agent.apiserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One stand-in node's agent as a separate process (see {@link LocalAgentMain}). */
final class LocalAgent implements AutoCloseable {
  private final List<String> args;
  private final Path kubeconfig;
  private final Path log;
  private final java.util.Map<String, String> env = new java.util.HashMap<>();
  private final List<String> jvm = new ArrayList<>();
  private Process process;

  LocalAgent(Path kubeconfig, Path log, String... args) {
    this.kubeconfig = kubeconfig;
    this.log = log;
    this.args = List.of(args);
  }

  /** An environment variable for the agent process (e.g. REFLEX_HEARTBEAT_SECONDS); before {@link #start}. */
  LocalAgent env(String name, String value) {
    env.put(name, value);
    return this;
  }

  /** A JVM option for the agent process (e.g. -Dreflex.test.calibrator=fake:5); before {@link #start}. */
  LocalAgent jvm(String option) {
    jvm.add(option);
    return this;
  }

  LocalAgent start() throws IOException, InterruptedException {
    Path ready = Files.createTempFile("agent-ready", "");
    Files.delete(ready);
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        "-Dreflex.test.ready=" + ready));
    cmd.addAll(jvm);
    cmd.add(LocalAgentMain.class.getName());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.environment().putAll(env);
    process = pb.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.exists(ready)) {
      if (!process.isAlive()) throw new IllegalStateException("agent exited: " + Files.readString(log));
      if (System.nanoTime() > deadline) throw new IllegalStateException("agent did not start: " + Files.readString(log));
      Thread.sleep(100);
    }
    Files.deleteIfExists(ready);
    return this;
  }

  /** kill -9: no shutdown hook, no drain. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(20, TimeUnit.SECONDS);
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy(); // SIGTERM: drain
      if (!process.waitFor(30, TimeUnit.SECONDS)) kill();
    }
  }
}

package io.reflex.check.crash;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The server under test as a child process: started from a command line (output appended to a log), killed with
 * SIGKILL ({@link Process#destroyForcibly()} is {@code kill(pid, SIGKILL)} on Linux — no shutdown hook, no drain),
 * stopped with SIGTERM at the end. Only the process it started (and that process's descendants) is ever signalled.
 */
public final class ServerProcess implements CrashHarness.ServerControl {
  private final List<String> command;
  private final Path log;
  private final Map<String, String> env;
  private Process process;
  private int starts;

  public ServerProcess(List<String> command, Path log, Map<String, String> env) {
    if (command.isEmpty()) throw new IllegalArgumentException("empty server command");
    this.command = List.copyOf(command);
    this.log = log.toAbsolutePath();
    this.env = Map.copyOf(env);
  }

  @Override
  public synchronized void start() throws IOException {
    if (process != null && process.isAlive()) throw new IllegalStateException("server pid " + process.pid() + " is still running");
    Path parent = log.getParent();
    if (parent != null) Files.createDirectories(parent);
    note("start #" + (++starts) + ": " + String.join(" ", command));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().putAll(env);
    process = pb.start();
    note("pid " + process.pid());
  }

  /** SIGKILL to the server (and anything it started); returns once it is gone. */
  @Override
  public synchronized long kill() throws IOException, InterruptedException {
    checkAlive();
    long pid = process.pid();
    List<ProcessHandle> children = process.descendants().toList();
    process.destroyForcibly();
    for (ProcessHandle c : children) c.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException("pid " + pid + " survived SIGKILL for 30 s");
    note("killed pid " + pid + " with SIGKILL (exit status " + process.exitValue() + ")");
    return pid;
  }

  @Override
  public synchronized void stop() throws IOException, InterruptedException {
    if (process == null || !process.isAlive()) return;
    process.destroy(); // SIGTERM: the server drains
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      note("pid " + process.pid() + " ignored SIGTERM for 30 s: killed");
    } else {
      note("stopped pid " + process.pid() + " with SIGTERM (exit status " + process.exitValue() + ")");
    }
  }

  @Override
  public void checkAlive() throws IOException {
    if (process == null) throw new IllegalStateException("server not started");
    if (!process.isAlive()) {
      throw new IllegalStateException("the server (pid " + process.pid() + ") exited by itself with status " + process.exitValue()
          + "; last lines of " + log + ":\n" + tail(20));
    }
  }

  public long pid() { return process == null ? -1 : process.pid(); }

  /** The log's last {@code n} lines. */
  public String tail(int n) throws IOException {
    if (!Files.exists(log)) return "";
    List<String> lines = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
  }

  private void note(String what) throws IOException {
    Files.writeString(log, "--- reflex-crashcheck " + Instant.now() + ": " + what + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}

package io.reflex.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the machine's kubectl (or {@code $KUBECTL}) against a control plane, the way a user would.
 * Used where the tool's own behaviour is under test: {@code apply --server-side}, printer columns, messages.
 */
public final class Kubectl {

  /** The outcome of one kubectl run. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }

    /** Throws unless kubectl exited 0; returns this for chaining. */
    public Result assertOk() {
      if (exitCode != 0) {
        throw new AssertionError("kubectl failed (exit " + exitCode + "): " + String.join(" ", command)
            + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
      }
      return this;
    }
  }

  private final Path kubeconfig;
  private final String namespace;
  private final Path cacheDir;

  public Kubectl(Path kubeconfig, String namespace, Path cacheDir) {
    this.kubeconfig = kubeconfig;
    this.namespace = namespace;
    this.cacheDir = cacheDir;
  }

  public static String binary() {
    String k = System.getenv("KUBECTL");
    return k == null || k.isBlank() ? "kubectl" : k;
  }

  /** kubectl {@code args} in this test's namespace (unless the args name one), with {@code stdin} piped in. */
  public Result run(String stdin, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary());
    cmd.add("--kubeconfig=" + kubeconfig);
    cmd.add("--cache-dir=" + cacheDir);
    boolean namesNamespace = false;
    for (String a : args) {
      namesNamespace |= a.equals("-n") || a.startsWith("--namespace") || a.equals("-A") || a.equals("--all-namespaces");
    }
    if (namespace != null && !namesNamespace) {
      cmd.add("--namespace=" + namespace);
    }
    cmd.addAll(List.of(args));
    try {
      Path out = Files.createTempFile("kubectl-", ".out");
      Path err = Files.createTempFile("kubectl-", ".err");
      try {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("KUBECONFIG");
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
          if (stdin != null) {
            in.write(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
          }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("kubectl did not finish within 60 s: " + String.join(" ", cmd));
        }
        return new Result(List.copyOf(cmd), p.exitValue(), Files.readString(out), Files.readString(err));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new ControlPlaneException("could not run " + binary() + " (is kubectl installed? set KUBECTL=...): "
          + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  public Result run(String... args) {
    return run(null, args);
  }
}

package io.reflex.e2e;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Kubernetes control plane: etcd and kube-apiserver running as local processes on 127.0.0.1.
 *
 * <p>{@link #start(Path)} runs the {@code e2e/controlplane} script bundled in this jar (the same one developers
 * run by hand) with free ports and a private state directory; {@link #close()} stops exactly those processes and
 * deletes the state. {@link #attach(Path)} wraps an instance someone else started (for example
 * {@code e2e/controlplane up} in a terminal) and never stops it.
 *
 * <p>The binaries are built once per machine by {@code e2e/bin/build-controlplane}; when they are missing,
 * {@link #start(Path)} fails with a message naming that script.
 */
public final class ControlPlane implements AutoCloseable {

  /** Environment variable (or system property {@code reflex.kubeconfig}) naming a running control plane to reuse. */
  public static final String KUBECONFIG_ENV = "REFLEX_KUBECONFIG";

  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(3);

  private final Path kubeconfig;
  private final Path stateDir; // null when attached
  private final Path script;
  private final Map<String, String> env;
  private final Duration startTime;
  private volatile boolean closed;
  private final Thread shutdownHook;

  private ControlPlane(Path kubeconfig, Path stateDir, Path script, Map<String, String> env, Duration startTime) {
    this.kubeconfig = kubeconfig;
    this.stateDir = stateDir;
    this.script = script;
    this.env = env;
    this.startTime = startTime;
    if (stateDir != null) {
      // A test JVM killed by Ctrl-C or a timeout still takes its control plane down.
      this.shutdownHook = new Thread(this::stopQuietly, "reflex-controlplane-down");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } else {
      this.shutdownHook = null;
    }
  }

  /** Starts a private control plane whose state lives in {@code stateDir} (created; deleted again on close). */
  public static ControlPlane start(Path stateDir) {
    return start(stateDir, Map.of());
  }

  /** As {@link #start(Path)}, with extra environment for the script (e.g. REFLEX_APISERVER_FLAGS). */
  public static ControlPlane start(Path stateDir, Map<String, String> extraEnv) {
    try {
      Files.createDirectories(stateDir);
      Path scripts = extractScripts(stateDir.resolveSibling(stateDir.getFileName() + "-scripts"));
      ControlPlaneException last = null;
      // Free ports are picked here and bound by the processes a moment later: retry the rare lost race.
      for (int attempt = 0; attempt < 3; attempt++) {
        int[] ports = freePorts(3);
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("REFLEX_CP_DIR", stateDir.toString());
        env.put("REFLEX_APISERVER_PORT", Integer.toString(ports[0]));
        env.put("REFLEX_ETCD_PORT", Integer.toString(ports[1]));
        env.put("REFLEX_ETCD_PEER_PORT", Integer.toString(ports[2]));
        long t0 = System.nanoTime();
        ScriptResult up = run(scripts.resolve("controlplane"), env, "up");
        if (up.exitCode() == 0) {
          return new ControlPlane(stateDir.resolve("kubeconfig"), stateDir, scripts.resolve("controlplane"), env,
              Duration.ofNanos(System.nanoTime() - t0));
        }
        last = new ControlPlaneException("could not start the control plane (e2e/controlplane up, state in "
            + stateDir + "):\n" + up.output().strip());
        if (!up.output().contains("already in use")) {
          break;
        }
      }
      throw last;
    } catch (IOException e) {
      throw new ControlPlaneException("could not prepare " + stateDir + ": " + e.getMessage(), e);
    }
  }

  /** Uses a control plane that is already running; {@link #close()} leaves it running. */
  public static ControlPlane attach(Path kubeconfig) {
    if (!Files.isReadable(kubeconfig)) {
      throw new ControlPlaneException("kubeconfig " + kubeconfig + " (from " + KUBECONFIG_ENV
          + ") is not readable; start one with `e2e/controlplane up` or unset " + KUBECONFIG_ENV);
    }
    return new ControlPlane(kubeconfig, null, null, Map.of(), Duration.ZERO);
  }

  /** The kubeconfig named by {@code REFLEX_KUBECONFIG} / {@code -Dreflex.kubeconfig}, if any. */
  static Path externalKubeconfig() {
    String v = System.getProperty("reflex.kubeconfig", System.getenv(KUBECONFIG_ENV));
    return v == null || v.isBlank() ? null : Path.of(v);
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** True when this object started the processes (and stops them on close). */
  public boolean owned() {
    return stateDir != null;
  }

  /** How long {@code up} took, until /readyz and the default namespace were there. */
  public Duration startTime() {
    return startTime;
  }

  /** Client configuration for the admin user (group system:masters), optionally bound to a namespace. */
  public Config config(String namespace) {
    try {
      Config base = Config.fromKubeconfig(Files.readString(kubeconfig));
      ConfigBuilder b = new ConfigBuilder(base).withRequestTimeout(30_000).withConnectionTimeout(10_000);
      if (namespace != null) {
        b.withNamespace(namespace);
      }
      return b.build();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + kubeconfig, e);
    }
  }

  public KubernetesClient newClient(String namespace) {
    return new KubernetesClientBuilder().withConfig(config(namespace)).build();
  }

  /** Stops the processes (by PID) and deletes the state directory; no-op for an attached control plane. */
  @Override
  public void close() {
    stopQuietly();
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException jvmShuttingDown) {
        // the hook runs anyway
      }
    }
  }

  private synchronized void stopQuietly() {
    if (closed || stateDir == null) {
      return;
    }
    closed = true;
    try {
      ScriptResult down = run(script, env, "down");
      if (down.exitCode() != 0) {
        System.err.println("[reflex-e2e] e2e/controlplane down failed:\n" + down.output());
      }
      Path scripts = script.getParent();
      for (String name : List.of("controlplane", "versions.env")) {
        Files.deleteIfExists(scripts.resolve(name));
      }
      Files.deleteIfExists(scripts);
    } catch (IOException | RuntimeException e) {
      System.err.println("[reflex-e2e] e2e/controlplane down failed: " + e);
    }
  }

  // ---- plumbing -------------------------------------------------------------------------------------------

  record ScriptResult(int exitCode, String output) {}

  static ScriptResult run(Path script, Map<String, String> env, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("bash");
    cmd.add(script.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Path out = Files.createTempFile("reflex-controlplane-", ".log");
    try {
      pb.redirectOutput(out.toFile());
      Process p = pb.start();
      if (!p.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new ControlPlaneException(script + " " + String.join(" ", args) + " did not finish within "
            + SCRIPT_TIMEOUT + ":\n" + Files.readString(out));
      }
      return new ScriptResult(p.exitValue(), Files.readString(out));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControlPlaneException("interrupted while running " + script, e);
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /**
   * Copies the bundled scripts into {@code dir}. When the test runs inside this repository, the scripts and
   * versions are the same as e2e/ (they are copied into the jar at build time).
   */
  static Path extractScripts(Path dir) throws IOException {
    Files.createDirectories(dir);
    for (String name : List.of("controlplane", "versions.env")) {
      try (InputStream in = ControlPlane.class.getResourceAsStream("scripts/" + name)) {
        if (in == null) {
          throw new ControlPlaneException("scripts/" + name + " is missing from the reflex-e2e jar");
        }
        Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return dir;
  }

  private static int[] freePorts(int n) throws IOException {
    ServerSocket[] sockets = new ServerSocket[n];
    int[] ports = new int[n];
    try {
      for (int i = 0; i < n; i++) {
        sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ports[i] = sockets[i].getLocalPort();
      }
    } finally {
      for (ServerSocket s : sockets) {
        if (s != null) {
          s.close();
        }
      }
    }
    return ports;
  }
}

package io.reflex.e2e;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node Kubernetes cluster ({@code e2e/cluster}: kubelet, containerd, CoreDNS, ... on this machine).
 *
 * <p>{@link #open()} picks one, in this order: the kubeconfig named by {@code REFLEX_REAL_NODE_KUBECONFIG} (or
 * {@code -Dreflex.realnode.kubeconfig}); the cluster {@code e2e/cluster status} reports up; else a cluster it
 * brings up itself with {@code e2e/cluster up}. Only that last one is taken down again by {@link #close()}
 * ({@code e2e/cluster down}, which restores the machine); the others are left running.
 *
 * <p>When this machine cannot run a node (not root, node binaries not built, packages missing, ports taken),
 * {@link #open()} throws {@link Unavailable} with the script's own message, and the tests are skipped.
 */
public final class RealNodeCluster implements AutoCloseable {

  /** Environment variable (or system property {@code reflex.realnode.kubeconfig}) naming a cluster to use. */
  public static final String KUBECONFIG_ENV = "REFLEX_REAL_NODE_KUBECONFIG";
  /** System property (or environment variable {@code REFLEX_ROOT}) naming the repository root. */
  public static final String ROOT_PROPERTY = "reflex.root";

  /** Where the cluster came from; only {@link #STARTED} is stopped on close. */
  public enum Origin { EXTERNAL, RUNNING, STARTED }

  /** This machine cannot run the node; the message says why and what to do (the tests are skipped). */
  public static final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message);
    }
  }

  // `up` waits up to REFLEX_CLUSTER_TIMEOUT (120 s) twice, after importing images and starting the control plane.
  private static final Duration UP_TIMEOUT = Duration.ofMinutes(8);
  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(3);

  private final Path kubeconfig;
  private final Path script; // null for an external cluster outside this repository
  private final Origin origin;
  private final ClusterLock lock; // held while a cluster we started runs, when REFLEX_CLUSTER_LOCK asks for it
  private final Thread shutdownHook;
  private volatile boolean closed;

  private RealNodeCluster(Path kubeconfig, Path script, Origin origin, ClusterLock lock) {
    this.kubeconfig = kubeconfig;
    this.script = script;
    this.origin = origin;
    this.lock = lock;
    if (origin == Origin.STARTED) {
      // A test JVM killed by Ctrl-C or a timeout still takes its cluster down and restores the machine.
      this.shutdownHook = new Thread(this::downQuietly, "reflex-cluster-down");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } else {
      this.shutdownHook = null;
    }
  }

  /** The configured, running or a freshly started cluster (see the class comment). */
  public static RealNodeCluster open() {
    Path external = externalKubeconfig();
    if (external != null) {
      if (!Files.isReadable(external)) {
        throw new ControlPlaneException("kubeconfig " + external + " (from " + KUBECONFIG_ENV
            + ") is not readable; start a cluster with `e2e/cluster up` or unset " + KUBECONFIG_ENV);
      }
      return new RealNodeCluster(external, findScript(), Origin.EXTERNAL, null);
    }
    if (!isRoot()) {
      throw new Unavailable("the real node needs root (kubelet, containerd, iptables); running as "
          + System.getProperty("user.name") + ". Or point " + KUBECONFIG_ENV + " at a running cluster.");
    }
    Path script = findScript();
    if (script == null) {
      throw new Unavailable("e2e/cluster not found (-D" + ROOT_PROPERTY + " or $REFLEX_ROOT: "
          + System.getProperty(ROOT_PROPERTY, System.getenv("REFLEX_ROOT")) + "; working directory: "
          + Path.of("").toAbsolutePath() + "); set -D" + ROOT_PROPERTY + "=<repository root> or " + KUBECONFIG_ENV);
    }
    ClusterLock lock = ClusterLock.acquireIfConfigured();
    try {
      if (run(script, SCRIPT_TIMEOUT, "status").exitCode() == 0) {
        closeQuietly(lock); // someone else's cluster: theirs to stop, no need to hold the lock
        return new RealNodeCluster(kubeconfigOf(script), script, Origin.RUNNING, null);
      }
      return up(script, lock);
    } catch (RuntimeException e) {
      closeQuietly(lock);
      throw e;
    }
  }

  private static RealNodeCluster up(Path script, ClusterLock lock) {
    long t0 = System.nanoTime();
    ScriptResult up = run(script, UP_TIMEOUT, "up");
    if (up.exitCode() != 0) {
      // The script checks root, packages, binaries, ports and the node address before it changes anything and
      // then dies with "cluster: error: ..." as its first line: this machine cannot run the node now.
      if (up.output().startsWith("cluster: error: ")) {
        throw new Unavailable("e2e/cluster up refused to start:\n" + up.output().strip());
      }
      throw new ControlPlaneException("e2e/cluster up failed (it tore down what it started):\n" + up.output().strip());
    }
    if (up.output().contains("cluster: already up")) {
      // Another run brought it up between our status and up: not ours to take down.
      closeQuietly(lock);
      return new RealNodeCluster(kubeconfigOf(script), script, Origin.RUNNING, null);
    }
    System.out.printf("[reflex-e2e] e2e/cluster up in %d ms: %s%n",
        Duration.ofNanos(System.nanoTime() - t0).toMillis(), readyLine(up.output()));
    return new RealNodeCluster(kubeconfigOf(script), script, Origin.STARTED, lock);
  }

  static Path externalKubeconfig() {
    String v = System.getProperty("reflex.realnode.kubeconfig", System.getenv(KUBECONFIG_ENV));
    return v == null || v.isBlank() ? null : Path.of(v);
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  public Origin origin() {
    return origin;
  }

  /** Client configuration for the cluster's admin, optionally bound to a namespace. */
  public Config config(String namespace) {
    try {
      ConfigBuilder b = new ConfigBuilder(Config.fromKubeconfig(Files.readString(kubeconfig)))
          .withRequestTimeout(30_000).withConnectionTimeout(10_000);
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

  /** Imports an image tar (docker-archive or OCI) into the node's containerd: {@code e2e/cluster load}. */
  public void load(Path imageTar) {
    if (script == null) {
      throw new ControlPlaneException("e2e/cluster not found (set -D" + ROOT_PROPERTY + "): cannot load " + imageTar);
    }
    ScriptResult r = run(script, SCRIPT_TIMEOUT, "load", imageTar.toAbsolutePath().toString());
    if (r.exitCode() != 0) {
      throw new ControlPlaneException("e2e/cluster load " + imageTar + " failed:\n" + r.output().strip());
    }
  }

  /** Takes the cluster down (restoring the machine) if this object started it; otherwise leaves it running. */
  @Override
  public void close() {
    downQuietly();
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException jvmShuttingDown) {
        // the hook runs anyway
      }
    }
  }

  private synchronized void downQuietly() {
    if (closed || origin != Origin.STARTED) {
      return;
    }
    closed = true;
    try {
      ScriptResult down = run(script, SCRIPT_TIMEOUT, "down");
      if (down.exitCode() != 0) {
        System.err.println("[reflex-e2e] e2e/cluster down failed:\n" + down.output());
      } else {
        System.out.println("[reflex-e2e] " + down.output().strip());
      }
    } catch (RuntimeException e) {
      System.err.println("[reflex-e2e] e2e/cluster down failed: " + e);
    } finally {
      closeQuietly(lock);
    }
  }

  // ---- plumbing -------------------------------------------------------------------------------------------

  record ScriptResult(int exitCode, String output) {}

  /** Runs {@code bash e2e/cluster args...}, stdout and stderr together (to a file: its daemons outlive it). */
  static ScriptResult run(Path script, Duration timeout, String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
    cmd.addAll(List.of(args));
    Path out = null;
    try {
      out = Files.createTempFile("reflex-cluster-", ".log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        p.destroy(); // TERM: `up` then tears down what it started (its EXIT trap)
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
        throw new ControlPlaneException("e2e/cluster " + String.join(" ", args) + " did not finish within "
            + timeout + ":\n" + Files.readString(out));
      }
      return new ScriptResult(p.exitValue(), Files.readString(out));
    } catch (IOException e) {
      throw new ControlPlaneException("could not run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControlPlaneException("interrupted while running e2e/cluster " + String.join(" ", args), e);
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException ignored) {
          // a temp file
        }
      }
    }
  }

  /** The kubeconfig {@code e2e/cluster env} exports (the script owns the state dir's layout). */
  private static Path kubeconfigOf(Path script) {
    ScriptResult env = run(script, SCRIPT_TIMEOUT, "env");
    if (env.exitCode() == 0) {
      for (String line : env.output().lines().toList()) {
        if (line.startsWith("export KUBECONFIG=")) {
          return Path.of(line.substring("export KUBECONFIG=".length()).strip());
        }
      }
    }
    throw new ControlPlaneException("e2e/cluster env printed no KUBECONFIG:\n" + env.output().strip());
  }

  private static String readyLine(String output) {
    return output.lines().filter(l -> l.startsWith("cluster: ready in")).findFirst()
        .map(l -> l.substring("cluster: ".length())).orElse("ready");
  }

  /**
   * The repository's {@code e2e/cluster}: under {@code -Dreflex.root} / {@code $REFLEX_ROOT} if set, else in the
   * first directory above the working directory (a module dir when Maven runs the tests) or above this class's
   * build output that has one. Null when there is none (the jar used outside the repository).
   */
  static Path findScript() {
    String configured = System.getProperty(ROOT_PROPERTY, System.getenv("REFLEX_ROOT"));
    if (configured != null && !configured.isBlank()) {
      return scriptUnder(Path.of(configured));
    }
    List<Path> starts = new ArrayList<>();
    starts.add(Path.of("").toAbsolutePath());
    try {
      starts.add(Path.of(RealNodeCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
    } catch (Exception noCodeSource) {
      // the working directory is enough
    }
    for (Path start : starts) {
      for (Path dir = start; dir != null; dir = dir.getParent()) {
        Path s = scriptUnder(dir);
        if (s != null) {
          return s;
        }
      }
    }
    return null;
  }

  private static Path scriptUnder(Path root) {
    Path s = root.toAbsolutePath().normalize().resolve("e2e/cluster");
    return Files.isRegularFile(s) && Files.isRegularFile(s.resolveSibling("versions.env")) ? s : null;
  }

  private static boolean isRoot() {
    try {
      // The owner of /proc/self is this process's effective uid.
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static void closeQuietly(ClusterLock lock) {
    if (lock != null) {
      lock.close();
    }
  }
}

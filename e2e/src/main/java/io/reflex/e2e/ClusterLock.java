package io.reflex.e2e;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An exclusive {@code flock(2)} on a file shared by everyone who brings the machine's one real cluster up or down,
 * taken only when {@code REFLEX_CLUSTER_LOCK} (or {@code -Dreflex.realnode.lock}) names that file.
 *
 * <p>flock(2), not {@link java.nio.channels.FileChannel#lock()}: the JDK locks with fcntl(2), which on Linux does
 * not exclude {@code flock /tmp/reflex-cluster.lock ...} in a shell. Opt-in because a run already wrapped in
 * {@code flock} on the same file would wait for itself.
 */
final class ClusterLock implements AutoCloseable {

  static final String PATH_ENV = "REFLEX_CLUSTER_LOCK";
  private static final Duration WAIT = Duration.ofMinutes(30);

  private static final int O_RDWR = 2;
  private static final int O_CREAT = 0100;
  private static final int O_CLOEXEC = 02000000; // daemons started while we hold it must not inherit it
  private static final int LOCK_EX = 2;
  private static final int LOCK_NB = 4;
  private static final int EWOULDBLOCK = 11;
  private static final int EINTR = 4;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
      Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));
  private static final MethodHandle FLOCK = downcall("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
      Linker.Option.captureCallState("errno"));
  private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

  private final Path file;
  private int fd;

  private ClusterLock(Path file, int fd) {
    this.file = file;
    this.fd = fd;
  }

  /** The lock on the configured file, waiting while another process holds it; null when none is configured. */
  static ClusterLock acquireIfConfigured() {
    String v = System.getProperty("reflex.realnode.lock", System.getenv(PATH_ENV));
    return v == null || v.isBlank() ? null : acquire(Path.of(v), WAIT);
  }

  static ClusterLock acquire(Path file, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    boolean told = false;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CAPTURE);
      int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(file.toString()), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd < 0) {
        throw new ControlPlaneException("cannot open lock file " + file + " (errno " + errno(state) + ")");
      }
      while (true) {
        int r = (int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB);
        if (r == 0) {
          return new ClusterLock(file, fd);
        }
        int e = errno(state);
        if (e != EWOULDBLOCK && e != EINTR) {
          int ignored = (int) CLOSE.invokeExact(fd);
          throw new ControlPlaneException("cannot flock " + file + " (errno " + e + ")");
        }
        if (System.nanoTime() > deadline) {
          int ignored = (int) CLOSE.invokeExact(fd);
          throw new ControlPlaneException("another process held " + file + " for " + wait + " (is this run itself"
              + " wrapped in `flock " + file + "`? then unset " + PATH_ENV + ")");
        }
        if (!told) {
          System.out.println("[reflex-e2e] waiting for " + file + " (another run uses the cluster)");
          told = true;
        }
        Thread.sleep(1000);
      }
    } catch (ControlPlaneException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControlPlaneException("interrupted while waiting for " + file, e);
    } catch (Throwable t) {
      throw new ControlPlaneException("cannot lock " + file + ": " + t, t);
    }
  }

  /** Releases the lock (closing the descriptor drops it). */
  @Override
  public synchronized void close() {
    if (fd < 0) {
      return;
    }
    try {
      int ignored = (int) CLOSE.invokeExact(fd);
    } catch (Throwable t) {
      System.err.println("[reflex-e2e] could not release " + file + ": " + t);
    }
    fd = -1;
  }

  private static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
    return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, options);
  }
}

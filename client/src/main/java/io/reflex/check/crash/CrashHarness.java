package io.reflex.check.crash;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Crash rounds: start the server, write at a fixed queue depth, SIGKILL the server at a random moment under that
 * load, restart it, read every block of the region back and check it against the records, repeat.
 *
 * <p>Before the first round the region is read once and every block's content remembered, so "a block never written
 * holds what it held before the run" is checked too. The kill comes a random {@code killMin..killMax} after the
 * load has had {@code qd} writes acknowledged (so every round dies with the queue full). A connection that fails
 * before the kill, or a write the server answers with an error, ends the run with an error: only the kill may end
 * a load.
 */
public final class CrashHarness {
  /** The server under test. */
  public interface ServerControl {
    /** Starts it; readiness is whatever the connector needs (it retries). */
    void start() throws Exception;

    /** SIGKILL; returns once it is gone (its pid, or -1). Throws when it had died by itself. */
    long kill() throws Exception;

    /** Graceful stop at the end of the run. */
    void stop() throws Exception;

    /** Throws (with a reason) when the server died; called while waiting to connect. */
    default void checkAlive() throws Exception {}
  }

  /** Opens a connection to the server (after each restart). */
  public interface Connector {
    BlockTarget connect() throws IOException;
  }

  /**
   * @param firstBlock first 4 KiB block of the region, {@code blocks} long
   * @param readBlocks blocks per verification read
   * @param records    where the records are saved after every verification (null: memory only)
   */
  public record Options(long firstBlock, int blocks, int qd, Durability durability, int flushEvery, int rounds,
                        long killMinMillis, long killMaxMillis, Duration restartTimeout, long seed, int readBlocks,
                        Path records) {
    public Options {
      if (qd < 1 || qd > 1024) throw new IllegalArgumentException("qd must be 1..1024, got " + qd);
      if (blocks < 4L * qd) throw new IllegalArgumentException("blocks (" + blocks + ") must be at least 4 × qd (" + qd + ")");
      if (rounds < 1) throw new IllegalArgumentException("rounds must be >= 1");
      if (killMinMillis < 0 || killMaxMillis < killMinMillis) throw new IllegalArgumentException("bad kill window " + killMinMillis + "-" + killMaxMillis + " ms");
      if (readBlocks < 1 || readBlocks > 256) throw new IllegalArgumentException("readBlocks must be 1..256");
    }
  }

  /** One round. */
  public record Round(int round, long pid, long killAfterMillis, double loadSeconds, long issued, long durable,
                      long failedAtKill, long unflushedAtKill, double restartSeconds, Verification verification) {}

  /** The run; {@code error} is non-null when it could not be completed (not a violation: a broken run). */
  public record Summary(long runId, int roundsDone, long durableWrites, long acknowledgedReadBack, long inFlightAtKills,
                        long unflushedAtKills, long landed, long notLanded, long violations, double seconds,
                        List<Round> rounds, List<Records.Violation> firstViolations, String error) {
    public boolean passed() { return error == null && violations == 0; }
  }

  private final Options options;
  private final PrintStream out;

  public CrashHarness(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public Summary run(ServerControl server, Connector connector) throws Exception {
    SplittableRandom random = new SplittableRandom(options.seed());
    // Unique per run even with the same seed, so no earlier run's blocks on the device can pass for this run's.
    long runId = new java.security.SecureRandom().nextLong();
    long t0 = System.nanoTime();
    List<Round> rounds = new ArrayList<>();
    List<Records.Violation> firstViolations = new ArrayList<>();
    Records records = new Records(runId, options.firstBlock(), options.blocks());
    String error = null;
    BlockTarget target = null;
    try {
      server.start();
      target = connect(server, connector);
      long needBytes = (options.firstBlock() + options.blocks()) * BlockImage.BLOCK;
      if (target.sizeBytes() >= 0 && target.sizeBytes() < needBytes) {
        throw new IllegalArgumentException(target.describe() + " offers " + target.sizeBytes() + " bytes; the region needs " + needBytes);
      }
      long s0 = System.nanoTime();
      Verification.snapshot(target, records, options.qd(), options.readBlocks());
      out.printf("run %016x on %s: blocks [%d, %d) (%d MiB), QD%d, durable = %s; pre-run content of every block remembered in %.1f s%n",
          runId, target.describe(), options.firstBlock(), options.firstBlock() + options.blocks(),
          (long) options.blocks() * BlockImage.BLOCK >> 20, options.qd(), describe(options.durability(), options.flushEvery()),
          (System.nanoTime() - s0) / 1e9);
      out.flush();
      for (int r = 1; r <= options.rounds(); r++) {
        records.beginRound(r);
        WriteLoad load = new WriteLoad(records, target, options.qd(), options.durability(), options.flushEvery(), random.nextLong());
        load.start();
        if (!load.awaitDurable(options.qd(), TimeUnit.SECONDS.toNanos(60))) {
          throw new IllegalStateException("round " + r + ": fewer than " + options.qd() + " writes acknowledged within 60 s");
        }
        long delay = options.killMinMillis() + (options.killMaxMillis() == options.killMinMillis() ? 0
            : random.nextLong(options.killMaxMillis() - options.killMinMillis() + 1));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
        while (!load.ended() && System.nanoTime() < deadline) Thread.sleep(Math.min(10, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
        boolean endedEarly = load.ended();
        long pid = server.kill();
        WriteLoad.Result result = load.join(TimeUnit.SECONDS.toNanos(90));
        target.close();
        target = null;
        if (result.error() != null) {
          throw new IllegalStateException("round " + r + ": a request failed with an error, not the kill: " + WriteLoad.rootMessage(result.error()), result.error());
        }
        if (endedEarly) {
          throw new IllegalStateException("round " + r + ": the connection failed before the kill (" + result.closeCause() + ")");
        }
        long k0 = System.nanoTime();
        server.start();
        target = connect(server, connector);
        double restart = (System.nanoTime() - k0) / 1e9;
        Verification v = Verification.run(target, records, options.qd(), options.readBlocks());
        Round round = new Round(r, pid, delay, result.seconds(), result.issued(), result.durable(), result.failed(),
            result.unflushed(), restart, v);
        rounds.add(round);
        report(round);
        for (Records.Violation x : v.violations()) {
          if (firstViolations.size() < Verification.KEEP) firstViolations.add(x);
        }
        if (options.records() != null) records.save(options.records());
      }
    } catch (Exception e) {
      error = WriteLoad.rootMessage(e);
      out.println("ERROR: " + error);
    } finally {
      if (target != null) target.close();
      try {
        server.stop();
      } catch (Exception e) {
        out.println("stopping the server: " + e.getMessage());
      }
    }
    return summarize(runId, rounds, firstViolations, (System.nanoTime() - t0) / 1e9, error);
  }

  static String describe(Durability d, int flushEvery) {
    return switch (d) {
      case REPLY -> "on the write's reply";
      case FUA -> "on the reply to a FUA write";
      case FLUSH -> "on the reply to a FLUSH sent after the write's reply (one per " + flushEvery + " writes)";
    };
  }

  private void report(Round r) {
    Verification v = r.verification();
    out.printf("round %3d/%d: SIGKILL pid %d %.2f s into the load (%d ms after %d acks): %d writes durable, %d in flight%s;"
            + " back in %.1f s; %d blocks read back in %.1f s: %d hold their latest acknowledged write, %d pre-run content,"
            + " pending writes %d landed / %d not; violations %d%n",
        r.round(), options.rounds(), r.pid(), r.loadSeconds(), r.killAfterMillis(), options.qd(), r.durable(), r.failedAtKill(),
        options.durability() == Durability.FLUSH ? ", " + r.unflushedAtKill() + " answered but unflushed" : "",
        r.restartSeconds(), v.blocks(), v.seconds(), v.acknowledged(), v.initial(), v.landed(), v.notLanded(), v.violationCount());
    int shown = 0;
    for (Records.Violation x : v.violations()) {
      if (shown++ == 20) {
        out.printf("  ... %d more%n", v.violationCount() - 20);
        break;
      }
      out.println("  VIOLATION " + x);
    }
    out.flush();
  }

  private static Summary summarize(long runId, List<Round> rounds, List<Records.Violation> first, double seconds, String error) {
    long durable = 0, readBack = 0, inFlight = 0, unflushed = 0, landed = 0, notLanded = 0, violations = 0;
    for (Round r : rounds) {
      durable += r.durable();
      readBack += r.verification().acknowledged();
      inFlight += r.failedAtKill();
      unflushed += r.unflushedAtKill();
      landed += r.verification().landed();
      notLanded += r.verification().notLanded();
      violations += r.verification().violationCount();
    }
    return new Summary(runId, rounds.size(), durable, readBack, inFlight, unflushed, landed, notLanded, violations, seconds,
        List.copyOf(rounds), List.copyOf(first), error);
  }

  /** Connects, retrying while the server starts (connection refused, export or tenant not there yet). */
  private BlockTarget connect(ServerControl server, Connector connector) throws Exception {
    long deadline = System.nanoTime() + options.restartTimeout().toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      try {
        return connector.connect();
      } catch (IOException e) {
        last = e;
      }
      server.checkAlive();
      Thread.sleep(50);
    }
    throw new IOException("could not connect within " + options.restartTimeout().toSeconds() + " s of starting the server: "
        + (last == null ? "?" : last.getMessage()), last);
  }
}

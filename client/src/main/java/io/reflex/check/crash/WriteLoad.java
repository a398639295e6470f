package io.reflex.check.crash;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Random 4 KiB writes at a fixed queue depth until the connection fails (the server was killed) or {@link #stop()}.
 *
 * <p>Blocks are picked at random among those without a pending write ({@link Records#begin}), so no block ever has
 * two writes in flight. When a write counts as durable depends on {@link Durability}: on its reply (REPLY, FUA) or
 * once a FLUSH sent after its reply has been answered (FLUSH). A FLUSH takes a queue slot like a write.
 */
final class WriteLoad {
  /** What one load did. */
  record Result(long issued, long durable, long failed, long unflushed, long flushes, Throwable error, String closeCause,
                double seconds) {}

  private final Records records;
  private final BlockTarget target;
  private final int qd;
  private final Durability durability;
  private final int flushEvery;
  private final SplittableRandom random;
  private final Semaphore slots;
  private final Thread thread;

  private final AtomicLong durable = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong flushes = new AtomicLong();
  private long issued;
  private int completedSinceFlush;
  /** FLUSH mode: writes (block index, seq) whose reply arrived and that no FLUSH covers yet. */
  private List<long[]> unflushed = new ArrayList<>();
  /** FLUSH mode: writes covered by a FLUSH that has not been answered. */
  private long unflushedInFlushes;

  private volatile boolean stopping;
  private volatile boolean ended;
  private volatile Throwable error;
  private volatile String closeCause;
  private long startNanos;
  private long endNanos;

  WriteLoad(Records records, BlockTarget target, int qd, Durability durability, int flushEvery, long seed) {
    if (durability == Durability.FUA && !target.supportsFua()) {
      throw new IllegalArgumentException(target.describe() + " has no FUA flag: use durability reply or flush");
    }
    this.records = records;
    this.target = target;
    this.qd = qd;
    this.durability = durability;
    this.flushEvery = Math.max(1, flushEvery);
    this.random = new SplittableRandom(seed);
    this.slots = new Semaphore(qd);
    this.thread = Thread.ofPlatform().daemon().name("crashcheck-writer").unstarted(this::run);
  }

  void start() {
    startNanos = System.nanoTime();
    thread.start();
  }

  /** Writes acknowledged as durable so far. */
  long durable() { return durable.get(); }

  /** Whether the load has ended (a failure, or stop). */
  boolean ended() { return ended || !thread.isAlive() && startNanos != 0; }

  /** Waits until {@code n} writes are durable or the load ended; false on timeout. */
  boolean awaitDurable(long n, long timeoutNanos) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    while (durable.get() < n && !ended()) {
      if (System.nanoTime() > deadline) return false;
      Thread.sleep(2);
    }
    return true;
  }

  void stop() { stopping = true; }

  /** Waits for the load to end and every request it issued to complete (fail, after a kill). */
  Result join(long timeoutNanos) throws InterruptedException {
    thread.join(TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
    if (thread.isAlive()) throw new IllegalStateException("the write load did not end within " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s");
    long unflushedNow;
    synchronized (this) {
      unflushedNow = unflushed.size() + unflushedInFlushes;
    }
    return new Result(issued, durable.get(), failed.get(), unflushedNow, flushes.get(), error, closeCause,
        (endNanos - startNanos) / 1e9);
  }

  private void run() {
    long first = records.firstBlock();
    try {
      while (!stopping && !ended) {
        if (!slots.tryAcquire(20, TimeUnit.MILLISECONDS)) continue;
        if (stopping || ended) {
          slots.release();
          break;
        }
        if (durability == Durability.FLUSH && flushDue()) {
          flush();
          continue;
        }
        int i = pick();
        if (i < 0) { // every block has a pending write: wait for completions / a flush
          slots.release();
          Thread.sleep(1);
          continue;
        }
        long seq = pickedSeq;
        issued++;
        CompletableFuture<Void> f;
        try {
          f = target.write(first + i, BlockImage.image(records.runId(), first + i, seq), durability == Durability.FUA);
        } catch (RuntimeException e) {
          failed(e);
          slots.release();
          break;
        }
        f.whenComplete((v, e) -> {
          if (e == null) written(i, seq);
          else failed(e);
          slots.release();
        });
      }
      endNanos = System.nanoTime();
      // Every request ends: answered, or failed when the connection closes.
      if (!slots.tryAcquire(qd, 60, TimeUnit.SECONDS)) {
        failed(new IllegalStateException((qd - slots.availablePermits()) + " requests still outstanding 60 s after the load ended"), false);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failed(e, false);
    } finally {
      if (endNanos == 0) endNanos = System.nanoTime();
      ended = true;
    }
  }

  private long pickedSeq;

  /** A random block without a pending write (its write's seq in {@link #pickedSeq}), or -1 if there is none. */
  private int pick() {
    int n = records.blocks();
    for (int t = 0; t < 64; t++) {
      int i = random.nextInt(n);
      long seq = records.begin(i);
      if (seq != 0) {
        pickedSeq = seq;
        return i;
      }
    }
    int start = random.nextInt(n);
    for (int k = 0; k < n; k++) {
      int i = (start + k) % n;
      long seq = records.begin(i);
      if (seq != 0) {
        pickedSeq = seq;
        return i;
      }
    }
    return -1;
  }

  private void written(int i, long seq) {
    if (durability != Durability.FLUSH) {
      records.durable(i, seq);
      durable.incrementAndGet();
      return;
    }
    synchronized (this) {
      unflushed.add(new long[] {i, seq});
      completedSinceFlush++;
    }
  }

  private synchronized boolean flushDue() {
    return completedSinceFlush >= flushEvery;
  }

  /** FLUSH mode: covers every write answered so far (all of them completed before the FLUSH is sent). */
  private void flush() {
    List<long[]> covered;
    synchronized (this) {
      covered = unflushed;
      unflushed = new ArrayList<>();
      completedSinceFlush = 0;
      unflushedInFlushes += covered.size();
    }
    CompletableFuture<Void> f;
    try {
      f = target.flush();
    } catch (RuntimeException e) {
      failed(e, false);
      slots.release();
      return;
    }
    f.whenComplete((v, e) -> {
      synchronized (this) {
        unflushedInFlushes -= covered.size();
        if (e != null) unflushed.addAll(covered); // still completed-but-not-durable (and pending in the records)
      }
      if (e == null) {
        for (long[] w : covered) records.durable((int) w[0], w[1]);
        durable.addAndGet(covered.size());
        flushes.incrementAndGet();
      } else {
        failed(e, false);
      }
      slots.release();
    });
  }

  private void failed(Throwable e) {
    failed(e, true);
  }

  /** A request failed: the load ends; a closed connection is expected (the kill), anything else is an error. */
  private void failed(Throwable e, boolean write) {
    if (write) failed.incrementAndGet();
    if (BlockTarget.isClosed(e)) {
      if (closeCause == null) closeCause = rootMessage(e);
    } else if (error == null) {
      error = e;
    }
    ended = true;
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while ((t instanceof java.util.concurrent.CompletionException || t.getMessage() == null) && t.getCause() != null) t = t.getCause();
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}

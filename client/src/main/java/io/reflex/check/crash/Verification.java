package io.reflex.check.crash;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** One read-back of the whole region, checked block by block against the {@link Records}. */
public final class Verification {
  /** Violations kept with their details (all are counted). */
  static final int KEEP = 100;

  private int blocks;
  private long acknowledged;
  private long acked;
  private long initial;
  private long landed;
  private long notLanded;
  private long violationCount;
  private final List<Records.Violation> violations = new ArrayList<>();
  private double seconds;

  /** Blocks read back and checked. */
  public synchronized int blocks() { return blocks; }
  /** Blocks that had to hold an acknowledged write (the latest for that block) and did (or a newer in-flight one). */
  public synchronized long acknowledged() { return acknowledged; }
  /** Blocks holding their latest acknowledged write with nothing pending. */
  public synchronized long acked() { return acked; }
  /** Blocks never written (durably or not): their pre-run content. */
  public synchronized long initial() { return initial; }
  /** Writes pending at the kill (in flight, or unflushed) that turned out to be on the device. */
  public synchronized long landed() { return landed; }
  /** Writes pending at the kill that were not on the device (the block held its previous content). */
  public synchronized long notLanded() { return notLanded; }
  public synchronized long violationCount() { return violationCount; }
  /** The first {@value #KEEP} violations. */
  public synchronized List<Records.Violation> violations() { return List.copyOf(violations); }
  public synchronized double seconds() { return seconds; }

  synchronized void add(Records.Check c) {
    blocks++;
    switch (c.outcome()) {
      case ACKED -> acked++;
      case INITIAL -> initial++;
      case PENDING_LANDED -> landed++;
      case PENDING_NOT_LANDED -> notLanded++;
      case VIOLATION -> {
        violationCount++;
        if (violations.size() < KEEP) violations.add(c.violation());
      }
    }
    if (c.acknowledged() && c.outcome() != Records.Outcome.VIOLATION) acknowledged++;
  }

  /** Reads every block of the region through {@code target} ({@code readBlocks} per request, {@code qd} in flight). */
  public static Verification run(BlockTarget target, Records records, int qd, int readBlocks) throws IOException, InterruptedException {
    Verification v = new Verification();
    long t0 = System.nanoTime();
    read(target, records, qd, readBlocks, (i, buf, off) -> v.add(records.check(i, buf, off)));
    synchronized (v) {
      v.seconds = (System.nanoTime() - t0) / 1e9;
    }
    return v;
  }

  /** Remembers what every block of the region holds before the run. */
  public static void snapshot(BlockTarget target, Records records, int qd, int readBlocks) throws IOException, InterruptedException {
    read(target, records, qd, readBlocks, (i, buf, off) -> records.setInitial(i, BlockImage.fingerprint(buf, off)));
  }

  interface BlockConsumer {
    void accept(int index, byte[] buf, int off);
  }

  static void read(BlockTarget target, Records records, int qd, int readBlocks, BlockConsumer consumer)
      throws IOException, InterruptedException {
    Semaphore slots = new Semaphore(qd);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long first = records.firstBlock();
    int n = records.blocks();
    for (int start = 0; start < n && failure.get() == null; start += readBlocks) {
      int count = Math.min(readBlocks, n - start);
      int at = start;
      if (!slots.tryAcquire(120, TimeUnit.SECONDS)) throw new IOException("verification reads stalled for 120 s on " + target.describe());
      CompletableFuture<byte[]> f;
      try {
        f = target.read(first + at, count);
      } catch (RuntimeException e) {
        slots.release();
        throw new IOException("verification read failed: " + e.getMessage(), e);
      }
      f.whenComplete((buf, e) -> {
        try {
          if (e != null) {
            failure.compareAndSet(null, e);
          } else if (buf.length != count * BlockImage.BLOCK) {
            failure.compareAndSet(null, new IOException("read of " + count + " blocks returned " + buf.length + " bytes"));
          } else {
            for (int j = 0; j < count; j++) consumer.accept(at + j, buf, j * BlockImage.BLOCK);
          }
        } catch (RuntimeException ex) {
          failure.compareAndSet(null, ex);
        } finally {
          slots.release();
        }
      });
    }
    if (!slots.tryAcquire(qd, 120, TimeUnit.SECONDS)) throw new IOException("verification reads did not complete within 120 s");
    Throwable e = failure.get();
    if (e != null) throw new IOException("verification read failed on " + target.describe() + ": " + WriteLoad.rootMessage(e), e);
  }
}

package io.reflex.check.crash;

import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An in-memory server for the harness's own tests: writes complete (land, then are answered) one at a time on a
 * background thread; {@link #kill()} fails everything in flight, some of it landed, some not — and, when asked to
 * misbehave, loses its last answered writes or tears writes in flight.
 */
final class FakeServer implements CrashHarness.ServerControl, CrashHarness.Connector {
  private final Map<Long, byte[]> disk = new HashMap<>();
  /** Undo log of answered writes: {block, previous content}. */
  private final Deque<Object[]> answered = new ArrayDeque<>();
  private final Random random = new Random(1);
  private boolean up;
  private Target current;
  int loseOnKill;
  boolean tearOnKill;
  /** Each connection answers this many writes, then none (so writes are surely in flight at the kill). */
  int stallAfter = Integer.MAX_VALUE;
  /** The connection closes by itself this long after connecting (a crash nobody asked for); 0: never. */
  long dieAfterMillis;
  int kills;

  @Override
  public synchronized void start() { up = true; }

  @Override
  public synchronized long kill() {
    if (!up) throw new IllegalStateException("not running");
    kills++;
    if (current != null) current.die(tearOnKill);
    for (int i = 0; i < loseOnKill && !answered.isEmpty(); i++) {
      Object[] undo = answered.pollLast();
      disk.put((Long) undo[0], (byte[]) undo[1]);
    }
    answered.clear();
    up = false;
    return -1;
  }

  @Override
  public synchronized void stop() {
    if (current != null) current.die(false);
    up = false;
  }

  @Override
  public synchronized BlockTarget connect() throws IOException {
    if (!up) throw new ConnectException("fake server is down");
    current = new Target();
    if (dieAfterMillis > 0) {
      Target t = current;
      Thread.ofVirtual().start(() -> {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(dieAfterMillis));
        synchronized (this) {
          t.die(false);
        }
      });
    }
    return current;
  }

  private byte[] content(long block) {
    byte[] b = disk.get(block);
    if (b == null) {
      b = new byte[4096];
      Arrays.fill(b, (byte) block);
    }
    return b;
  }

  private record Op(long block, byte[] data, CompletableFuture<Void> future) {}

  private final class Target implements BlockTarget {
    private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private boolean dead; // guarded by FakeServer.this
    private final Thread completer = Thread.ofPlatform().daemon().start(this::complete);

    private void complete() {
      int answers = 0;
      try {
        while (true) {
          Op op = answers < stallAfter ? queue.poll(100, TimeUnit.MILLISECONDS) : null;
          if (op == null && answers >= stallAfter) Thread.sleep(5);
          synchronized (FakeServer.this) {
            if (dead) { // polled before die() emptied the queue: fails like the rest (not landed)
              if (op != null) op.future().completeExceptionally(new TargetClosedException("killed", null));
              return;
            }
            if (op == null) continue;
            answered.add(new Object[] {op.block(), content(op.block())});
            disk.put(op.block(), op.data());
          }
          op.future().complete(null);
          answers++;
          LockSupport.parkNanos(20_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Called with the server's lock held. */
    void die(boolean tear) {
      if (dead) return;
      dead = true;
      boolean first = true;
      for (Op op; (op = queue.poll()) != null; first = false) {
        switch (tear && first ? 2 : random.nextInt(3)) {
          case 0 -> disk.put(op.block(), op.data());
          case 1 -> { }
          default -> {
            if (tear) {
              byte[] half = content(op.block()).clone();
              System.arraycopy(op.data(), 0, half, 0, 2048);
              disk.put(op.block(), half);
            }
          }
        }
        op.future().completeExceptionally(new TargetClosedException("killed", null));
      }
    }

    @Override
    public CompletableFuture<Void> write(long block, byte[] image, boolean fua) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      synchronized (FakeServer.this) {
        if (dead) {
          f.completeExceptionally(new TargetClosedException("closed", null));
          return f;
        }
        queue.add(new Op(block, image.clone(), f));
      }
      return f;
    }

    @Override
    public CompletableFuture<byte[]> read(long block, int count) {
      synchronized (FakeServer.this) {
        if (dead) return CompletableFuture.failedFuture(new TargetClosedException("closed", null));
        byte[] out = new byte[count * 4096];
        for (int i = 0; i < count; i++) System.arraycopy(content(block + i), 0, out, i * 4096, 4096);
        return CompletableFuture.completedFuture(out);
      }
    }

    @Override
    public CompletableFuture<Void> flush() {
      synchronized (FakeServer.this) {
        return dead ? CompletableFuture.failedFuture(new TargetClosedException("closed", null)) : CompletableFuture.completedFuture(null);
      }
    }

    @Override
    public long sizeBytes() { return -1; }

    @Override
    public boolean supportsFua() { return true; }

    @Override
    public String describe() { return "fake"; }

    @Override
    public void close() {
      synchronized (FakeServer.this) {
        die(false);
      }
    }
  }
}

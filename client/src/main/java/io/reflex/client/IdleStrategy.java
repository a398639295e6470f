package io.reflex.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * What a thread driving {@link ReflexConnection}s does when a pass found no work, per {@link PollMode}.
 * Call {@link #idle(int, long)} once per loop iteration with the work done and the next deadline.
 *
 * <p>BLOCK and ADAPTIVE wait in {@link Selector#select(Consumer, long)}, whose timer has millisecond resolution. A
 * deadline under 1 ms away would make that oversleep up to 1 ms (an open-loop sender at 10K IOPS then sends late
 * and its coordinated-omission-corrected latency grows by ~0.5 ms), so BLOCK parks for exactly the time left
 * instead; a reply arriving meanwhile is read when the park ends, at most that long later. ADAPTIVE spins until
 * such a deadline. One instance per driving thread; {@link #wakeup()} may be called from any thread.
 */
public final class IdleStrategy implements AutoCloseable {
    /** ADAPTIVE keeps spinning this long after the last work: about the cost of one halted-vCPU wake-up and more. */
    static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final long MAX_BLOCK_MILLIS = 100;
    private static final Consumer<SelectionKey> IGNORE_KEY = key -> { };

    private final PollMode mode;
    private final Selector selector;
    private final List<BlockTransport> connections = new ArrayList<>();
    private final List<SelectionKey> keys = new ArrayList<>();
    private long lastWorkNanos = System.nanoTime();

    public IdleStrategy(PollMode mode) {
        this.mode = mode;
        try {
            this.selector = mode == PollMode.BUSY || mode == PollMode.YIELD ? null : Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector", e);
        }
    }

    public PollMode mode() { return mode; }

    /** Watches this connection's socket while blocked; call from the driving thread. */
    public void register(BlockTransport c) {
        if (selector == null) return;
        try {
            keys.add(c.channel().register(selector, SelectionKey.OP_READ));
            connections.add(c);
        } catch (ClosedChannelException e) {
            // a closed connection never needs waking for; its failures are reported by poll
        }
    }

    /**
     * @param workCount     what the last pass did (completions + submissions); > 0 returns at once
     * @param deadlineNanos System.nanoTime() by which the caller must run again (Long.MAX_VALUE: none)
     */
    public void idle(int workCount, long deadlineNanos) {
        long now = System.nanoTime();
        if (workCount > 0) {
            lastWorkNanos = now;
            return;
        }
        switch (mode) {
            case BUSY -> Thread.onSpinWait();
            case YIELD -> Thread.yield();
            case BLOCK -> block(now, deadlineNanos);
            case ADAPTIVE -> {
                if (now - lastWorkNanos < SPIN_NANOS || deadlineNanos - now < TimeUnit.MILLISECONDS.toNanos(2)) {
                    Thread.onSpinWait();
                } else {
                    // wake a little before the deadline, then spin up to it
                    block(now, deadlineNanos - TimeUnit.MILLISECONDS.toNanos(1));
                }
            }
        }
    }

    private void block(long now, long deadlineNanos) {
        if (deadlineNanos - now < TimeUnit.MILLISECONDS.toNanos(1)) {
            LockSupport.parkNanos(deadlineNanos - now);
            return;
        }
        long millis = deadlineNanos == Long.MAX_VALUE ? MAX_BLOCK_MILLIS
                : Math.clamp(TimeUnit.NANOSECONDS.toMillis(deadlineNanos - now), 1, MAX_BLOCK_MILLIS);
        for (int i = 0; i < keys.size(); i++) {
            SelectionKey key = keys.get(i);
            if (!key.isValid()) continue;
            key.interestOps(SelectionKey.OP_READ | (connections.get(i).hasPendingSends() ? SelectionKey.OP_WRITE : 0));
        }
        try {
            selector.select(IGNORE_KEY, millis); // the caller polls every connection anyway
        } catch (IOException e) {
            throw new UncheckedIOException("select failed", e);
        }
    }

    /** Makes a blocked (or the next) {@link #idle} return at once. */
    public void wakeup() {
        if (selector != null) selector.wakeup();
    }

    @Override
    public void close() {
        if (selector == null) return;
        try {
            selector.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}

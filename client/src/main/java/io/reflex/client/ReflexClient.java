package io.reflex.client;

import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Application API over one {@link ReflexConnection}: futures instead of callbacks, safe to call from any thread.
 *
 * <p>A dedicated I/O thread drives the connection (idling per {@link ClientOptions#pollMode()}); callers hand it
 * requests through a lock-free queue. Unlike the connection, this layer allocates per request (the future, a small
 * request record, the read's result buffer) — use {@link ReflexConnection} directly for allocation-free loops.
 *
 * <p>Futures complete on the I/O thread: continuations attached with non-async methods run there, so they must not
 * block. A non-OK status fails the future with a {@link ReflexException} naming it; a closed connection fails
 * every outstanding and queued request with a {@link ReflexException} whose status is
 * {@link ReflexConnection#STATUS_CLOSED}. Invalid requests (bad size, negative lba) throw
 * {@link IllegalArgumentException} from the calling thread and are never sent.
 */
public final class ReflexClient implements AutoCloseable {
    private enum Kind { READ, WRITE, FLUSH, BARRIER }

    /** One application request on its way through the I/O thread. */
    private record Op(Kind kind, long lba, int sectors, ByteBuffer buffer, CompletableFuture<?> future) {
        String describe() {
            return switch (kind) {
                case READ -> "read lba=" + lba + " sectors=" + sectors;
                case WRITE -> "write lba=" + lba + " sectors=" + sectors;
                case FLUSH, BARRIER -> "flush";
            };
        }

        @SuppressWarnings("unchecked")
        void complete(Object value) { ((CompletableFuture<Object>) future).complete(value); }
    }

    private final BlockTransport connection;
    private final ClientOptions options;
    private final IdleStrategy idle;
    private final ConcurrentLinkedQueue<Op> submissions = new ConcurrentLinkedQueue<>();
    private final Thread ioThread;
    private volatile boolean running = true;
    private volatile boolean sleeping;
    private volatile boolean closed;

    // I/O-thread state: ops in submission order not yet on the wire, and ops in flight by connection tag.
    private final ArrayDeque<Op> backlog = new ArrayDeque<>();
    private final Op[] inFlight;
    private final int[] freeTags;
    private int freeTagCount;

    private ReflexClient(BlockTransport connection, ClientOptions options) {
        this.connection = connection;
        this.options = options;
        this.idle = new IdleStrategy(options.pollMode());
        this.inFlight = new Op[connection.maxInFlight()];
        this.freeTags = new int[inFlight.length];
        for (int i = 0; i < freeTags.length; i++) freeTags[i] = i;
        this.freeTagCount = freeTags.length;
        this.ioThread = Thread.ofPlatform().daemon().name("reflex-client-io-" + connection.peer()).unstarted(this::ioLoop);
    }

    /**
     * Connects (and in extended mode authenticates with HELLO) and starts the I/O thread.
     *
     * @throws java.net.ConnectException if the server cannot be reached
     * @throws ReflexException           if HELLO is refused (e.g. EAUTH)
     */
    public static ReflexClient connect(String host, int port, ClientOptions options) throws IOException {
        return start(ReflexConnection.open(host, port, options), options);
    }

    /**
     * As {@link #connect}, over UDP to a server running the DPDK engine (PROTOCOL.md, "UDP transport"): lost
     * datagrams are retried per {@code udp}; a request out of retries fails with status
     * {@link UdpConnection#STATUS_TIMEOUT} (a write that timed out may or may not have been applied, at most once).
     */
    public static ReflexClient connectUdp(String host, int port, ClientOptions options, UdpOptions udp) throws IOException {
        return start(UdpConnection.open(host, port, options, udp), options);
    }

    private static ReflexClient start(BlockTransport c, ClientOptions options) {
        ReflexClient client = new ReflexClient(c, options);
        client.idle.register(c);
        client.ioThread.start();
        return client;
    }

    /** Reads {@code sectors} 512-byte sectors; the future's buffer holds exactly the data (position 0). */
    public CompletableFuture<ByteBuffer> read(long lba, int sectors) {
        ReflexConnection.checkRead(lba, sectors);
        CompletableFuture<ByteBuffer> f = new CompletableFuture<>();
        enqueue(new Op(Kind.READ, lba, sectors, ByteBuffer.allocate(sectors << ReflexHeader.SECTOR_SHIFT), f));
        return f;
    }

    /**
     * Writes {@code data}'s remaining bytes (a multiple of 512, at most 1 MiB). The bytes are copied on the I/O
     * thread, so do not modify them until the future completes; {@code data}'s position is left unchanged.
     */
    public CompletableFuture<Void> write(long lba, ByteBuffer data) {
        ReflexConnection.checkWrite(lba, data.remaining());
        CompletableFuture<Void> f = new CompletableFuture<>();
        enqueue(new Op(Kind.WRITE, lba, data.remaining() >>> ReflexHeader.SECTOR_SHIFT, data.duplicate(), f));
        return f;
    }

    /**
     * Completes once every write submitted before it has completed (successfully or not) and, in extended mode,
     * the server has acknowledged a FLUSH making them durable. In legacy mode there is no FLUSH on the wire; the
     * original server acknowledges a write only after the device completed it.
     */
    public CompletableFuture<Void> flush() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        enqueue(new Op(Kind.BARRIER, 0, 0, null, f));
        return f;
    }

    public boolean isOpen() { return !closed && connection.isOpen(); }
    public String peer() { return connection.peer(); }
    public ClientOptions options() { return options; }

    /** Stops the I/O thread and closes the connection; outstanding and queued requests fail with CONNECTION_CLOSED. */
    @Override
    public void close() {
        running = false;
        idle.wakeup();
        if (Thread.currentThread() != ioThread) {
            try {
                ioThread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void enqueue(Op op) {
        submissions.add(op);
        if (closed) {
            failQueued(); // the I/O thread is gone: whoever polls an op fails it, exactly once
        } else if (sleeping) {
            idle.wakeup();
        }
    }

    // ---------------------------------------------------------------- I/O thread

    private void ioLoop() {
        CompletionListener listener = this::onComplete;
        try {
            while (running) {
                int work = submitQueued();
                connection.flushSends();
                work += connection.poll(listener);
                if (!connection.isOpen()) break;
                if (work == 0) {
                    sleeping = true;
                    if (submissions.isEmpty() && running) idle.idle(0, deadline());
                    sleeping = false;
                } else {
                    idle.idle(work, Long.MAX_VALUE);
                }
            }
        } finally {
            connection.close();
            connection.poll(listener); // reports everything in flight as STATUS_CLOSED
            closed = true;
            backlog.forEach(op -> op.future().completeExceptionally(closedException(op)));
            backlog.clear();
            failQueued();
            idle.close();
        }
    }

    /** When the transport needs polling even if nothing arrives (UDP retransmits), else never. */
    private long deadline() {
        long now = System.nanoTime();
        long left = connection.nanosUntilDeadline(now);
        return left == Long.MAX_VALUE ? Long.MAX_VALUE : now + left;
    }

    private int submitQueued() {
        for (Op op; (op = submissions.poll()) != null; ) backlog.add(op);
        int n = 0;
        while (!backlog.isEmpty() && trySubmit(backlog.peek())) {
            backlog.poll();
            n++;
        }
        return n;
    }

    /** Puts one op on the wire; false if the connection has no room yet (it stays at the head of the backlog). */
    private boolean trySubmit(Op op) {
        if (op.kind() == Kind.BARRIER) {
            startFlush(op);
            return true;
        }
        if (freeTagCount == 0) return false;
        int tag = freeTags[--freeTagCount];
        inFlight[tag] = op;
        boolean queued;
        try {
            queued = switch (op.kind()) {
                case READ -> connection.submitRead(op.lba(), op.sectors(), op.buffer(), tag);
                case WRITE -> connection.submitWrite(op.lba(), op.buffer(), tag);
                case FLUSH -> connection.submitFlush(tag);
                case BARRIER -> throw new AssertionError();
            };
        } catch (RuntimeException e) { // validated by the caller already; fail this op, not the client
            releaseTag(tag);
            op.future().completeExceptionally(e);
            return true;
        }
        if (!queued) releaseTag(tag);
        return queued;
    }

    /** A flush waits for every write now in flight (all earlier ones are), then sends FLUSH in extended mode. */
    private void startFlush(Op barrier) {
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (Op op : inFlight) if (op != null && op.kind() == Kind.WRITE) writes.add(op.future().exceptionally(e -> null));
        CompletableFuture<Void> allWritten = CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
        if (!connection.isExtended()) {
            allWritten.thenRun(() -> barrier.complete(null));
        } else {
            allWritten.thenRun(() -> enqueue(new Op(Kind.FLUSH, 0, 0, null, barrier.future())));
        }
    }

    private void onComplete(long userTag, int status, ByteBuffer data) {
        int tag = (int) userTag;
        Op op = inFlight[tag];
        releaseTag(tag);
        if (status == Status.OK) {
            op.complete(op.kind() == Kind.READ ? op.buffer() : null);
        } else if (status == ReflexConnection.STATUS_CLOSED) {
            op.future().completeExceptionally(closedException(op));
        } else {
            op.future().completeExceptionally(ReflexException.forStatus(status, op.describe()));
        }
    }

    private void releaseTag(int tag) {
        inFlight[tag] = null;
        freeTags[freeTagCount++] = tag;
    }

    private void failQueued() {
        for (Op op; (op = submissions.poll()) != null; ) op.future().completeExceptionally(closedException(op));
    }

    private ReflexException closedException(Op op) {
        IOException cause = connection.closeCause();
        String why = cause == null ? "client closed" : cause.getMessage();
        return new ReflexException(ReflexConnection.STATUS_CLOSED, op.describe() + " failed: connection to "
                + connection.peer() + " closed before the reply (" + why + ")", cause);
    }
}

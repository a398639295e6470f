package io.reflex.dataplane.metrics;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One loop's connection counters (single writer: the loop thread; read by the metrics scrape). Like
 * {@link TenantStats}: plain array slots published with release stores, no locks, no allocation.
 */
public final class ConnectionStats {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int REASONS = CloseReason.values().length;
    private static final int OPENED = REASONS, ACCEPT_ERRORS = REASONS + 1, OPEN = REASONS + 2, SEND_BLOCKED = REASONS + 3,
            SOCKET_BUFFER_BYTES = REASONS + 4, REQUESTS_IN_USE = REASONS + 5, IO_BUFFER_BYTES = REASONS + 6, N = REASONS + 7;

    private final long[] values = new long[N];

    public void onOpened() {
        add(OPENED, 1);
        add(OPEN, 1);
    }

    public void onClosed(CloseReason reason) {
        add(reason.ordinal(), 1);
        add(OPEN, -1);
    }

    public void onAcceptFailed() { add(ACCEPT_ERRORS, 1); }

    /** Published by the loop's periodic sweep. */
    public void onSweep(int sendBlocked, long socketBufferBytes, int requestsInUse, long ioBufferBytes) {
        LONGS.setRelease(values, SEND_BLOCKED, (long) sendBlocked);
        LONGS.setRelease(values, SOCKET_BUFFER_BYTES, socketBufferBytes);
        LONGS.setRelease(values, REQUESTS_IN_USE, (long) requestsInUse);
        LONGS.setRelease(values, IO_BUFFER_BYTES, ioBufferBytes);
    }

    public long closed(CloseReason reason) { return get(reason.ordinal()); }

    public long opened() { return get(OPENED); }

    public long acceptErrors() { return get(ACCEPT_ERRORS); }

    /** Connections open on the loop now. */
    public long open() { return get(OPEN); }

    /** Connections not being read because their peer does not take their replies (as of the last sweep). */
    public long sendBlocked() { return get(SEND_BLOCKED); }

    /** Pooled socket buffer memory, in use and spare (as of the last sweep). */
    public long socketBufferBytes() { return get(SOCKET_BUFFER_BYTES); }

    /** Request ids held (received, queued, at the device or awaiting send), as of the last sweep. */
    public long requestsInUse() { return get(REQUESTS_IN_USE); }

    /** The loop's I/O buffer pool (request payloads and read data), allocated so far, as of the last sweep. */
    public long ioBufferBytes() { return get(IO_BUFFER_BYTES); }

    private void add(int i, long v) {
        LONGS.setRelease(values, i, (long) LONGS.getOpaque(values, i) + v);
    }

    private long get(int i) { return (long) LONGS.getAcquire(values, i); }
}

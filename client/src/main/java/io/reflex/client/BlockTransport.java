package io.reflex.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;

/**
 * A pipelined ReFlex transport driven by one thread: {@link ReflexConnection} (TCP) or {@link UdpConnection} (one
 * datagram per request, with retries). Submit requests, {@link #flushSends()}, then {@link #poll} for completions,
 * which arrive in any order. See {@link ReflexConnection} for the contract; UDP adds {@link UdpConnection#STATUS_TIMEOUT}.
 */
public interface BlockTransport extends AutoCloseable {
    boolean submitRead(long lba, int sectors, ByteBuffer dst, long userTag);

    boolean submitWrite(long lba, ByteBuffer src, long userTag);

    boolean submitFlush(long userTag);

    boolean flushSends();

    int poll(CompletionListener listener);

    boolean isOpen();

    /** Why the transport closed, or null while open. */
    IOException closeCause();

    boolean isExtended();

    int inFlight();

    int maxInFlight();

    boolean hasPendingSends();

    String peer();

    /** The channel, only to register with a selector for waiting. */
    SelectableChannel channel();

    /**
     * Nanoseconds from now until the transport needs {@link #poll} again even if nothing arrives (a retransmit
     * timer), or Long.MAX_VALUE.
     */
    default long nanosUntilDeadline(long now) { return Long.MAX_VALUE; }

    @Override
    void close();
}

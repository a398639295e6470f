package io.reflex.client;

import java.nio.ByteBuffer;

/** Receives completions from {@link ReflexConnection#poll(CompletionListener)}, on the polling thread. */
@FunctionalInterface
public interface CompletionListener {
    /**
     * @param userTag the tag given at submit time
     * @param status  a {@link io.reflex.protocol.Status} code (always OK in legacy mode), or
     *                {@link ReflexConnection#STATUS_CLOSED} when the connection closed before the reply arrived
     * @param data    for a successful read, a read-only view of the payload (position..limit) in the connection's
     *                receive buffer, valid only until this method returns; empty otherwise. Never null.
     */
    void onComplete(long userTag, int status, ByteBuffer data);
}

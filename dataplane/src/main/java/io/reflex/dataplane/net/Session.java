package io.reflex.dataplane.net;

import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A client connection on one loop, whatever its protocol (ReFlex {@link Connection}, NBD). The loop drives it
 * through these hooks; requests it parses go through the same request table, scheduler and device queue.
 */
abstract class Session {
    final DataplaneLoop loop;
    final SocketChannel channel;
    SelectionKey key;
    /** The tenant it serves; null until a protocol handshake names it (NBD export). */
    LoopTenant tenant;
    /** Request ids owned by this session (receiving, queued, at the device, or awaiting send). */
    int held;
    boolean closed;
    boolean paused;
    boolean dirty;

    Session(DataplaneLoop loop, SocketChannel channel, LoopTenant tenant) {
        this.loop = loop;
        this.channel = channel;
        this.tenant = tenant;
    }

    /** Socket readable. */
    abstract void onReadable();

    /** Send what is queued; called once per loop iteration when dirty, and when the socket is writable again. */
    abstract void flush();

    /** A request of this session finished (status set in the request table); queue its reply. */
    abstract void respond(int id);

    /** Resources freed up after {@link #pause}: parse what is buffered. */
    abstract void resume();

    /** Close now; requests still at the device are released when they complete. */
    abstract void close(String why);

    /** Attach to a tenant after a handshake; the tenant's rate follows its sessions. */
    final void bind(LoopTenant t) {
        tenant = t;
        loop.sessionBound(this);
    }

    final void markDirty() {
        if (!dirty) {
            dirty = true;
            loop.dirty(this);
        }
    }

    /** Stop reading until the loop frees resources; bytes stay buffered. Returns false for use in parsers. */
    final boolean pause() {
        if (!paused) {
            paused = true;
            loop.paused(this);
        }
        return false;
    }

    String remote() {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (java.io.IOException | RuntimeException e) {
            return "?";
        }
    }
}

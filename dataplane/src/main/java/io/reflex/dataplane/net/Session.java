package io.reflex.dataplane.net;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.Status;
import io.reflex.protocol.WireBuffers;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A client connection on one loop, whatever its protocol (ReFlex {@link Connection}, NBD {@link NbdSession}). It owns
 * what every protocol needs the same way: the receive buffer parsed in place, the queue of finished requests whose
 * replies go out in device-completion order, the send buffer written many replies per syscall, backpressure, and
 * closing without leaking a request. Subclasses parse their requests and encode their reply headers. Requests go
 * through the same request table, scheduler and device queue. Owned by the loop's thread.
 */
abstract class Session {
    static final int IN_BUFFER = 64 * 1024;
    static final int OUT_BUFFER = 256 * 1024;

    final DataplaneLoop loop;
    final SocketChannel channel;
    final RequestTable req;
    final BufferPool pool;
    final ByteBuffer in;
    final ByteBuffer out;
    SelectionKey key;
    /** The tenant it serves; null until a protocol handshake names it (NBD export). */
    LoopTenant tenant;
    /** Request ids owned by this session (receiving, queued, at the device, or awaiting send). */
    int held;
    boolean closed;
    boolean paused;
    boolean dirty;
    /** Close once every queued reply is sent (after an error reply that ends the session). */
    boolean closeAfterFlush;
    /** A request whose payload is still being received, or -1; {@link #pendingFilled} bytes of it are in. */
    int pendingRequest = -1;
    int pendingFilled;
    /** Bytes of a refused request's payload still to discard. */
    long pendingSkip;

    private final int[] replies;
    private int replyHead;
    private int replyCount;
    private int headSent;

    Session(DataplaneLoop loop, SocketChannel channel, LoopTenant tenant, ByteOrder order) {
        this.loop = loop;
        this.channel = channel;
        this.tenant = tenant;
        this.req = loop.requests;
        this.pool = loop.buffers;
        this.in = WireBuffers.pageAligned(IN_BUFFER, order);
        this.out = WireBuffers.pageAligned(OUT_BUFFER, order);
        this.replies = new int[loop.maxPerConnection()];
    }

    /** Parse every complete request in {@code in} (flipped for reading); stop when more bytes or resources are needed. */
    abstract void parse();

    /** Bytes of the reply header of request {@code id}. */
    abstract int replyHeaderLength(int id);

    /** Bytes of data that follow the reply header (a successful read). */
    final int replyDataLength(int id) {
        return req.opcode[id] == Opcode.GET && req.status[id] == Status.OK ? req.length[id] : 0;
    }

    /** Write request {@code id}'s reply header at out's position (and advance it). */
    abstract void putReplyHeader(int id);

    /** Whether request {@code id} may be answered; false after closing the session because it cannot be. */
    boolean canReply(int id) {
        return true;
    }

    /** Everything queued was sent. */
    void drained() {
        if (closeAfterFlush) close(null);
    }

    /** For log lines. */
    abstract String label();

    /** Socket readable: read what is there and parse every complete request. */
    final void onReadable() {
        if (closed || paused) return;
        int n;
        try {
            n = channel.read(in);
        } catch (IOException e) {
            close("read failed: " + e.getMessage());
            return;
        }
        if (n < 0) {
            close(null);
            return;
        }
        parseBuffered();
    }

    /** Parse what is already buffered (after a read, or when resuming from backpressure). */
    final void parseBuffered() {
        in.flip();
        try {
            parse();
        } finally {
            if (!closed) in.compact();
        }
    }

    /** Discard buffered bytes of a refused payload; false while more are needed. */
    final boolean skipPayload() {
        int k = (int) Math.min(pendingSkip, in.remaining());
        in.position(in.position() + k);
        pendingSkip -= k;
        return pendingSkip == 0;
    }

    /** Copy buffered payload into the pending request's buffer and enqueue it once whole; false while more are needed. */
    final boolean fillPayload() {
        int id = pendingRequest;
        int k = Math.min(req.length[id] - pendingFilled, in.remaining());
        pool.view(req.buffer[id], req.length[id]).put(pendingFilled, in, in.position(), k);
        in.position(in.position() + k);
        pendingFilled += k;
        if (pendingFilled < req.length[id]) return false;
        pendingRequest = -1;
        loop.enqueue(id);
        return true;
    }

    /** Resources freed up after {@link #pause}: parse what is buffered. */
    final void resume() {
        paused = false;
        if (!closed) parseBuffered();
    }

    /** A request of this session finished (status set in the request table); queue its reply. */
    void respond(int id) {
        replies[(replyHead + replyCount) % replies.length] = id;
        replyCount++;
        markDirty();
    }

    /** Whether another request may be held (the per-session bound on queued/in-flight requests). */
    final boolean full() {
        return held >= replies.length;
    }

    /** Encode queued replies into the send buffer and write as much as the socket takes, in as few syscalls as possible. */
    final void flush() {
        dirty = false;
        if (closed) return;
        try {
            while (true) {
                encode();
                if (closed) return;
                if (out.position() == 0) break;
                out.flip();
                int written = channel.write(out);
                out.compact();
                if (written == 0) break;
            }
        } catch (IOException e) {
            close("write failed: " + e.getMessage());
            return;
        }
        if (out.position() > 0 || replyCount > 0) {
            key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
        } else {
            if ((key.interestOps() & SelectionKey.OP_WRITE) != 0) key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
            drained();
        }
    }

    private void encode() {
        while (replyCount > 0) {
            int id = replies[replyHead];
            if (headSent == 0 && !canReply(id)) return;
            int headerLength = replyHeaderLength(id);
            int data = replyDataLength(id);
            if (headSent == 0) {
                if (out.remaining() < headerLength) return;
                putReplyHeader(id);
                headSent = headerLength;
            }
            int total = headerLength + data;
            if (headSent < total) {
                int k = Math.min(total - headSent, out.remaining());
                if (k == 0) return;
                out.put(out.position(), pool.view(req.buffer[id], data), headSent - headerLength, k);
                out.position(out.position() + k);
                headSent += k;
                if (headSent < total) return;
            }
            replyHead = (replyHead + 1) % replies.length;
            replyCount--;
            headSent = 0;
            loop.release(id);
        }
    }

    /** Close now; requests still at the device are released when they complete. */
    final void close(String why) {
        if (closed) return;
        if (why != null) loop.log(label() + ": " + why + " (" + remote() + ")");
        closed = true;
        if (pendingRequest >= 0) {
            loop.release(pendingRequest);
            pendingRequest = -1;
        }
        while (replyCount > 0) {
            loop.release(replies[replyHead]);
            replyHead = (replyHead + 1) % replies.length;
            replyCount--;
        }
        if (key != null) key.cancel();
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        loop.sessionClosed(this);
    }

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

    final String remote() {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}

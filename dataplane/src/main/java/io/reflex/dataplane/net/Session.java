package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.Status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A client connection on one loop, whatever its protocol (ReFlex {@link Connection}, NBD {@link NbdSession}). It owns
 * what every protocol needs the same way: the receive buffer parsed in place, the queue of finished requests whose
 * replies go out in device-completion order, the send buffer written many replies per syscall, backpressure, the
 * timestamps the loop's sweep checks for timeouts, and closing without leaking a request. Subclasses parse their
 * requests and encode their reply headers. Requests go through the same request table, scheduler and device queue.
 * Owned by the loop's thread.
 *
 * <p>Memory: socket buffers are borrowed from the loop ({@link SocketBuffers}) only while there is input to parse or
 * output to send; an idle connection keeps at most a partial header in {@link #CARRY} bytes of its own.
 * Backpressure: a connection holds at most {@code maxPerConnection} requests and {@code maxConnectionBytes} of I/O
 * buffers; once the peer stops taking replies (socket full, replies still queued) it is not read until they are sent.
 */
abstract class Session {
    static final int IN_BUFFER = 64 * 1024;
    static final int OUT_BUFFER = 256 * 1024;
    /** Input left over that a session keeps itself when it gives its receive buffer back: a partial frame header
     * (ReFlex ≤ 23 bytes, or HELLO with a token ≤ 280; NBD ≤ 27). Anything longer keeps the buffer. */
    static final int CARRY = 512;
    /** "Not now" for the timestamps below. */
    static final long NONE = Long.MIN_VALUE;
    /**
     * Lingering close: how long, and how many bytes, a session closed after its last reply keeps reading and discarding
     * what its peer still sends (see {@link #close}). Checked by the loop's sweep, so the linger ends up to one sweep
     * period (≤ 1 s) after this.
     */
    static final long LINGER_NANOS = 2_000_000_000L;
    static final long LINGER_MAX_BYTES = 1 << 20;
    /** Stands for "no buffer borrowed" in {@link #in} and {@link #out}: empty (position 0) and read-only, so a write
     * to it fails loudly. */
    static final ByteBuffer NO_BUFFER = ByteBuffer.allocate(0).asReadOnlyBuffer();

    final DataplaneLoop loop;
    final SocketChannel channel;
    /** The loop's io_uring network path, or null on the epoll path (then {@link #key} carries the interest). */
    final UringNet uring;
    final RequestTable req;
    final BufferPool pool;
    private final ByteOrder order;
    /** Receive buffer while one is borrowed (input being parsed or waiting), else {@link #NO_BUFFER}. Write mode
     * between parses. */
    ByteBuffer in = NO_BUFFER;
    /** Send buffer while one is borrowed (output waiting), else {@link #NO_BUFFER}. */
    ByteBuffer out = NO_BUFFER;
    private int inId = -1, outId = -1;
    private final byte[] carry = new byte[CARRY];
    private int carried;
    SelectionKey key;
    /** The tenant it serves; null until a protocol handshake names it (NBD export). */
    LoopTenant tenant;
    /** The admission it counts against until it ends, or null (see {@link TenantAdmission#released}). */
    TenantAdmission admission;
    /** Request ids owned by this session (receiving, queued, at the device, or awaiting send). */
    int held;
    /** Bytes of I/O buffers those requests hold. */
    int heldBytes;
    boolean closed;
    boolean paused;
    boolean dirty;
    /** The peer does not take replies: not read until the queued ones are sent. */
    boolean sendBlocked;
    /** Close once every queued reply is sent (after an error reply that ends the session), counted as {@link #afterFlush}. */
    boolean closeAfterFlush;
    CloseReason afterFlush = CloseReason.PROTOCOL_ERROR;
    /** A request whose payload is still being received, or -1; {@link #pendingFilled} bytes of it are in. */
    int pendingRequest = -1;
    int pendingFilled;
    /** Bytes of a refused request's payload still to discard. */
    long pendingSkip;
    /** Position in the loop's session array (-1 until adopted). */
    int index = -1;
    /** Closed, output shut down, input still drained (see {@link #close}); the socket is closed by {@link #endLinger}. */
    boolean lingering;
    /** Loop time the linger began, bytes discarded since, and the close's reason (counted when the socket closes). */
    long lingerSince;
    long lingerDrained;
    private CloseReason lingerReason;
    /** The peer's FIN was read: nothing can follow it, so a close need not linger. */
    private boolean eof;

    // Timeouts (loop time, ns), checked by the loop's sweep.
    final long openedAt;
    /** Last complete request or reply bytes taken by the peer. */
    long lastActive;
    /** When the frame now partly received started arriving, or NONE. */
    long partialSince = NONE;
    /** While output waits: when the peer last took some (or the wait began); else NONE. */
    long sendWaitSince = NONE;
    /** The socket's descriptor for {@link SendQueue} (-1: unknown), and its unacknowledged bytes at the last sweep
     * while output waits (-1: not looked yet). */
    int fd = -1;
    long lastUnacked = -1;
    /** Request frames taken so far; a change means the partial frame (if any) is a new one. */
    private long frames;
    private long framesSeen;

    // io_uring path (UringNet): the session's id in it, whether a receive is armed, bytes of the send buffer the
    // kernel is sending (0: none), whether it waits on UringNet's retry list, and a lingering close waiting for the
    // cancelled send to report before it writes the rest and shuts the output down.
    int netId = -1;
    boolean recvArmed;
    int sending;
    /**
     * Multishot receives: received buffers the session had no room for (first and last buffer id, chained through
     * UringNet's per-buffer links, -1: none), bytes of the first already taken, and whether its receive is being
     * cancelled (it stops reading the socket until the held bytes are parsed).
     */
    int heldHead = -1;
    int heldTail = -1;
    int heldTaken;
    boolean recvCancelling;
    boolean retrying;
    private boolean retainOut;
    private CloseReason lingerAfterSend;

    private final int[] replies;
    private int replyHead;
    private int replyCount;
    private int headSent;

    Session(DataplaneLoop loop, SocketChannel channel, LoopTenant tenant, ByteOrder order) {
        this.loop = loop;
        this.channel = channel;
        this.uring = loop.uringNet;
        this.tenant = tenant;
        this.order = order;
        this.req = loop.requests;
        this.pool = loop.buffers;
        this.replies = new int[loop.maxPerConnection()];
        this.openedAt = loop.now;
        this.lastActive = loop.now;
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
        if (closeAfterFlush) close(afterFlush, null);
    }

    /** Whether more requests are wanted from the peer (false once the session is winding down). */
    boolean acceptsInput() {
        return !closeAfterFlush;
    }

    /** Whether a protocol handshake is still in progress (it must finish within the request timeout). */
    boolean handshaking() {
        return false;
    }

    /** For log lines. */
    abstract String label();

    /** Socket readable: read what is there and parse every complete request. */
    final void onReadable() {
        if (closed || paused || sendBlocked) return;
        takeIn();
        int n;
        try {
            n = channel.read(in);
        } catch (IOException e) {
            close(CloseReason.IO_ERROR, "read failed: " + e.getMessage());
            return;
        }
        if (n < 0) {
            eof = true;
            close(CloseReason.PEER_CLOSED, null);
            return;
        }
        parseBuffered();
    }

    /**
     * io_uring path: {@code n} bytes arrived at {@code offset} of {@code src}. They always fit: the receive was sized
     * to the room left in the receive buffer ({@link #buffered}), and only receives add to it.
     */
    final void receive(ByteBuffer src, int offset, int n) {
        if (closed) return;
        takeIn();
        in.put(in.position(), src, offset, n);
        in.position(in.position() + n);
        parseBuffered();
    }

    /** Input bytes held for parsing (io_uring sizes a receive to the rest of {@link #IN_BUFFER}). */
    final int buffered() {
        return in == NO_BUFFER ? carried : in.position();
    }

    /** io_uring path: the peer's FIN. */
    final void peerClosed() {
        eof = true;
        close(CloseReason.PEER_CLOSED, null);
    }

    /** Parse what is already buffered (after a read, or when resuming from backpressure). */
    final void parseBuffered() {
        if (closed || sendBlocked) return;
        if (in == NO_BUFFER) {
            if (carried == 0) {
                notePartial();
                return;
            }
            takeIn();
        }
        in.flip();
        try {
            parse();
        } finally {
            if (!closed) {
                in.compact();
                settleIn();
                notePartial();
            }
        }
    }

    /** Whether input bytes wait to be parsed. */
    final boolean hasInput() {
        return carried > 0 || in.position() > 0;
    }

    /** Borrow a receive buffer (restoring carried bytes) unless one is held. */
    private void takeIn() {
        if (in != NO_BUFFER) return;
        inId = loop.socketIn.take();
        in = loop.socketIn.buffer(inId, order);
        if (carried > 0) {
            in.put(carry, 0, carried);
            carried = 0;
        }
    }

    /** After a parse: give the receive buffer back unless more than a partial header is left in it. */
    private void settleIn() {
        int left = in.position();
        if (left > CARRY) return; // whole requests wait (paused, send-blocked) or a long NBD option is arriving
        if (left > 0) in.flip().get(carry, 0, left);
        carried = left;
        loop.socketIn.give(inId);
        in = NO_BUFFER;
        inId = -1;
    }

    /** The send buffer, borrowed if none is held. */
    final ByteBuffer ensureOut() {
        if (out == NO_BUFFER) {
            outId = loop.socketOut.take();
            out = loop.socketOut.buffer(outId, order);
        }
        return out;
    }

    /** Track the request timeout's clock: it runs while a frame is partly in and the session is taking input. */
    private void notePartial() {
        if (frames != framesSeen) {
            framesSeen = frames;
            lastActive = loop.now;
            partialSince = NONE; // whatever is partial now is a new frame
        }
        boolean partial = !paused && !sendBlocked && acceptsInput() && (hasInput() || pendingRequest >= 0 || pendingSkip > 0);
        if (!partial) partialSince = NONE;
        else if (partialSince == NONE) partialSince = loop.now;
    }

    /** Request {@code id}'s header was taken: it is held (by this session and its tenant) until its reply is sent. */
    final void hold(int id) {
        held++;
        frames++;
        tenant.held++;
        req.tenantHeld[id] = true;
    }

    /** A frame other than a request ended (e.g. a handshake): restart the request timeout for what follows. */
    final void frameDone() {
        frames++;
    }

    /**
     * A pooled I/O buffer for a request of this session, counted against its bound; -1 when the pool has none free now
     * (pause: released buffers free it up), {@link BufferPool#TOO_LARGE} when none can ever be (refuse the request).
     */
    final int acquireBuffer(int bytes) {
        int b = pool.acquire(bytes);
        if (b >= 0) {
            heldBytes += pool.bytes(b);
            tenant.heldBytes += pool.bytes(b);
        }
        return b;
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
        int b = req.buffer[id];
        pool.chunkView(b).put(pool.offset(b) + pendingFilled, in, in.position(), k);
        in.position(in.position() + k);
        pendingFilled += k;
        if (pendingFilled < req.length[id]) return false;
        pendingRequest = -1;
        loop.enqueue(id);
        return true;
    }

    /** Resources freed up after {@link #pause}: read again and parse what is buffered. */
    final void resume() {
        paused = false;
        if (closed) return;
        if (uring == null && acceptsInput() && !sendBlocked) key.interestOps(key.interestOps() | SelectionKey.OP_READ);
        parseBuffered();
        if (uring != null && !closed) uring.maybeArm(this);
    }

    /** A request of this session finished (status set in the request table); queue its reply. */
    void respond(int id) {
        replies[(replyHead + replyCount) % replies.length] = id;
        replyCount++;
        markDirty();
    }

    /**
     * Whether another request may be held: per session (requests, buffer bytes) and per tenant (at most half of the
     * loop's request slots and I/O buffer memory, so one tenant's connections that stop reading cannot stall the
     * others on the loop).
     */
    final boolean full() {
        return held >= replies.length || heldBytes >= loop.maxConnectionBytes()
                || tenant.held >= loop.maxTenantRequests() || tenant.heldBytes >= loop.maxTenantBytes();
    }

    /** Encode queued replies into the send buffer and write as much as the socket takes, in as few syscalls as possible. */
    final void flush() {
        dirty = false;
        if (closed) return;
        if (uring != null) {
            flushRing();
            return;
        }
        boolean wrote = false;
        if (replyCount > 0 || out != NO_BUFFER) {
            ensureOut();
            try {
                while (true) {
                    encode();
                    if (closed) return;
                    if (out.position() == 0) break;
                    out.flip();
                    int written = channel.write(out);
                    out.compact();
                    if (written == 0) break;
                    wrote = true;
                }
            } catch (IOException e) {
                close(CloseReason.IO_ERROR, "write failed: " + e.getMessage());
                return;
            }
        }
        if (wrote) lastActive = loop.now;
        if (out.position() > 0 || replyCount > 0) {
            if (wrote || sendWaitSince == NONE) sendWaitSince = loop.now;
            key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
            // Socket full and replies still queued behind the send buffer: stop taking requests from this peer.
            if (replyCount > 0 && !sendBlocked) blockInput();
            return;
        }
        sendWaitSince = NONE;
        lastUnacked = -1;
        if (out != NO_BUFFER) {
            loop.socketOut.give(outId);
            out = NO_BUFFER;
            outId = -1;
        }
        if ((key.interestOps() & SelectionKey.OP_WRITE) != 0) key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
        drained();
        if (sendBlocked && !closed) resumeInput();
    }

    /**
     * io_uring path of {@link #flush}: encode behind whatever the kernel is sending and, unless a send is in flight,
     * send everything encoded; its completion ({@link #sent}) sends the rest. A send in flight is output waiting.
     */
    private void flushRing() {
        if (replyCount > 0 || out != NO_BUFFER) {
            ensureOut();
            encode();
            if (closed) return;
            if (sending == 0 && out.position() > 0) uring.send(this, loop.socketOut.address(outId), out.position());
        }
        if (out.position() > 0 || replyCount > 0) {
            if (sendWaitSince == NONE) sendWaitSince = loop.now;
            // Send buffer full and replies still queued behind it: stop taking requests from this peer.
            if (replyCount > 0 && !sendBlocked) blockInput();
            return;
        }
        sendWaitSince = NONE;
        lastUnacked = -1;
        if (out != NO_BUFFER) {
            loop.socketOut.give(outId);
            out = NO_BUFFER;
            outId = -1;
        }
        drained();
        if (sendBlocked && !closed) resumeInput();
    }

    /** io_uring path: the kernel took the first {@code n} bytes of the send buffer. */
    final void sent(int n) {
        sending = 0;
        out.flip().position(n);
        out.compact();
        lastActive = loop.now;
        sendWaitSince = loop.now; // progress; flush clears it once everything is out
        flush();
    }

    /** io_uring path: the send in flight at the close finished ({@code res} bytes, or -errno: none). */
    final void sendDoneAfterClose(int res) {
        int n = Math.max(res, 0);
        sending = 0;
        CloseReason reason = lingerAfterSend;
        lingerAfterSend = null;
        if (reason != null) {
            out.flip().position(n);
            boolean linger = writeLast();
            loop.socketOut.give(outId);
            out = NO_BUFFER;
            if (linger && startLinger(reason)) return;
            closeSocket(reason);
        } else if (retainOut) {
            retainOut = false;
            loop.socketOut.give(outId);
            out = NO_BUFFER;
        }
    }

    /** Write what is left in out (flipped) without waiting, before a lingering close's FIN; false if the socket broke. */
    private boolean writeLast() {
        if (!out.hasRemaining()) return true;
        try {
            channel.write(out); // replies already encoded go out before the FIN, as far as the socket takes them
            return true;
        } catch (IOException e) {
            return false; // the connection is broken: nothing would reach the peer
        }
    }

    private void blockInput() {
        sendBlocked = true;
        partialSince = NONE; // not the peer's request that is late now, its reading: the send clock runs
        if (uring == null) key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
    }

    private void resumeInput() {
        sendBlocked = false;
        if (uring == null && acceptsInput() && !paused) key.interestOps(key.interestOps() | SelectionKey.OP_READ);
        parseBuffered();
        if (uring != null && !closed) uring.maybeArm(this);
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
                int b = req.buffer[id];
                out.put(out.position(), pool.chunkView(b), pool.offset(b) + headSent - headerLength, k);
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

    /**
     * Why this session should be closed at loop time {@code now}, or null. Called by the loop's sweep; a limit of 0
     * is off.
     */
    final CloseReason expired(long now, long idleNanos, long requestNanos, SendQueue queue) {
        if (closed) return null;
        if (sendWaitSince != NONE && fd >= 0) {
            long unacked = queue.unacked(fd);
            if (unacked >= 0 && lastUnacked >= 0 && unacked < lastUnacked) sendWaitSince = now; // the peer is reading
            lastUnacked = unacked;
        }
        if (requestNanos > 0) {
            if (handshaking() && now - openedAt > requestNanos) return CloseReason.HANDSHAKE_TIMEOUT;
            if (partialSince != NONE && now - partialSince > requestNanos) return CloseReason.REQUEST_TIMEOUT;
            if (sendWaitSince != NONE && now - sendWaitSince > requestNanos) return CloseReason.SEND_TIMEOUT;
        }
        if (idleNanos > 0 && held == 0 && partialSince == NONE && sendWaitSince == NONE && now - lastActive > idleNanos) {
            return CloseReason.IDLE;
        }
        return null;
    }

    /** Close after bad input (a protocol error or a refused request): the stream cannot be trusted. */
    final void close(String why) {
        close(CloseReason.PROTOCOL_ERROR, why);
    }

    /**
     * Close now; requests still at the device are released when they complete. A session that lingers (below) has its
     * linger ended by this.
     *
     * <p>Lingering close, for a close the server chooses after telling the peer why (an error reply, a refused
     * handshake, NBD's abort and disconnect acknowledged, a legacy client's last replies before a failed request): had
     * the socket been closed while the peer's next bytes sat unread in it, the kernel would send a reset, and a reset
     * discards whatever the socket has not delivered yet — the very reply saying why. So instead the session gives back
     * every request, buffer and socket buffer at once, writes what its send buffer still holds (one non-blocking
     * write), shuts down its output (a FIN after the last reply) and keeps reading, discarding everything, until the
     * peer closes too, {@link #LINGER_MAX_BYTES} arrive, or {@link #LINGER_NANOS} pass (the loop's sweep); then it
     * closes the socket. Meanwhile it counts as an open connection of the loop (its tenant has already let it go). At
     * most {@link DataplaneLoop#MAX_LINGERING} sessions of a loop linger at once; past that a close is immediate.
     */
    final void close(CloseReason reason, String why) {
        if (lingering) {
            endLinger();
            return;
        }
        if (closed) {
            if (lingerAfterSend != null) { // closed again while its linger waits for the cancelled send: close now
                CloseReason r = lingerAfterSend;
                lingerAfterSend = null;
                retainOut = true;
                closeSocket(r);
            }
            return;
        }
        if (why != null && loop.closeLogAllowed()) loop.log(label() + ": " + why + " (" + remote() + ")");
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
        boolean registered = uring != null ? netId >= 0 : key != null && key.isValid();
        boolean linger = lingers(reason) && registered && index >= 0 && loop.mayLinger();
        if (in != NO_BUFFER) {
            loop.socketIn.give(inId);
            in = NO_BUFFER;
        }
        carried = 0;
        if (out != NO_BUFFER) {
            if (sending > 0) {
                // The kernel still reads the send buffer: it is given back when that send reports. A lingering close
                // cancels it, then writes the rest and shuts the output down (sendDoneAfterClose).
                if (linger) {
                    lingerAfterSend = reason;
                    uring.cancelSend(this);
                    return;
                }
                retainOut = true;
            } else {
                if (linger) {
                    out.flip();
                    linger = writeLast();
                }
                loop.socketOut.give(outId);
                out = NO_BUFFER;
            }
        }
        if (linger && startLinger(reason)) return;
        closeSocket(reason);
    }

    /** Close the socket now (reset after a send timeout) and tell the loop. */
    private void closeSocket(CloseReason reason) {
        if (key != null) key.cancel();
        try {
            // A peer that stopped reading would never see a FIN queued behind unsent data, and the kernel would keep
            // the data: reset instead.
            if (reason == CloseReason.SEND_TIMEOUT) channel.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException | RuntimeException ignored) {
            // closing anyway
        }
        closeChannel();
        loop.sessionClosed(this, reason);
    }

    /** Close the socket; on the io_uring path after its requests are cancelled and the ring submitted (UringNet#close). */
    private void closeChannel() {
        if (uring != null) {
            uring.close(this);
            return;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Whether a close for {@code reason} lingers: the server ends the session after a last word to its peer. */
    private boolean lingers(CloseReason reason) {
        return switch (reason) {
            case PROTOCOL_ERROR, DEVICE_ERROR, BUSY -> true;
            case PEER_CLOSED -> !eof; // asked to (NBD DISC, OPT_ABORT): the acknowledgement must arrive
            default -> false; // timeouts, I/O errors, tenant removal, shutdown; a send timeout resets on purpose
        };
    }

    /** Shut down output and keep the socket for draining; false when that fails (the caller closes it at once). */
    private boolean startLinger(CloseReason reason) {
        try {
            channel.shutdownOutput();
            if (uring == null) key.interestOps(SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            return false;
        }
        lingering = true;
        lingerReason = reason;
        lingerSince = loop.now;
        lingerDrained = 0;
        paused = false;
        sendBlocked = false;
        loop.lingerStarted(this);
        if (uring != null) uring.maybeArm(this); // its completions are read and discarded (UringNet.onRecv)
        return true;
    }

    /** Socket readable while lingering: read and discard; the peer's FIN or the byte bound ends the linger. */
    final void drainLinger(ByteBuffer sink) {
        try {
            while (lingering) {
                int n = channel.read(sink.clear());
                if (n < 0) {
                    endLinger(); // the peer closed too: nothing unread is left to cause a reset
                } else if (n == 0) {
                    return;
                } else if ((lingerDrained += n) >= LINGER_MAX_BYTES) {
                    endLinger();
                }
            }
        } catch (IOException e) {
            endLinger();
        }
    }

    /** End a linger: close the socket (counted now, under the close's reason). */
    final void endLinger() {
        if (!lingering) return;
        lingering = false;
        if (key != null) key.cancel();
        closeChannel();
        loop.lingerEnded(this, lingerReason);
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

    /**
     * Stop reading until the loop frees resources; bytes stay buffered. Off the selector too: a paused socket with
     * unread bytes would otherwise report readable on every pass and keep an idle loop spinning. Returns false for use
     * in parsers.
     */
    final boolean pause() {
        if (!paused) {
            paused = true;
            if (uring == null) key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
            loop.paused(this); // io_uring: a receive already armed still lands (it fits), none is armed after it
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

package io.reflex.dataplane.net;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.RequestCheck;
import io.reflex.protocol.Status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.security.MessageDigest;

/**
 * One client connection on one loop: parses requests straight out of its receive buffer, and encodes responses
 * (in device-completion order) into its send buffer, many per syscall. Owned by its loop's thread.
 *
 * <p>Legacy clients (no HELLO) get exactly the original's replies; anything they send that we cannot serve closes
 * the connection — never a corrupted or fake-success reply. Extended clients get a status in every reply.
 */
final class Connection extends Session {
    static final int IN_BUFFER = 64 * 1024;
    static final int OUT_BUFFER = 256 * 1024;

    private final RequestTable req;
    private final BufferPool pool;
    private final ReflexHeader header = new ReflexHeader();
    final ByteBuffer in = ByteBuffer.allocateDirect(IN_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    boolean extended;
    private boolean greeted;
    private int pendingRequest = -1;
    private int pendingFilled;
    private long pendingSkip;

    private final int[] responses;
    private int responseHead;
    private int responseCount;
    private int headSent;

    private boolean closeAfterFlush;

    Connection(DataplaneLoop loop, SocketChannel channel, LoopTenant tenant, int maxHeld) {
        super(loop, channel, tenant);
        this.req = loop.requests;
        this.pool = loop.buffers;
        this.responses = new int[maxHeld];
    }

    /** Socket readable: read what is there and parse every complete request. */
    @Override
    void onReadable() {
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
    void parseBuffered() {
        in.flip();
        try {
            parse();
        } finally {
            if (!closed) in.compact();
        }
    }

    private void parse() {
        while (!closed && !closeAfterFlush) {
            if (pendingSkip > 0) {
                int k = (int) Math.min(pendingSkip, in.remaining());
                in.position(in.position() + k);
                pendingSkip -= k;
                if (pendingSkip > 0) return;
                continue;
            }
            if (pendingRequest >= 0) {
                int id = pendingRequest;
                int k = Math.min(req.length[id] - pendingFilled, in.remaining());
                pool.view(req.buffer[id], req.length[id]).put(pendingFilled, in, in.position(), k);
                in.position(in.position() + k);
                pendingFilled += k;
                if (pendingFilled < req.length[id]) return;
                pendingRequest = -1;
                loop.enqueue(id);
                continue;
            }
            if (in.remaining() < ReflexHeader.LENGTH) return;
            if (!parseOne()) return;
        }
    }

    /** Handles the request at in.position(); false when it must wait (more bytes, or resources). */
    private boolean parseOne() {
        int p = in.position();
        header.wrap(in, p);
        int op = header.opcode();
        if (RequestCheck.frame(header) != Status.OK) {
            protocolError("malformed request: magic " + header.magic() + ", opcode " + Opcode.name(op) + ", lba_count " + header.lbaCount());
            return false;
        }
        if (op == Opcode.HELLO) return hello(p);
        if (!greeted) {
            greeted = true;
            if (tenant.token != null) {
                protocolError("tenant " + tenant.name + " requires a token: send HELLO first");
                return false;
            }
        }
        if (op == Opcode.FLUSH && !extended) {
            protocolError("FLUSH needs the extended protocol (HELLO)");
            return false;
        }
        if (held >= responses.length) return pause();
        long lba = header.lba();
        long count = header.lbaCount();
        int length = (int) (count << ReflexHeader.SECTOR_SHIFT);
        boolean inRange = op == Opcode.FLUSH || RequestCheck.range(lba, count, tenant.sectors) == Status.OK;
        if (!inRange && !extended) {
            protocolError("lba " + Long.toUnsignedString(lba) + "+" + count + " outside the tenant's " + tenant.sectors + " sectors");
            return false;
        }
        int id = req.acquire();
        if (id < 0) return pause();
        int buf = -1;
        if (inRange && op != Opcode.FLUSH) {
            buf = pool.acquire(length);
            if (buf < 0) {
                req.release(id);
                return pause();
            }
        }
        held++;
        req.connection[id] = this;
        req.opcode[id] = op;
        req.handle[id] = header.handle();
        req.lba[id] = lba;
        req.length[id] = op == Opcode.FLUSH ? 0 : length;
        req.buffer[id] = buf;
        req.tenantSlot[id] = tenant.slot;
        req.startNanos[id] = loop.now;
        req.deviceOffset[id] = (tenant.baseSector + lba) << ReflexHeader.SECTOR_SHIFT;
        in.position(p + ReflexHeader.LENGTH);
        if (!inRange) {
            req.status[id] = Status.ERANGE;
            tenant.stats.rejected();
            if (op == Opcode.SET) pendingSkip = length;
            respond(id);
            return true;
        }
        req.status[id] = Status.OK;
        if (op == Opcode.SET) {
            pendingRequest = id;
            pendingFilled = 0;
        } else {
            loop.enqueue(id);
        }
        return true;
    }

    private boolean hello(int p) {
        if (greeted) {
            protocolError("HELLO must be the first request on a connection");
            return false;
        }
        int tokenLength = (int) header.lbaCount();
        if (in.remaining() < ReflexHeader.LENGTH + tokenLength) return false;
        if (held >= responses.length) return pause();
        int id = req.acquire();
        if (id < 0) return pause();
        boolean versionOk = header.lba() == Opcode.PROTOCOL_VERSION;
        boolean tokenOk = tenant.token == null || tokenMatches(p + ReflexHeader.LENGTH, tokenLength);
        greeted = true;
        extended = true;
        held++;
        req.connection[id] = this;
        req.opcode[id] = Opcode.HELLO;
        req.handle[id] = header.handle();
        req.lba[id] = Opcode.PROTOCOL_VERSION;
        req.length[id] = 0;
        req.buffer[id] = -1;
        req.status[id] = !versionOk ? Status.EINVAL : tokenOk ? Status.OK : Status.EAUTH;
        in.position(p + ReflexHeader.LENGTH + tokenLength);
        if (req.status[id] != Status.OK) {
            tenant.stats.rejected();
            closeAfterFlush = true;
        }
        respond(id);
        return true;
    }

    private boolean tokenMatches(int offset, int length) {
        byte[] given = new byte[length]; // cold path: once per connection
        in.get(offset, given);
        return MessageDigest.isEqual(given, tenant.token);
    }

    @Override
    void resume() {
        paused = false;
        if (!closed) parseBuffered();
    }

    /** Queue a finished request's reply (device completion order). */
    @Override
    void respond(int id) {
        responses[(responseHead + responseCount) % responses.length] = id;
        responseCount++;
        markDirty();
    }

    /** Encode queued replies into the send buffer and write as much as the socket takes, in as few syscalls as possible. */
    @Override
    void flush() {
        dirty = false;
        if (closed) return;
        try {
            while (true) {
                encode();
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
        boolean pending = out.position() > 0 || responseCount > 0;
        if (pending) {
            key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
        } else {
            if ((key.interestOps() & SelectionKey.OP_WRITE) != 0) key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
            if (closeAfterFlush) close(null);
        }
    }

    private void encode() {
        while (responseCount > 0) {
            int id = responses[responseHead];
            int status = req.status[id];
            int op = req.opcode[id];
            if (status != Status.OK && !extended) {
                // The original would have replied "success"; an old client cannot see a status, so it loses the connection.
                close("device error on " + Opcode.name(op) + " at lba " + req.lba[id] + " (legacy client: closing)");
                return;
            }
            int data = op == Opcode.GET && status == Status.OK ? req.length[id] : 0;
            if (headSent == 0) {
                if (out.remaining() < ReflexHeader.LENGTH) return;
                int at = out.position();
                header.wrap(out, at).set(op, req.handle[id], req.lba[id], data >>> ReflexHeader.SECTOR_SHIFT);
                if (extended) header.status(status);
                out.position(at + ReflexHeader.LENGTH);
                headSent = ReflexHeader.LENGTH;
            }
            int total = ReflexHeader.LENGTH + data;
            if (headSent < total) {
                int k = Math.min(total - headSent, out.remaining());
                if (k == 0) return;
                out.put(out.position(), pool.view(req.buffer[id], data), headSent - ReflexHeader.LENGTH, k);
                out.position(out.position() + k);
                headSent += k;
                if (headSent < total) return;
            }
            responseHead = (responseHead + 1) % responses.length;
            responseCount--;
            headSent = 0;
            loop.release(id);
        }
    }

    /** Bad input: an extended client gets EINVAL first; either way the connection ends and nothing reaches the device. */
    private void protocolError(String why) {
        loop.log("tenant " + tenant.name + ": " + why + "; closing connection from " + remote());
        tenant.stats.rejected();
        if (extended) {
            int id = req.acquire();
            if (id >= 0) {
                held++;
                req.connection[id] = this;
                req.opcode[id] = header.opcode();
                req.handle[id] = header.handle();
                req.lba[id] = 0;
                req.length[id] = 0;
                req.buffer[id] = -1;
                req.status[id] = Status.EINVAL;
                closeAfterFlush = true;
                respond(id);
                return;
            }
        }
        close(null);
    }

    /** Close now. Requests still at the device are released when they complete. */
    @Override
    void close(String why) {
        if (closed) return;
        if (why != null) loop.log("tenant " + tenant.name + ": " + why + " (" + remote() + ")");
        closed = true;
        if (pendingRequest >= 0) {
            loop.release(pendingRequest);
            pendingRequest = -1;
        }
        while (responseCount > 0) {
            loop.release(responses[responseHead]);
            responseHead = (responseHead + 1) % responses.length;
            responseCount--;
        }
        if (key != null) key.cancel();
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        loop.sessionClosed(this);
    }
}

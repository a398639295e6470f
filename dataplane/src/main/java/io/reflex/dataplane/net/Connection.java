package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.RequestCheck;
import io.reflex.protocol.Status;

import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;

/**
 * One client connection on one loop: parses requests straight out of its receive buffer, and encodes responses
 * (in device-completion order) into its send buffer, many per syscall. Owned by its loop's thread.
 *
 * <p>Legacy clients (no HELLO) get exactly the original's replies; anything they send that we cannot serve closes
 * the connection — never a corrupted or fake-success reply. Extended clients get a status in every reply.
 */
final class Connection extends Session {
    private final ReflexHeader header = new ReflexHeader();
    boolean extended;
    private boolean greeted;

    Connection(DataplaneLoop loop, SocketChannel channel, LoopTenant tenant) {
        super(loop, channel, tenant, ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    void parse() {
        while (!closed && !closeAfterFlush) {
            if (pendingSkip > 0) {
                if (!skipPayload()) return;
                continue;
            }
            if (pendingRequest >= 0) {
                if (!fillPayload()) return;
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
            if (tenant.needsToken()) {
                protocolError("tenant " + tenant.name + " requires a token: send HELLO first");
                return false;
            }
        }
        if (op == Opcode.FLUSH && !extended) {
            protocolError("FLUSH needs the extended protocol (HELLO)");
            return false;
        }
        if (full()) return pause();
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
            buf = acquireBuffer(length);
            if (buf < 0) {
                req.release(id);
                if (buf != BufferPool.TOO_LARGE) return pause(); // buffers in use are released: ask again then
                protocolError("request of " + length + " bytes is larger than the largest I/O buffer (" + BufferPool.CHUNK + " bytes)");
                return false;
            }
        }
        hold(id);
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
        if (full()) return pause();
        int id = req.acquire();
        if (id < 0) return pause();
        boolean versionOk = header.lba() == Opcode.PROTOCOL_VERSION;
        boolean tokenOk = !tenant.needsToken() || tokenMatches(p + ReflexHeader.LENGTH, tokenLength);
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
            // Logged like every other refusal: a client that pipelined requests behind its HELLO may never read the
            // reply (closing on unread input resets the connection), so the log is where the reason survives.
            loop.log("tenant " + tenant.name + ": HELLO refused (" + (versionOk ? "missing or wrong token" : "protocol version "
                    + header.lba() + ", want " + Opcode.PROTOCOL_VERSION) + "); closing connection from " + remote());
            tenant.stats.rejected();
            closeAfterFlush = true;
        }
        respond(id);
        return true;
    }

    private boolean tokenMatches(int offset, int length) {
        byte[] given = new byte[length]; // cold path: once per connection
        in.get(offset, given);
        return tenant.tokenMatches(given);
    }

    @Override
    boolean canReply(int id) {
        if (req.status[id] != Status.OK && !extended) {
            // The original would have replied "success"; an old client cannot see a status, so it loses the connection.
            boolean busy = req.status[id] == Status.EBUSY;
            close(busy ? CloseReason.BUSY : CloseReason.DEVICE_ERROR, (busy ? "tenant queue full" : "device error") + " on "
                    + Opcode.name(req.opcode[id]) + " at lba " + req.lba[id] + " (legacy client: closing)");
            return false;
        }
        return true;
    }

    @Override
    int replyHeaderLength(int id) {
        return ReflexHeader.LENGTH;
    }

    @Override
    void putReplyHeader(int id) {
        int at = out.position();
        header.wrap(out, at).set(req.opcode[id], req.handle[id], req.lba[id], replyDataLength(id) >>> ReflexHeader.SECTOR_SHIFT);
        if (extended) header.status(req.status[id]);
        out.position(at + ReflexHeader.LENGTH);
    }

    @Override
    String label() {
        return "tenant " + tenant.name;
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
}

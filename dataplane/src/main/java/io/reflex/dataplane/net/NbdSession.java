package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.nbd.ExportName;
import io.reflex.dataplane.nbd.Nbd;
import io.reflex.dataplane.nbd.NbdRequest;
import io.reflex.dataplane.nbd.NbdRequestCheck;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;

import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * An NBD client connection (fixed-newstyle handshake, simple replies) on one loop. The handshake names the export,
 * i.e. the tenant ({@link ExportName}); from then on NBD commands become ReFlex requests in the loop's request
 * table (READ → GET, WRITE → SET, FLUSH → FLUSH) and take the same path as native requests: scheduler, device
 * queue, completion, reply. The NBD handle lives in {@link RequestTable#handle}. Owned by its loop's thread.
 *
 * <p>TRIM is a no-op that succeeds after the bounds check (the spec lets reads after a trim return anything, and ours
 * return the old data). WRITE_ZEROES writes zeros in ≤ 1 MiB chunks from one zero-filled buffer. FUA writes are
 * durable when answered: with sync writes on (RWF_DSYNC) that is already so; otherwise the write is followed by a
 * FLUSH before the reply.
 */
final class NbdSession extends Session {
    /** Option payloads above this are discarded and refused (names ≤ 4096 bytes + info requests fit easily). */
    static final int MAX_OPTION = 16 * 1024;
    /** Room kept in the send buffer before handling an option (a LIST of 64 names fits). */
    private static final int OPTION_REPLY_ROOM = 64 * 1024;

    private static final int GREETING = 0, CLIENT_FLAGS = 1, OPTIONS = 2, TRANSMISSION = 3;

    private final boolean syncWrites;
    private final NbdRequest header = new NbdRequest();
    private int phase = GREETING;
    private boolean noZeroes;

    /** Option refused for its size: reply once its payload has been skipped. */
    private int pendingTooBig = -1;

    /** Requests (by id) that still need a FLUSH after their write before they may be answered (FUA without sync writes). */
    private final long[] fua;
    /** Requests (by id) that are WRITE_ZEROES chains; {@link #zeroEnd} holds the chain's end device offset. */
    private final long[] zeroChain;
    private long[] zeroEnd;

    private boolean disconnecting;

    NbdSession(DataplaneLoop loop, SocketChannel channel, boolean syncWrites) {
        super(loop, channel, null, ByteOrder.BIG_ENDIAN);
        this.syncWrites = syncWrites;
        int words = (req.capacity() + 63) >>> 6;
        this.fua = new long[words];
        this.zeroChain = new long[words];
        // Greeting: NBDMAGIC, IHAVEOPT, handshake flags.
        ensureOut().putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT).putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
        phase = CLIENT_FLAGS;
        markDirty();
    }

    @Override
    void parse() {
        while (!closed && !closeAfterFlush && !disconnecting) {
            if (pendingSkip > 0) {
                if (!skipPayload()) return;
                if (pendingTooBig >= 0) {
                    optionError(pendingTooBig, Nbd.REP_ERR_TOO_BIG, "option data larger than " + MAX_OPTION + " bytes");
                    pendingTooBig = -1;
                }
                continue;
            }
            if (pendingRequest >= 0) {
                if (!fillPayload()) return;
                continue;
            }
            boolean more = switch (phase) {
                case CLIENT_FLAGS -> clientFlags();
                case OPTIONS -> option();
                default -> command();
            };
            if (!more) return;
        }
    }

    // ---- handshake (cold path: may allocate) ------------------------------------------------------------------

    private boolean clientFlags() {
        if (in.remaining() < 4) return false;
        int flags = in.getInt();
        if ((flags & ~(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES)) != 0) {
            close("NBD client sent unknown handshake flags 0x" + Integer.toHexString(flags));
            return false;
        }
        noZeroes = (flags & Nbd.CLIENT_FLAG_NO_ZEROES) != 0;
        phase = OPTIONS;
        return true;
    }

    private boolean option() {
        if (in.remaining() < Nbd.OPTION_HEADER_LENGTH) return false;
        if (ensureOut().remaining() < OPTION_REPLY_ROOM) return false; // the client is not reading its replies; wait for flush
        int p = in.position();
        long magic = in.getLong(p);
        int opt = in.getInt(p + 8);
        long length = in.getInt(p + 12) & 0xFFFF_FFFFL;
        if (magic != Nbd.IHAVEOPT) {
            close("NBD option with bad magic 0x" + Long.toHexString(magic));
            return false;
        }
        if (length > MAX_OPTION) {
            if (opt == Nbd.OPT_EXPORT_NAME) {
                close("NBD_OPT_EXPORT_NAME with a " + length + "-byte name");
                return false;
            }
            in.position(p + Nbd.OPTION_HEADER_LENGTH);
            pendingSkip = length;
            pendingTooBig = opt;
            return true;
        }
        if (in.remaining() < Nbd.OPTION_HEADER_LENGTH + length) return false;
        int data = p + Nbd.OPTION_HEADER_LENGTH;
        int len = (int) length;
        in.position(data + len);
        switch (opt) {
            case Nbd.OPT_EXPORT_NAME -> exportName(data, len);
            case Nbd.OPT_GO, Nbd.OPT_INFO -> info(opt, data, len);
            case Nbd.OPT_LIST -> list(len);
            case Nbd.OPT_ABORT -> {
                optionReply(opt, Nbd.REP_ACK, 0);
                closeAfterFlush = true;
                afterFlush = CloseReason.PEER_CLOSED;
            }
            case Nbd.OPT_STARTTLS -> optionError(opt, Nbd.REP_ERR_UNSUP, "TLS is not supported; pass the tenant's token in the export name");
            case Nbd.OPT_STRUCTURED_REPLY -> optionError(opt, Nbd.REP_ERR_UNSUP, "structured replies are not supported");
            default -> optionError(opt, Nbd.REP_ERR_UNSUP, "option " + opt + " is not supported");
        }
        markDirty();
        return true;
    }

    private void exportName(int data, int len) {
        Object r = resolve(string(data, len));
        if (r instanceof String why) {
            close("NBD_OPT_EXPORT_NAME refused: " + why);
            return;
        }
        LoopTenant t = (LoopTenant) r;
        out.putLong(t.sectors << ReflexHeader.SECTOR_SHIFT).putShort((short) Nbd.TRANSMISSION_FLAGS);
        if (!noZeroes) out.put(new byte[124]);
        enterTransmission(t);
    }

    private void info(int opt, int data, int len) {
        if (len < 6) {
            optionError(opt, Nbd.REP_ERR_INVALID, "option data too short");
            return;
        }
        long nameLength = in.getInt(data) & 0xFFFF_FFFFL;
        if (nameLength > len - 6) {
            optionError(opt, Nbd.REP_ERR_INVALID, "export name length " + nameLength + " exceeds the option data");
            return;
        }
        int n = (int) nameLength;
        int requests = in.getShort(data + 4 + n) & 0xFFFF;
        if (len != 4 + n + 2 + 2 * requests) {
            optionError(opt, Nbd.REP_ERR_INVALID, "option length does not match its information requests");
            return;
        }
        Object r = resolve(string(data + 4, n));
        if (r instanceof String why) {
            optionError(opt, why.startsWith("unknown") ? Nbd.REP_ERR_UNKNOWN : Nbd.REP_ERR_POLICY, why);
            return;
        }
        LoopTenant t = (LoopTenant) r;
        optionReply(opt, Nbd.REP_INFO, 12);
        out.putShort((short) Nbd.INFO_EXPORT).putLong(t.sectors << ReflexHeader.SECTOR_SHIFT).putShort((short) Nbd.TRANSMISSION_FLAGS);
        // Always sent (the spec allows it unrequested): clients that honour it never send what we would refuse.
        optionReply(opt, Nbd.REP_INFO, 14);
        out.putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(Nbd.MIN_BLOCK).putInt(Nbd.PREFERRED_BLOCK).putInt(Nbd.MAX_BLOCK);
        optionReply(opt, Nbd.REP_ACK, 0);
        if (opt == Nbd.OPT_GO) enterTransmission(t);
    }

    /** Only tenants without a token are listed; token-protected tenants stay unnamed to strangers. */
    private void list(int len) {
        if (len != 0) {
            optionError(Nbd.OPT_LIST, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
            return;
        }
        for (int s = 0; s < loop.tenantSlots(); s++) {
            LoopTenant t = loop.tenantAt(s);
            if (t == null || t.removed || t.needsToken()) continue;
            byte[] name = t.name.getBytes(StandardCharsets.UTF_8);
            optionReply(Nbd.OPT_LIST, Nbd.REP_SERVER, 4 + name.length);
            out.putInt(name.length).put(name);
        }
        optionReply(Nbd.OPT_LIST, Nbd.REP_ACK, 0);
    }

    /** The tenant an export name grants, or a reason ("unknown …" for names we do not serve). */
    private Object resolve(String exportName) {
        ExportName e = ExportName.parse(exportName);
        LoopTenant t = loop.tenantByName(e.tenant());
        if (t == null) return "unknown export '" + e.tenant() + "'";
        if (!t.needsToken()) return t; // a token given for a tokenless tenant is ignored
        if (e.token() == null) {
            t.stats.rejected();
            return "export '" + e.tenant() + "' requires a token: use the export name " + e.tenant() + ":TOKEN";
        }
        if (!t.tokenMatches(e.token().getBytes(StandardCharsets.UTF_8))) {
            t.stats.rejected();
            return "wrong token for export '" + e.tenant() + "'";
        }
        return t;
    }

    private void enterTransmission(LoopTenant t) {
        phase = TRANSMISSION;
        frameDone(); // the request timeout restarts for the first command
        bind(t);
    }

    private String string(int at, int len) {
        byte[] b = new byte[len];
        in.get(at, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private void optionReply(int opt, int type, int length) {
        ensureOut().putLong(Nbd.REPLY_MAGIC).putInt(opt).putInt(type).putInt(length);
    }

    private void optionError(int opt, int type, String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        optionReply(opt, type, m.length);
        out.put(m);
        markDirty();
    }

    // ---- transmission (hot path: no allocation) ---------------------------------------------------------------

    private boolean command() {
        if (in.remaining() < Nbd.REQUEST_LENGTH) return false;
        int p = in.position();
        header.wrap(in, p);
        int type = header.type();
        int flags = header.flags();
        long offset = header.offset();
        long length = header.length();
        long exportBytes = tenant.sectors << ReflexHeader.SECTOR_SHIFT;
        int verdict = NbdRequestCheck.check(header.magic(), flags, type, offset, length, exportBytes);
        if (verdict == NbdRequestCheck.CLOSE) {
            tenant.stats.rejected();
            close("NBD protocol violation: magic 0x" + Integer.toHexString(header.magic()) + ", " + Nbd.commandName(type) + " of " + length + " bytes");
            return false;
        }
        if (type == Nbd.CMD_DISC && verdict == NbdRequestCheck.OK) {
            in.position(p + Nbd.REQUEST_LENGTH);
            disconnecting = true; // answer what is in flight, then close
            if (uring == null) key.interestOps(key.interestOps() & ~SelectionKey.OP_READ); // io_uring: no receive re-armed
            markDirty();
            return false;
        }
        if (full()) return pause();
        int id = req.acquire();
        if (id < 0) return pause();
        boolean device = verdict == NbdRequestCheck.OK && length > 0 && type != Nbd.CMD_TRIM && type != Nbd.CMD_DISC
                || verdict == NbdRequestCheck.OK && type == Nbd.CMD_FLUSH;
        int len = (int) Math.min(length, Nbd.MAX_BLOCK);
        int buf = -1;
        if (device && type != Nbd.CMD_FLUSH) {
            buf = acquireBuffer(len);
            if (buf == BufferPool.TOO_LARGE) { // no wait could ever give it a buffer: refuse it
                buf = -1;
                device = false;
                verdict = Nbd.EINVAL;
            } else if (buf < 0) {
                req.release(id);
                return pause(); // buffers in use are released: ask again then
            }
        }
        hold(id);
        req.connection[id] = this;
        req.handle[id] = header.handle();
        req.lba[id] = offset >>> ReflexHeader.SECTOR_SHIFT;
        req.buffer[id] = buf;
        req.tenantSlot[id] = tenant.slot;
        req.startNanos[id] = loop.now;
        req.deviceOffset[id] = (tenant.baseSector << ReflexHeader.SECTOR_SHIFT) + offset;
        clear(fua, id);
        clear(zeroChain, id);
        in.position(p + Nbd.REQUEST_LENGTH);
        if (!device) {
            // Refused, zero-length or TRIM: answered at once, nothing reaches the device.
            req.opcode[id] = type == Nbd.CMD_READ ? Opcode.GET : Opcode.SET;
            req.length[id] = 0;
            req.status[id] = verdict == NbdRequestCheck.OK ? Status.OK : -verdict;
            if (verdict != NbdRequestCheck.OK) tenant.stats.rejected();
            pendingSkip = NbdRequestCheck.payload(type, length);
            respond(id);
            return true;
        }
        req.status[id] = Status.OK;
        boolean needsFlush = (flags & Nbd.CMD_FLAG_FUA) != 0 && !syncWrites && type != Nbd.CMD_READ;
        switch (type) {
            case Nbd.CMD_READ -> {
                req.opcode[id] = Opcode.GET;
                req.length[id] = len;
                loop.enqueue(id);
            }
            case Nbd.CMD_WRITE -> {
                req.opcode[id] = Opcode.SET;
                req.length[id] = len;
                if (needsFlush) set(fua, id);
                pendingRequest = id;
                pendingFilled = 0;
            }
            case Nbd.CMD_WRITE_ZEROES -> {
                req.opcode[id] = Opcode.SET;
                req.length[id] = len;
                pool.segment(buf).fill((byte) 0); // the whole pooled buffer (≤ 2× len): a slice would allocate a view
                if (needsFlush) set(fua, id);
                if (length > len) {
                    set(zeroChain, id);
                    zeroEnd()[id] = req.deviceOffset[id] + length;
                }
                loop.enqueue(id);
            }
            default -> { // FLUSH
                req.opcode[id] = Opcode.FLUSH;
                req.length[id] = 0;
                loop.enqueue(id);
            }
        }
        return true;
    }

    private long[] zeroEnd() {
        if (zeroEnd == null) zeroEnd = new long[req.capacity()]; // once per session that uses large WRITE_ZEROES
        return zeroEnd;
    }

    private static boolean test(long[] bits, int id) { return (bits[id >>> 6] & (1L << id)) != 0; }

    private static void set(long[] bits, int id) { bits[id >>> 6] |= 1L << id; }

    private static void clear(long[] bits, int id) { bits[id >>> 6] &= ~(1L << id); }

    /** A request finished a device step: continue its chain (next zero chunk, FUA flush) or queue its reply. */
    @Override
    void respond(int id) {
        if (req.status[id] == Status.OK && req.opcode[id] == Opcode.SET && req.length[id] > 0 && !closed) {
            if (test(zeroChain, id)) {
                long next = req.deviceOffset[id] + req.length[id];
                long end = zeroEnd[id];
                if (next < end) {
                    req.deviceOffset[id] = next;
                    req.length[id] = (int) Math.min(end - next, req.length[id]);
                    loop.enqueue(id);
                    return;
                }
                clear(zeroChain, id);
            }
            if (test(fua, id)) {
                clear(fua, id);
                req.opcode[id] = Opcode.FLUSH;
                loop.enqueue(id);
                return;
            }
        }
        super.respond(id);
    }

    @Override
    void drained() {
        if (closeAfterFlush || disconnecting && held == 0) {
            close(closeAfterFlush ? afterFlush : CloseReason.PEER_CLOSED, null);
            return;
        }
        // Options were held back while the send buffer was full: handle them now.
        if (phase == OPTIONS && hasInput() && !paused) parseBuffered();
    }

    @Override
    boolean acceptsInput() {
        return !closeAfterFlush && !disconnecting;
    }

    @Override
    boolean handshaking() {
        return phase != TRANSMISSION;
    }

    @Override
    int replyHeaderLength(int id) {
        return Nbd.SIMPLE_REPLY_LENGTH;
    }

    @Override
    void putReplyHeader(int id) {
        out.putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(errno(req.status[id])).putLong(req.handle[id]);
    }

    @Override
    String label() {
        return "nbd" + (tenant == null ? "" : " tenant " + tenant.name);
    }

    /** ReFlex status (≥ 0, set by the loop) or a negated NBD errno (set by this session) → NBD errno. */
    static int errno(int status) {
        if (status < 0) return -status;
        return switch (status) {
            case Status.OK -> 0;
            case Status.EIO -> Nbd.EIO;
            case Status.EBUSY -> Nbd.ENOMEM; // the tenant's scheduler queue is full: a transient resource shortage
            case Status.ERANGE -> Nbd.EINVAL;
            default -> Nbd.EINVAL;
        };
    }
}

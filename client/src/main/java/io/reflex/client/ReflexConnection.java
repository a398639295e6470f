package io.reflex.client;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.RequestCheck;
import io.reflex.protocol.Status;
import io.reflex.protocol.WireBuffers;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * One non-blocking, pipelined ReFlex connection, driven by a single thread.
 *
 * <p>Usage: {@code submitRead/submitWrite/submitFlush} append requests to an outgoing batch (nothing is sent yet),
 * {@link #flushSends()} hands the whole batch to the kernel in as few write calls as it takes, and
 * {@link #poll(CompletionListener)} reads replies — which arrive in any order — matches each to its request by
 * handle and calls the listener. A submit returns {@code false} when all {@link ClientOptions#maxInFlight()} slots
 * are in flight or the send buffer is full even after a flush attempt: poll, then retry.
 *
 * <p>The steady-state path allocates nothing and takes no locks: request state lives in preallocated per-slot
 * arrays, the wire handle is {@code generation << 32 | slot} (see {@link SlotTable}), and both directions use one
 * direct buffer each. Not thread-safe: exactly one thread may call the methods (hand over with a happens-before
 * edge, e.g. Thread.start/join). Requests are validated before they are queued; an invalid one throws
 * {@link IllegalArgumentException} and nothing is sent.
 *
 * <p>When the connection closes (peer close, I/O error, protocol violation, or {@link #close()}), the next poll
 * reports every outstanding request with {@link #STATUS_CLOSED}; {@link #closeCause()} says why. In legacy mode this
 * is also how the original server reports a bad request.
 */
public final class ReflexConnection implements BlockTransport {
    /** Listener status for requests failed because the connection closed (not a wire value). */
    public static final int STATUS_CLOSED = -1;

    private static final long HELLO_HANDLE = 0; // SlotTable never issues handle 0
    private static final int MIN_READ_SPACE = 64 << 10;
    /**
     * A read always lands at the buffer's start when no more than this is left over (a partial frame): the bytes
     * the kernel copies then go to the same cache-hot lines every time instead of walking a cold 1 MiB buffer.
     */
    private static final int COMPACT_BELOW = 16 << 10;

    private final SocketChannel channel;
    private final String peer;
    private final boolean extended;

    private final SlotTable slots;
    private final int[] slotOpcode;
    private final int[] slotSectors;
    private final long[] slotTag;
    private final ByteBuffer[] slotDst;

    /** Outgoing batch: bytes [sendHead, sendTail) are queued but not yet written. */
    private final ByteBuffer sendBuf;
    private int sendHead;
    private int sendTail;
    /** Incoming bytes: [recvHead, recvTail) are received but not yet parsed. */
    private final ByteBuffer recvBuf;
    private int recvHead;
    private int recvTail;
    /** Bytes of the frame at recvHead that the last parse was waiting for. */
    private int pendingFrameBytes = ReflexHeader.LENGTH;
    /** The listener's window onto recvBuf, reused for every completion. */
    private final ByteBuffer view;
    private final ReflexHeader sendHeader = new ReflexHeader();
    private final ReflexHeader recvHeader = new ReflexHeader();

    private boolean closed;
    private IOException closeCause;

    private ReflexConnection(SocketChannel channel, String peer, ClientOptions options) {
        this.channel = channel;
        this.peer = peer;
        this.extended = options.extended();
        int n = options.maxInFlight();
        this.slots = new SlotTable(n);
        this.slotOpcode = new int[n];
        this.slotSectors = new int[n];
        this.slotTag = new long[n];
        this.slotDst = new ByteBuffer[n];
        this.sendBuf = WireBuffers.pageAligned(options.sendBufferBytes(), ByteOrder.LITTLE_ENDIAN);
        this.recvBuf = WireBuffers.pageAligned(options.receiveBufferBytes(), ByteOrder.LITTLE_ENDIAN);
        this.view = recvBuf.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Connects (blocking, with {@link ClientOptions#connectTimeout()}) and, in extended mode, completes HELLO. */
    public static ReflexConnection open(String host, int port, ClientOptions options) throws IOException {
        return open(new InetSocketAddress(host, port), options);
    }

    /**
     * Connects and, in extended mode, sends HELLO and waits for its reply.
     *
     * @throws ConnectException if the server cannot be reached
     * @throws ReflexException  if the server refuses HELLO (e.g. EAUTH) or closes the connection during it
     */
    public static ReflexConnection open(InetSocketAddress address, ClientOptions options) throws IOException {
        String peer = address.getHostString() + ":" + address.getPort();
        if (address.isUnresolved()) throw new ConnectException("cannot connect to " + peer + ": unknown host");
        SocketChannel ch = SocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            try {
                ch.socket().connect(address, (int) Math.max(1, options.connectTimeout().toMillis()));
            } catch (IOException e) {
                throw (ConnectException) new ConnectException("cannot connect to " + peer + ": " + e.getMessage()).initCause(e);
            }
            ch.configureBlocking(false);
            ReflexConnection c = new ReflexConnection(ch, peer, options);
            if (c.extended) c.hello(options.tokenBytes(), options.connectTimeout().toNanos());
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Sends HELLO and waits for its reply; cold path, so it may allocate (a temporary selector). */
    private void hello(byte[] token, long timeoutNanos) throws IOException {
        sendHeader.wrap(sendBuf, 0).set(Opcode.HELLO, HELLO_HANDLE, Opcode.PROTOCOL_VERSION, token.length);
        if (RequestCheck.frame(sendHeader) != Status.OK) throw new IllegalArgumentException("token too long for HELLO");
        sendBuf.put(ReflexHeader.LENGTH, token);
        sendTail = ReflexHeader.LENGTH + token.length;
        long deadline = System.nanoTime() + timeoutNanos;
        try (Selector selector = Selector.open()) {
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
            while (recvTail - recvHead < ReflexHeader.LENGTH) {
                flushSends();
                readOnce();
                if (closed) {
                    throw new ReflexException(STATUS_CLOSED, "server " + peer + " closed the connection during HELLO"
                            + " (does it speak the extended protocol?)", closeCause);
                }
                if (recvTail - recvHead >= ReflexHeader.LENGTH) break;
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new SocketTimeoutException("no HELLO reply from " + peer + " within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                key.interestOps(SelectionKey.OP_READ | (hasPendingSends() ? SelectionKey.OP_WRITE : 0));
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
            key.cancel();
            selector.selectNow(); // flush the cancelled key so the channel can be registered elsewhere
        }
        recvHeader.wrap(recvBuf, recvHead);
        if (recvHeader.magic() != ReflexHeader.MAGIC || recvHeader.opcode() != Opcode.HELLO || recvHeader.handle() != HELLO_HANDLE) {
            throw new IOException("bad HELLO reply from " + peer + ": magic=" + recvHeader.magic() + " opcode="
                    + recvHeader.opcode() + " handle=0x" + Long.toHexString(recvHeader.handle()));
        }
        int status = recvHeader.status();
        recvHead += ReflexHeader.LENGTH; // a HELLO reply carries no payload, whatever its lba_count says
        if (status != Status.OK) throw ReflexException.forStatus(status, "HELLO to " + peer);
    }

    // ---------------------------------------------------------------- submit

    /**
     * Queues a read of {@code sectors} 512-byte sectors at {@code lba}.
     *
     * @param dst optional: if non-null the payload is also copied into it at its position (position unchanged)
     *            before the listener runs; needs {@code sectors * 512} bytes remaining
     * @return false if no slot or send-buffer space is free (poll and retry)
     */
    public boolean submitRead(long lba, int sectors, ByteBuffer dst, long userTag) {
        checkRead(lba, sectors);
        if (dst != null && dst.remaining() < sectors << ReflexHeader.SECTOR_SHIFT) {
            throw new IllegalArgumentException("read destination has " + dst.remaining() + " bytes remaining, needs " + (sectors << ReflexHeader.SECTOR_SHIFT));
        }
        return submit(Opcode.GET, lba, sectors, null, dst, userTag);
    }

    /**
     * Queues a write of {@code src}'s remaining bytes (a multiple of 512, at most 1 MiB) at {@code lba}. The bytes
     * are copied into the send buffer before this returns; {@code src}'s position is not changed.
     *
     * @return false if no slot or send-buffer space is free (poll and retry)
     */
    public boolean submitWrite(long lba, ByteBuffer src, long userTag) {
        int bytes = src.remaining();
        checkWrite(lba, bytes);
        return submit(Opcode.SET, lba, bytes >>> ReflexHeader.SECTOR_SHIFT, src, null, userTag);
    }

    /**
     * Queues a FLUSH (extended protocol only): the server acknowledges it once earlier acknowledged writes are durable.
     *
     * @throws IllegalStateException in legacy mode, where the original server would close the connection
     */
    public boolean submitFlush(long userTag) {
        if (!extended) throw new IllegalStateException("FLUSH needs the extended protocol (ClientOptions.withExtended/withToken)");
        return submit(Opcode.FLUSH, 0, 0, null, null, userTag);
    }

    /** Client-side validation of a read, before anything is queued. */
    static void checkRead(long lba, int sectors) {
        if (lba < 0) throw new IllegalArgumentException("lba " + lba + " is negative");
        if (sectors < 1 || sectors > ReflexHeader.MAX_SECTORS) {
            throw new IllegalArgumentException("read of " + sectors + " sectors: must be 1.." + ReflexHeader.MAX_SECTORS
                    + " (512-byte sectors, at most 1 MiB)");
        }
    }

    /** Client-side validation of a write of {@code bytes} bytes, before anything is queued. */
    static void checkWrite(long lba, int bytes) {
        if (lba < 0) throw new IllegalArgumentException("lba " + lba + " is negative");
        if (bytes == 0 || bytes > ReflexHeader.MAX_BYTES || (bytes & (ReflexHeader.SECTOR_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("write of " + bytes + " bytes: must be a non-zero multiple of 512, at most 1 MiB");
        }
    }

    private boolean submit(int opcode, long lba, int sectors, ByteBuffer src, ByteBuffer dst, long userTag) {
        if (closed) throw new IllegalStateException("connection to " + peer + " is closed: " + closeCause.getMessage());
        if (slots.isFull()) return false;
        int frame = ReflexHeader.LENGTH + (src == null ? 0 : src.remaining());
        if (!reserveSend(frame)) return false;
        sendHeader.wrap(sendBuf, sendTail).set(opcode, HELLO_HANDLE, lba, sectors);
        if (RequestCheck.frame(sendHeader) != Status.OK) { // belt and braces: the same check the server runs
            throw new IllegalArgumentException(Opcode.name(opcode) + " lba=" + lba + " sectors=" + sectors + " fails the protocol's frame check");
        }
        long handle = slots.acquire();
        int slot = (int) handle; // low 32 bits
        sendHeader.handle(handle);
        if (src != null) sendBuf.put(sendTail + ReflexHeader.LENGTH, src, src.position(), src.remaining());
        sendTail += frame;
        slotOpcode[slot] = opcode;
        slotSectors[slot] = sectors;
        slotTag[slot] = userTag;
        slotDst[slot] = dst;
        return true;
    }

    /** Makes room for {@code frame} bytes at sendTail: write out what we can, then compact. */
    private boolean reserveSend(int frame) {
        int cap = sendBuf.capacity();
        if (cap - sendTail >= frame) return true;
        flushSends();
        if (closed) return false;
        if (cap - sendTail < frame && sendHead > 0) {
            sendBuf.limit(sendTail).position(sendHead);
            sendBuf.compact();
            sendBuf.clear();
            sendTail -= sendHead;
            sendHead = 0;
        }
        return cap - sendTail >= frame;
    }

    // ---------------------------------------------------------------- I/O

    /**
     * Writes as much of the queued batch as the socket takes without blocking.
     *
     * @return true if nothing is left queued
     */
    public boolean flushSends() {
        if (closed || sendHead == sendTail) return sendHead == sendTail;
        try {
            sendBuf.limit(sendTail).position(sendHead);
            while (sendBuf.hasRemaining() && channel.write(sendBuf) > 0) {
                // keep going: the kernel took everything so far
            }
            sendHead = sendBuf.position();
        } catch (IOException e) {
            markClosed(new IOException("write to " + peer + " failed: " + e.getMessage(), e));
        } finally {
            sendBuf.clear(); // absolute puts check the limit
        }
        if (sendHead == sendTail) sendHead = sendTail = 0;
        return sendHead == sendTail;
    }

    /**
     * Continues pending sends, reads what has arrived and reports every complete reply to {@code listener}
     * (which must not call poll itself). After the connection has closed it reports each outstanding request once
     * with {@link #STATUS_CLOSED}.
     *
     * @return the number of completions reported
     */
    public int poll(CompletionListener listener) {
        int n = 0;
        if (!closed) {
            if (sendHead != sendTail) flushSends();
            if (!closed) readOnce();
            n = dispatch(listener);
        }
        if (closed) n += failOutstanding(listener);
        return n;
    }

    private void readOnce() {
        int cap = recvBuf.capacity();
        int buffered = recvTail - recvHead;
        if (recvHead > 0 && (buffered <= COMPACT_BELOW || cap - recvTail < MIN_READ_SPACE || cap - recvHead < pendingFrameBytes)) {
            recvBuf.limit(recvTail).position(recvHead);
            recvBuf.compact();
            recvHead = 0;
            recvTail = buffered;
        }
        try {
            recvBuf.limit(cap).position(recvTail);
            int n = channel.read(recvBuf);
            if (n < 0) {
                markClosed(new EOFException("connection closed by server " + peer + (extended ? ""
                        : " (the legacy protocol reports a rejected request this way)")));
            } else {
                recvTail += n;
            }
        } catch (IOException e) {
            markClosed(new IOException("read from " + peer + " failed: " + e.getMessage(), e));
        } finally {
            recvBuf.clear();
        }
    }

    private int dispatch(CompletionListener listener) {
        int count = 0;
        while (recvTail - recvHead >= ReflexHeader.LENGTH) {
            ReflexHeader h = recvHeader.wrap(recvBuf, recvHead);
            if (h.magic() != ReflexHeader.MAGIC) {
                protocolError("reply with magic " + h.magic() + " (expected 24)");
                break;
            }
            long handle = h.handle();
            int slot = slots.slotOf(handle);
            if (slot < 0) {
                protocolError("reply with unknown or stale handle 0x" + Long.toHexString(handle));
                break;
            }
            int opcode = h.opcode();
            if (opcode != slotOpcode[slot]) {
                protocolError("reply opcode " + Opcode.name(opcode) + " for a " + Opcode.name(slotOpcode[slot]) + " request");
                break;
            }
            int status = extended ? h.status() : Status.OK;
            int payload = 0;
            if (opcode == Opcode.GET && status == Status.OK) {
                long count512 = h.lbaCount();
                if (count512 != slotSectors[slot]) {
                    protocolError("read reply carries " + count512 + " sectors, " + slotSectors[slot] + " were requested");
                    break;
                }
                payload = (int) count512 << ReflexHeader.SECTOR_SHIFT;
            }
            int dataStart = recvHead + ReflexHeader.LENGTH;
            int frameEnd = dataStart + payload;
            if (frameEnd > recvTail) {
                pendingFrameBytes = ReflexHeader.LENGTH + payload;
                break;
            }
            long tag = slotTag[slot];
            ByteBuffer dst = slotDst[slot];
            slotDst[slot] = null;
            slots.release(slot); // before the callback, so the listener can reuse the slot at once
            recvHead = frameEnd;
            pendingFrameBytes = ReflexHeader.LENGTH;
            if (payload > 0 && dst != null) dst.put(dst.position(), recvBuf, dataStart, payload);
            view.position(0);
            view.limit(frameEnd);
            view.position(dataStart);
            listener.onComplete(tag, status, view);
            count++;
        }
        if (recvHead == recvTail) recvHead = recvTail = 0;
        return count;
    }

    private void protocolError(String what) {
        markClosed(new IOException("protocol violation by " + peer + ": " + what));
    }

    private int failOutstanding(CompletionListener listener) {
        if (slots.inFlight() == 0) return 0;
        view.position(0);
        view.limit(0);
        int n = 0;
        for (int s = 0; s < slots.capacity(); s++) {
            if (!slots.isInUse(s)) continue;
            long tag = slotTag[s];
            slotDst[s] = null;
            slots.release(s);
            listener.onComplete(tag, STATUS_CLOSED, view);
            n++;
        }
        return n;
    }

    private void markClosed(IOException cause) {
        if (closed) return;
        closed = true;
        closeCause = cause;
        sendHead = sendTail = 0;
        recvHead = recvTail = 0;
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing; the first cause is the useful one
        }
    }

    /**
     * Closes the socket. Requests still outstanding are reported with {@link #STATUS_CLOSED} by the next
     * {@link #poll(CompletionListener)}.
     */
    @Override
    public void close() {
        markClosed(new IOException("connection to " + peer + " closed by the client"));
    }

    // ---------------------------------------------------------------- state

    public boolean isOpen() { return !closed; }
    /** Why the connection closed, or null while open. */
    public IOException closeCause() { return closeCause; }
    public boolean isExtended() { return extended; }
    /** Requests submitted whose reply has not been reported yet. */
    public int inFlight() { return slots.inFlight(); }
    public int maxInFlight() { return slots.capacity(); }
    /** Whether submitted bytes are still waiting to be written (register OP_WRITE interest when blocking). */
    public boolean hasPendingSends() { return sendHead != sendTail; }
    /** "host:port" of the server, for messages. */
    public String peer() { return peer; }
    /** The socket, only to register it with a {@link Selector} for waiting; never read or write it directly. */
    public SocketChannel channel() { return channel; }

    @Override
    public String toString() {
        return "ReflexConnection[" + peer + (extended ? ", extended" : ", legacy") + ", inFlight=" + inFlight()
                + (closed ? ", closed: " + closeCause.getMessage() : "") + "]";
    }
}

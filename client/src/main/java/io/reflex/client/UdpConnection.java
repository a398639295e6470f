package io.reflex.client;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.RequestCheck;
import io.reflex.protocol.Status;
import io.reflex.protocol.UdpFraming;
import io.reflex.protocol.WireBuffers;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * The ReFlex protocol over kernel UDP sockets, for servers running the DPDK engine (PROTOCOL.md, "UDP transport"):
 * one request per datagram, replies (always with a status) matched by handle, lost datagrams recovered by sending the
 * same request again after a timeout. Same single-thread contract as {@link ReflexConnection}.
 *
 * <p>Handles are {@code epoch(24) | generation(24) | slot(16)}: a random epoch per connection (a restarted client on
 * the same port is not mistaken for the old one by the server's write table), a per-slot generation so a late
 * duplicate reply to an earlier request is recognised and ignored. A retry reuses its request's handle, which is how
 * the server applies a retried SET at most once. To keep that guarantee within the server's per-client memory of
 * {@link UdpFraming#WRITE_WINDOW} SETs, a SET is not sent while one sent {@code WRITE_WINDOW} SETs earlier is still
 * unanswered (submit returns false, as when full).
 *
 * <p>Allocation-free per request: a preallocated datagram per slot (kept for retries), arrays for the rest.
 */
public final class UdpConnection implements BlockTransport {
    /** Listener status for a request that got no reply after every retry (not a wire value). */
    public static final int STATUS_TIMEOUT = -2;
    private static final long HELLO_HANDLE = 0;
    private static final int MAX_SLOTS = 1 << 16;
    private static final int WINDOW = UdpFraming.WRITE_WINDOW;
    private static final int RECEIVES_PER_POLL = 64;

    private final DatagramChannel channel;
    private final String peer;
    private final UdpOptions udp;
    private final long timeoutNanos;
    private final long epoch;
    private final int capacity;

    private final int[] generation;
    private final boolean[] inUse;
    private final int[] free;
    private int freeCount;
    private final int[] opcode;
    private final int[] sectors;
    private final long[] tag;
    private final ByteBuffer[] dst;
    private final ByteBuffer[] datagram;
    private final long[] deadline;
    private final int[] attempts;
    private final long[] writeSeq;
    private final int[] unsent;
    private int unsentHead, unsentCount;

    private final boolean[] writeOutstanding = new boolean[WINDOW];
    private long nextWriteSeq;
    private long oldestWrite;

    private final boolean[] queuedUnsent;
    private final ReflexHeader sendHeader = new ReflexHeader();
    private final ReflexHeader recvHeader = new ReflexHeader();
    private final ByteBuffer recv;
    private final ByteBuffer view;
    private long nextScan;
    private long retransmits;
    private long staleReplies;
    private long timeouts;

    private boolean closed;
    private IOException closeCause;

    private UdpConnection(DatagramChannel channel, String peer, ClientOptions options, UdpOptions udp) {
        this.channel = channel;
        this.peer = peer;
        this.udp = udp;
        this.timeoutNanos = udp.timeout().toNanos();
        this.epoch = new SecureRandom().nextInt(1 << 24);
        this.capacity = Math.min(options.maxInFlight(), MAX_SLOTS);
        generation = new int[capacity];
        inUse = new boolean[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) free[i] = capacity - 1 - i;
        freeCount = capacity;
        opcode = new int[capacity];
        sectors = new int[capacity];
        tag = new long[capacity];
        dst = new ByteBuffer[capacity];
        deadline = new long[capacity];
        attempts = new int[capacity];
        writeSeq = new long[capacity];
        unsent = new int[capacity];
        queuedUnsent = new boolean[capacity];
        datagram = new ByteBuffer[capacity];
        ByteBuffer all = WireBuffers.pageAligned(capacity * udp.maxDatagram(), ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < capacity; i++) {
            datagram[i] = all.slice(i * udp.maxDatagram(), udp.maxDatagram()).order(ByteOrder.LITTLE_ENDIAN);
        }
        recv = WireBuffers.pageAligned(65536, ByteOrder.LITTLE_ENDIAN);
        view = recv.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Opens a UDP socket connected to the server (only its datagrams are received) and, with a token, authenticates
     * this socket with HELLO.
     *
     * @throws ConnectException if the host is unknown or unreachable
     * @throws ReflexException  if HELLO is refused
     */
    public static UdpConnection open(String host, int port, ClientOptions options, UdpOptions udp) throws IOException {
        InetSocketAddress address = new InetSocketAddress(host, port);
        String peer = host + ":" + port + "/udp";
        if (address.isUnresolved()) throw new ConnectException("cannot reach " + peer + ": unknown host");
        DatagramChannel ch = DatagramChannel.open();
        try {
            ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
            ch.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 4 << 20);
            ch.connect(address);
            ch.configureBlocking(false);
            UdpConnection c = new UdpConnection(ch, peer, options, udp);
            if (options.token() != null) c.hello(options.tokenBytes(), options.connectTimeout().toNanos());
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** HELLO with the token, resent on the retry schedule until answered (cold path). */
    private void hello(byte[] token, long totalNanos) throws IOException {
        ByteBuffer d = ByteBuffer.allocate(ReflexHeader.LENGTH + token.length).order(ByteOrder.LITTLE_ENDIAN);
        new ReflexHeader().wrap(d, 0).set(Opcode.HELLO, HELLO_HANDLE, Opcode.PROTOCOL_VERSION, token.length);
        d.put(ReflexHeader.LENGTH, token);
        long end = System.nanoTime() + totalNanos;
        try (Selector selector = Selector.open()) {
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
            for (int attempt = 0; System.nanoTime() < end; attempt++) {
                channel.write(d.clear());
                long wait = Math.min(timeoutNanos << Math.min(attempt, 4), end - System.nanoTime());
                if (selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait))) == 0) continue;
                selector.selectedKeys().clear();
                recv.clear();
                int n;
                try {
                    n = channel.read(recv);
                } catch (PortUnreachableException e) {
                    continue; // server not up yet
                }
                if (n < ReflexHeader.LENGTH) continue;
                ReflexHeader h = new ReflexHeader().wrap(recv, 0);
                if (h.magic() != ReflexHeader.MAGIC || h.opcode() != Opcode.HELLO || h.handle() != HELLO_HANDLE) continue;
                key.cancel();
                selector.selectNow();
                if (h.status() != Status.OK) throw ReflexException.forStatus(h.status(), "HELLO to " + peer);
                return;
            }
        }
        throw new SocketTimeoutException("no HELLO reply from " + peer + " within " + TimeUnit.NANOSECONDS.toMillis(totalNanos) + " ms");
    }

    // ---------------------------------------------------------------- submit

    @Override
    public boolean submitRead(long lba, int sectorCount, ByteBuffer into, long userTag) {
        ReflexConnection.checkRead(lba, sectorCount);
        int bytes = sectorCount << ReflexHeader.SECTOR_SHIFT;
        if (into != null && into.remaining() < bytes) {
            throw new IllegalArgumentException("read destination has " + into.remaining() + " bytes remaining, needs " + bytes);
        }
        checkFits(bytes);
        return submit(Opcode.GET, lba, sectorCount, null, into, userTag);
    }

    @Override
    public boolean submitWrite(long lba, ByteBuffer src, long userTag) {
        int bytes = src.remaining();
        ReflexConnection.checkWrite(lba, bytes);
        checkFits(bytes);
        if (nextWriteSeq - oldestWrite >= WINDOW) return false; // a SET 1024 writes ago is still unanswered
        return submit(Opcode.SET, lba, bytes >>> ReflexHeader.SECTOR_SHIFT, src, null, userTag);
    }

    @Override
    public boolean submitFlush(long userTag) {
        return submit(Opcode.FLUSH, 0, 0, null, null, userTag);
    }

    private void checkFits(int bytes) {
        if (ReflexHeader.LENGTH + bytes > udp.maxDatagram()) {
            throw new IllegalArgumentException(bytes + " bytes do not fit one datagram of at most " + udp.maxDatagram()
                    + " bytes (the UDP transport carries one request per datagram, no fragmentation)");
        }
    }

    private boolean submit(int op, long lba, int count, ByteBuffer src, ByteBuffer into, long userTag) {
        if (closed) throw new IllegalStateException("connection to " + peer + " is closed: " + closeCause.getMessage());
        if (freeCount == 0) return false;
        int slot = free[--freeCount];
        int gen = (generation[slot] + 1) & 0xFF_FFFF;
        if (gen == 0) gen = 1;
        generation[slot] = gen;
        inUse[slot] = true;
        ByteBuffer d = datagram[slot].clear();
        ReflexHeader h = sendHeader.wrap(d, 0).set(op, handle(slot), lba, count);
        if (RequestCheck.frame(h) != Status.OK) throw new IllegalArgumentException(Opcode.name(op) + " fails the protocol's frame check");
        int length = ReflexHeader.LENGTH;
        if (src != null) {
            d.put(ReflexHeader.LENGTH, src, src.position(), src.remaining());
            length += src.remaining();
        }
        d.limit(length).position(0);
        opcode[slot] = op;
        sectors[slot] = count;
        tag[slot] = userTag;
        dst[slot] = into;
        attempts[slot] = 0;
        if (op == Opcode.SET) {
            long seq = nextWriteSeq++;
            writeSeq[slot] = seq;
            writeOutstanding[(int) (seq & (WINDOW - 1))] = true;
        }
        long now = System.nanoTime();
        deadline[slot] = now + timeoutNanos;
        if (nextScan == 0 || deadline[slot] < nextScan) nextScan = deadline[slot];
        send(slot);
        return true;
    }

    private long handle(int slot) {
        return epoch << 40 | (long) generation[slot] << 16 | slot;
    }

    /** Sends the slot's datagram now, or queues it behind others the socket did not take. */
    private void send(int slot) {
        if (queuedUnsent[slot]) return; // already waiting to go out
        if (unsentCount > 0 || !trySend(slot)) {
            queuedUnsent[slot] = true;
            unsent[(unsentHead + unsentCount++) % capacity] = slot;
        }
    }

    private boolean trySend(int slot) {
        ByteBuffer d = datagram[slot];
        d.position(0);
        try {
            return channel.write(d) > 0;
        } catch (PortUnreachableException e) {
            return true; // an ICMP error for an earlier datagram: this one is lost like any other, the timer resends
        } catch (IOException e) {
            markClosed(new IOException("send to " + peer + " failed: " + e.getMessage(), e));
            return true;
        }
    }

    @Override
    public boolean flushSends() {
        while (unsentCount > 0 && !closed) {
            int slot = unsent[unsentHead];
            if (inUse[slot] && !trySend(slot)) return false;
            queuedUnsent[slot] = false;
            unsentHead = (unsentHead + 1) % capacity;
            unsentCount--;
        }
        return true;
    }

    // ---------------------------------------------------------------- receive

    @Override
    public int poll(CompletionListener listener) {
        int n = 0;
        if (!closed) {
            flushSends();
            for (int i = 0; i < RECEIVES_PER_POLL && !closed; i++) {
                int got = receiveOne(listener);
                if (got < 0) break;
                n += got;
            }
            long now = System.nanoTime();
            if (!closed && nextScan != 0 && now >= nextScan) n += expire(now, listener);
        }
        if (closed) n += failAll(listener, ReflexConnection.STATUS_CLOSED);
        return n;
    }

    /** Reads one datagram: 1 if it completed a request, 0 if ignored, -1 if none was waiting. */
    private int receiveOne(CompletionListener listener) {
        recv.clear();
        int n;
        try {
            n = channel.read(recv);
        } catch (PortUnreachableException e) {
            return 0; // no server on that port (yet): requests time out and are retried
        } catch (IOException e) {
            markClosed(new IOException("receive from " + peer + " failed: " + e.getMessage(), e));
            return -1;
        }
        if (n <= 0) return -1;
        if (n < ReflexHeader.LENGTH) return 0;
        ReflexHeader h = recvHeader.wrap(recv, 0);
        if (h.magic() != ReflexHeader.MAGIC) return 0;
        long handle = h.handle();
        int slot = (int) (handle & 0xFFFF);
        if (slot >= capacity || !inUse[slot] || handle(slot) != handle || h.opcode() != opcode[slot]) {
            staleReplies++; // a duplicate reply (we retried, both came back) or not ours
            return 0;
        }
        int status = h.status();
        int payload = 0;
        if (opcode[slot] == Opcode.GET && status == Status.OK) {
            if (h.lbaCount() != sectors[slot] || n != ReflexHeader.LENGTH + (sectors[slot] << ReflexHeader.SECTOR_SHIFT)) {
                staleReplies++;
                return 0;
            }
            payload = sectors[slot] << ReflexHeader.SECTOR_SHIFT;
        }
        ByteBuffer into = dst[slot];
        if (payload > 0 && into != null) into.put(into.position(), recv, ReflexHeader.LENGTH, payload);
        long t = tag[slot];
        release(slot);
        view.limit(ReflexHeader.LENGTH + payload).position(ReflexHeader.LENGTH);
        listener.onComplete(t, status, view);
        return 1;
    }

    /** Resends requests past their deadline; fails those out of retries. */
    private int expire(long now, CompletionListener listener) {
        int failed = 0;
        long next = 0;
        for (int s = 0; s < capacity; s++) {
            if (!inUse[s]) continue;
            if (deadline[s] <= now) {
                if (attempts[s] >= udp.retries()) {
                    long t = tag[s];
                    release(s);
                    timeouts++;
                    view.limit(0).position(0);
                    listener.onComplete(t, STATUS_TIMEOUT, view);
                    failed++;
                    continue;
                }
                attempts[s]++;
                retransmits++;
                deadline[s] = now + (timeoutNanos << Math.min(attempts[s], 4));
                send(s);
            }
            if (next == 0 || deadline[s] < next) next = deadline[s];
        }
        nextScan = next;
        return failed;
    }

    private void release(int slot) {
        inUse[slot] = false;
        dst[slot] = null;
        if (opcode[slot] == Opcode.SET) {
            writeOutstanding[(int) (writeSeq[slot] & (WINDOW - 1))] = false;
            while (oldestWrite < nextWriteSeq && !writeOutstanding[(int) (oldestWrite & (WINDOW - 1))]) oldestWrite++;
        }
        free[freeCount++] = slot;
    }

    private int failAll(CompletionListener listener, int status) {
        int n = 0;
        view.limit(0).position(0);
        for (int s = 0; s < capacity; s++) {
            if (!inUse[s]) continue;
            long t = tag[s];
            release(s);
            listener.onComplete(t, status, view);
            n++;
        }
        return n;
    }

    private void markClosed(IOException cause) {
        if (closed) return;
        closed = true;
        closeCause = cause;
        try {
            channel.close();
        } catch (IOException ignored) {
            // the first cause is the useful one
        }
    }

    @Override
    public void close() {
        markClosed(new IOException("connection to " + peer + " closed by the client"));
    }

    // ---------------------------------------------------------------- state

    @Override public boolean isOpen() { return !closed; }
    @Override public IOException closeCause() { return closeCause; }
    /** UDP replies always carry a status. */
    @Override public boolean isExtended() { return true; }
    @Override public int inFlight() { return capacity - freeCount; }
    @Override public int maxInFlight() { return capacity; }
    @Override public boolean hasPendingSends() { return unsentCount > 0; }
    @Override public String peer() { return peer; }
    @Override public DatagramChannel channel() { return channel; }

    @Override
    public long nanosUntilDeadline(long now) {
        return nextScan == 0 ? Long.MAX_VALUE : Math.max(0, nextScan - now);
    }

    /** Requests sent again after a timeout. */
    public long retransmits() { return retransmits; }

    /** Replies ignored: duplicates of already answered requests (after a retry), or malformed. */
    public long staleReplies() { return staleReplies; }

    /** Requests failed with {@link #STATUS_TIMEOUT}. */
    public long timeouts() { return timeouts; }

    @Override
    public String toString() {
        return "UdpConnection[" + peer + ", inFlight=" + inFlight() + ", retransmits=" + retransmits
                + (closed ? ", closed: " + closeCause.getMessage() : "") + "]";
    }
}

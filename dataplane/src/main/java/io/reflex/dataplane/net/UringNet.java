package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.dataplane.storage.nativeio.BufRing;
import io.reflex.dataplane.storage.nativeio.Errno;
import io.reflex.dataplane.storage.nativeio.IoUring;
import io.reflex.dataplane.storage.nativeio.IoUringCqe;
import io.reflex.dataplane.storage.nativeio.IoUringParams;
import io.reflex.dataplane.storage.nativeio.IoUringSqe;
import io.reflex.dataplane.storage.nativeio.LibC;
import io.reflex.dataplane.storage.nativeio.NativeException;
import io.reflex.dataplane.storage.nativeio.SharedRing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Selector;
import java.util.Arrays;

/**
 * A loop's io_uring network path. Every connection keeps one receive in the ring, whose buffer the kernel takes from
 * a provided-buffer ring only when data arrives (idle connections hold no memory); its bytes are copied into the
 * session's receive buffer and parsed as on the epoll path, and the buffer goes straight back. Replies go out as one
 * SEND of the session's send buffer at a time (more replies are appended behind it meanwhile). Listeners stay in the
 * loop's NIO selector: a one-shot poll on the selector's epoll fd, kept armed in the ring, reports that a listener is
 * ready (or another thread woke the loop), and only then does the loop call selectNow — a cold path.
 *
 * <p>With the io_uring storage engine the ring is the device queue's ({@link SharedRing}): one io_uring_enter per loop
 * iteration submits the replies, receives and device requests together, and one pass over the CQ reaps them all. With
 * the memory or file engine the ring carries only network requests.
 *
 * <p>user_data: {@link SharedRing#FOREIGN} | op &lt;&lt; 32 | session id. A session's id is freed only once none of its
 * requests is in the kernel, so a completion always finds its session; a closed session's requests are cancelled
 * (IORING_OP_ASYNC_CANCEL) and the ring submitted before its fd is closed, so no queued SQE can name an fd number that
 * a new connection reuses. Owned by the loop's thread; nothing allocates per request.
 */
final class UringNet implements SharedRing.Handler {
    static final int RECV = 1, SEND = 2, CANCEL = 3, WAKE = 4;
    private static final int BUFFER_GROUP = 1;
    /**
     * Provided receive buffers per loop (power of two) and their size, a session's whole receive buffer so one receive
     * can fill it (a burst of 32 NBD writes is 132 KiB): 8 MiB per loop, however many connections.
     */
    static final int RECV_BUFFERS = 128;
    static final int RECV_BUFFER_SIZE = Session.IN_BUFFER;
    private static final int OWN_RING_ENTRIES = 256;
    private static final int OWN_RING_CQ = 4096;
    private static final long CLOSE_DRAIN_NANOS = 2_000_000_000L;
    /**
     * How long (µs) an idle wait that also submits replies keeps waiting for the next event after their SENDs complete
     * ({@code -Dreflex.uring.minwait}, 0: off; Linux 6.12 min_wait). A SEND to a socket with room completes inside the
     * enter that submits it, and its completion would end that enter's wait at once: one more enter per reply. Off by
     * default: at 100 µs it saved that enter but added ~115 µs to QD1 p50 on 6.18 (bench/README.md, issue 17).
     */
    static final int MIN_WAIT_USEC = Integer.getInteger("reflex.uring.minwait", 0);
    /**
     * Blocking mode on a shared ring: a request reaching an idle device is submitted by the enter that ends the
     * iteration (and waits for it) rather than by an enter of its own ({@code -Dreflex.uring.foldsubmit}).
     */
    static final boolean FOLD_SUBMIT = !"false".equals(System.getProperty("reflex.uring.foldsubmit"));
    /**
     * One multishot receive per connection ({@code -Dreflex.uring.multishot=true}, Linux 6.0): armed once, it completes
     * with a whole provided buffer each time data arrives, instead of a one-shot receive re-armed per arrival and sized
     * to the session's room. Bytes beyond that room stay in their provided buffer, held by the session (in order)
     * until the parser has taken what was before them, and the receive is cancelled meanwhile: a session that stops
     * reading holds a few buffers, not the socket's backlog.
     */
    static final boolean MULTISHOT = Boolean.getBoolean("reflex.uring.multishot");
    private static final Object PROBE_LOCK = new Object();
    private static volatile String unavailable;
    private static volatile boolean probed;

    private final DataplaneLoop loop;
    private final IoQueue io;
    private final IoUring ring;
    private final boolean shared;
    private final BufRing buffers;
    private final ByteBuffer received;
    private final int wakeFd;
    /** Multishot receives: bytes in each held buffer, and the next held buffer of the same session (-1: last). */
    private final int[] heldLength;
    private final int[] heldNext;
    /** The session whose input is being parsed just now: held input must wait until that returns (order). */
    private Session receiving;
    private boolean wakeArmed;
    private boolean wakeFired;
    private Session[] byId = new Session[64];
    private int[] freeIds = new int[64];
    private int freeCount;
    private int nextId;
    /** Sessions whose receive or send must be retried next iteration (no buffer or SQE free just now). */
    private Session[] retry = new Session[16];
    private int retryCount;
    /** Sockets to close after the next submit ({@link #close}). */
    private java.nio.channels.SocketChannel[] toClose = new java.nio.channels.SocketChannel[16];
    private int closeCount;
    /** Completions handled since {@link #reap}. */
    private int events;
    /** Receives and sends in the kernel. */
    private int inKernel;
    /** SENDs prepared since submit number {@link #sendEpoch} of the ring ({@link IoUring#submits}). */
    private int sendsInBatch;
    private long sendEpoch = -1;
    private boolean bufferRingLeaked;

    private UringNet(DataplaneLoop loop, IoQueue io, IoUring ring, boolean shared, int wakeFd, int recvBuffers) {
        this.loop = loop;
        this.io = io;
        this.ring = ring;
        this.shared = shared;
        this.wakeFd = wakeFd;
        this.buffers = new BufRing(ring, BUFFER_GROUP, recvBuffers, RECV_BUFFER_SIZE);
        this.heldLength = MULTISHOT ? new int[recvBuffers] : null;
        this.heldNext = MULTISHOT ? new int[recvBuffers] : null;
        this.received = buffers.view();
    }

    /**
     * The network path of {@code loop}: on {@code io}'s ring when it is an io_uring device queue, else on a ring of its
     * own. {@code selector} holds the loop's listeners and is how other threads wake it.
     */
    static UringNet open(DataplaneLoop loop, IoQueue io, Selector selector, int recvBuffers) {
        int wakeFd = SelectorFd.epollFd(selector);
        if (wakeFd < 0) throw new IllegalStateException("the selector's epoll fd is not accessible (needs --add-opens java.base/sun.nio.ch)");
        if (io instanceof SharedRing s) {
            UringNet net = new UringNet(loop, io, s.ring(), true, wakeFd, recvBuffers);
            s.foreignCompletions(net);
            return net;
        }
        IoUring own = IoUring.createForDataplane(OWN_RING_ENTRIES, OWN_RING_CQ);
        try {
            return new UringNet(loop, io, own, false, wakeFd, recvBuffers);
        } catch (RuntimeException e) {
            own.close();
            throw e;
        }
    }

    /**
     * Why the io_uring network path cannot be used in this process, or null when it can (probed once): io_uring itself,
     * the opcodes (IORING_REGISTER_PROBE), provided-buffer rings (5.19), timed waits (EXT_ARG, 5.11), and the JDK
     * internals it reads (socket and epoll descriptors: --add-opens java.base/sun.nio.ch).
     */
    static String unavailableReason() {
        if (!probed) {
            synchronized (PROBE_LOCK) {
                if (!probed) {
                    unavailable = probe();
                    probed = true;
                }
            }
        }
        return unavailable;
    }

    private static String probe() {
        try {
            if (!Engines.uringAvailable()) return "io_uring is not available here (kernel, seccomp or kernel.io_uring_disabled)";
            if (!SendQueue.fdAccessible()) return "socket descriptors are not accessible (needs --add-opens java.base/sun.nio.ch)";
            try (Selector s = Selector.open()) {
                if (SelectorFd.epollFd(s) < 0) return "the selector's epoll fd is not accessible (needs --add-opens java.base/sun.nio.ch)";
            }
            try (IoUring r = IoUring.create(8, 0)) {
                if ((r.features() & IoUringParams.IORING_FEAT_EXT_ARG) == 0) return "the kernel's io_uring has no timed waits (EXT_ARG, Linux 5.11)";
                int[] ops = {IoUringSqe.IORING_OP_RECV, IoUringSqe.IORING_OP_SEND, IoUringSqe.IORING_OP_ASYNC_CANCEL, IoUringSqe.IORING_OP_POLL_ADD};
                String[] names = {"RECV", "SEND", "ASYNC_CANCEL", "POLL_ADD"};
                for (int i = 0; i < ops.length; i++) {
                    if (!r.supports(ops[i])) return "the kernel's io_uring lacks IORING_OP_" + names[i];
                }
                try {
                    new BufRing(r, 0, 2, 4096).close();
                } catch (NativeException e) {
                    return "the kernel has no provided-buffer rings (Linux 5.19): " + e.getMessage();
                }
            }
            return null;
        } catch (IOException | RuntimeException | LinkageError e) {
            return "io_uring probe failed: " + e;
        }
    }

    boolean shared() { return shared; }

    /** The options in use, for the start-up log: task work, and receives/sends when not the defaults. */
    String describe() {
        return (ring.deferTaskRun() ? "single issuer, deferred task work"
                : ring.coopTaskRun() ? "cooperative task work" : "plain task work")
                + (MULTISHOT ? ", multishot receives" : "")
                + (MIN_WAIT_USEC > 0 && ring.hasMinWait() ? ", min_wait " + MIN_WAIT_USEC + " µs" : "");
    }

    IoUring ring() { return ring; }

    private static long tag(int op, int id) {
        return SharedRing.FOREIGN | ((long) op << 32) | (id & 0xFFFF_FFFFL);
    }

    // ---- sessions ----------------------------------------------------------------------------------------------

    /** A new connection: give it an id and arm its first receive. */
    void register(Session s) {
        int id;
        if (freeCount > 0) {
            id = freeIds[--freeCount];
        } else {
            if (nextId == byId.length) byId = Arrays.copyOf(byId, nextId * 2);
            id = nextId++;
        }
        byId[id] = s;
        s.netId = id;
        maybeArm(s);
    }

    /** Arm a receive unless one is armed or the session takes no input now. */
    void maybeArm(Session s) {
        if (s.heldHead >= 0 && s != receiving) takeHeld(s);
        if (s.recvArmed || s.netId < 0) return;
        if (s.closed ? !s.lingering : (s.paused || s.sendBlocked || !s.acceptsInput())) return;
        int room = s.lingering ? RECV_BUFFER_SIZE : Session.IN_BUFFER - s.buffered();
        if (room <= 0 || s.heldHead >= 0) return; // unparsed input fills the buffer: nothing to add until the parser takes some
        long base = sqe();
        if (base < 0) {
            retryLater(s);
            return;
        }
        if (MULTISHOT) {
            IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_RECV, IoUringSqe.IOSQE_BUFFER_SELECT, s.fd, 0, 0, 0, 0,
                    tag(RECV, s.netId));
            IoUringSqe.ioprio(ring.sqes(), base, IoUringSqe.IORING_RECV_MULTISHOT);
        } else {
            // At most the room left in the session's receive buffer: every byte received fits there, none waits elsewhere.
            IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_RECV, IoUringSqe.IOSQE_BUFFER_SELECT, s.fd, 0, 0,
                    Math.min(room, RECV_BUFFER_SIZE), 0, tag(RECV, s.netId));
        }
        IoUringSqe.bufGroup(ring.sqes(), base, BUFFER_GROUP);
        ring.sqAdvance();
        s.recvArmed = true;
        inKernel++;
    }

    /** Multishot: hand the session as much of its held input as it has room for, in order, recycling emptied buffers. */
    private void takeHeld(Session s) {
        if (s.lingering || s.closed) {
            dropHeld(s);
            return;
        }
        while (s.heldHead >= 0 && !s.paused && !s.sendBlocked && s.acceptsInput()) {
            int bid = s.heldHead;
            int room = Session.IN_BUFFER - s.buffered();
            int n = Math.min(room, heldLength[bid] - s.heldTaken);
            if (n <= 0) return;
            int from = buffers.offset(bid) + s.heldTaken;
            s.heldTaken += n;
            if (s.heldTaken == heldLength[bid]) { // all of it taken: the next held buffer (if any) is first now
                s.heldHead = heldNext[bid];
                s.heldTaken = 0;
                if (s.heldHead < 0) s.heldTail = -1;
                receive(s, from, n); // parses: may close the session or pause it
                buffers.recycle(bid);
            } else {
                receive(s, from, n);
            }
            if (s.closed) {
                dropHeld(s);
                return;
            }
        }
    }

    /** Multishot: keep buffer {@code bid} (bytes [taken, length)) behind the session's held input. */
    private void hold(Session s, int bid, int taken, int length) {
        heldLength[bid] = length;
        heldNext[bid] = -1;
        if (s.heldHead < 0) {
            s.heldHead = bid;
            s.heldTaken = taken;
        } else {
            heldNext[s.heldTail] = bid;
        }
        s.heldTail = bid;
        if (s.recvArmed && !s.recvCancelling) { // stop reading the socket until the held bytes are parsed
            long base = sqe();
            if (base < 0) return; // tried again with the next held buffer
            IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_ASYNC_CANCEL, (byte) 0, -1, 0, tag(RECV, s.netId), 0, 0,
                    tag(CANCEL, s.netId));
            ring.sqAdvance();
            s.recvCancelling = true;
        }
    }

    private void receive(Session s, int offset, int n) {
        Session outer = receiving;
        receiving = s;
        try {
            s.receive(received, offset, n);
        } finally {
            receiving = outer;
        }
    }

    private void dropHeld(Session s) {
        for (int bid = s.heldHead; bid >= 0; bid = heldNext[bid]) buffers.recycle(bid);
        s.heldHead = -1;
        s.heldTail = -1;
        s.heldTaken = 0;
    }

    /** Send the session's send buffer [0, position); false when no SQE was free (retried next iteration). */
    boolean send(Session s, long address, int length) {
        if (s.netId < 0) return false; // never registered (a session driven directly by a test)
        long base = sqe();
        if (base < 0) {
            retryLater(s);
            return false;
        }
        // WAITALL: a send the socket cannot take at once is finished by the kernel as room appears, not bounced back
        // here in pieces; it completes once, with every byte or an error (then with the bytes that did go).
        IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_SEND, (byte) 0, s.fd, 0, address, length,
                IoUringSqe.MSG_NOSIGNAL | IoUringSqe.MSG_WAITALL, tag(SEND, s.netId));
        ring.sqAdvance();
        s.sending = length;
        inKernel++;
        long epoch = ring.submits();
        if (epoch != sendEpoch) {
            sendEpoch = epoch;
            sendsInBatch = 0;
        }
        sendsInBatch++;
        return true;
    }

    /** Cancel the session's send (its connection is closing after it: the rest is written directly). */
    void cancelSend(Session s) {
        if (s.sending > 0) cancel(s, SEND);
    }

    /**
     * Close the session's socket: cancel its requests in the kernel (each holds a reference that would keep the socket
     * open), and close the descriptor only after this iteration's submit ({@link #closeDeferred}), so that no SQE still
     * in the ring names an fd number a new connection may reuse. The id goes once nothing of the session is left in the
     * kernel.
     */
    void close(Session s) {
        if (s.heldHead >= 0) dropHeld(s);
        if (s.recvArmed) cancel(s, RECV);
        if (s.sending > 0) cancel(s, SEND);
        if (closeCount == toClose.length) toClose = Arrays.copyOf(toClose, closeCount * 2);
        toClose[closeCount++] = s.channel;
        release(s);
    }

    /** Submit, then close the sockets of sessions closed since the last call. */
    void closeDeferred() {
        if (closeCount == 0) return;
        submit();
        for (int i = 0; i < closeCount; i++) {
            try {
                toClose[i].close();
            } catch (IOException ignored) {
                // closing anyway
            }
            toClose[i] = null;
        }
        closeCount = 0;
    }

    private void cancel(Session s, int op) {
        long base = sqe();
        if (base < 0) {
            // No SQE even after a submit: shut the socket down instead, which completes its pending receive and send.
            try {
                s.channel.shutdownInput();
                s.channel.shutdownOutput();
            } catch (IOException | RuntimeException ignored) {
                // closing anyway
            }
            return;
        }
        IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_ASYNC_CANCEL, (byte) 0, -1, 0, tag(op, s.netId), 0, 0,
                tag(CANCEL, s.netId));
        ring.sqAdvance();
    }

    private void release(Session s) {
        int id = s.netId;
        if (id < 0 || !s.closed || s.lingering || s.recvArmed || s.sending > 0) return;
        byId[id] = null;
        s.netId = -1;
        if (freeCount == freeIds.length) freeIds = Arrays.copyOf(freeIds, freeCount * 2);
        freeIds[freeCount++] = id;
    }

    private void retryLater(Session s) {
        if (s.retrying) return;
        s.retrying = true;
        if (retryCount == retry.length) retry = Arrays.copyOf(retry, retryCount * 2);
        retry[retryCount++] = s;
    }

    /** Re-arm receives and resend what could not be queued last iteration (buffers or SQEs ran out). */
    void retry() {
        int n = retryCount;
        if (n == 0) return;
        retryCount = 0;
        for (int i = 0; i < n; i++) {
            Session s = retry[i];
            retry[i] = null;
            s.retrying = false;
            if (s.netId < 0) continue;
            if (!s.closed) s.flush();
            maybeArm(s);
        }
    }

    // ---- completions -------------------------------------------------------------------------------------------

    /** Reap the own ring (the shared ring is reaped by the device queue, which hands network completions here). */
    int reap() {
        if (!shared) {
            if (ring.cqReady() == 0 && ring.cqOverflowed()) ring.flushOverflow();
            else if (ring.taskWorkPending()) ring.runTaskWork();
            while (ring.cqReady() > 0) {
                long base = ring.cqeAtHead();
                long userData = IoUringCqe.userData(ring.cqes(), base);
                int res = IoUringCqe.res(ring.cqes(), base);
                int flags = IoUringCqe.flags(ring.cqes(), base);
                ring.cqAdvance();
                onCompletion(userData, res, flags);
            }
        }
        buffers.publish();
        int n = events;
        events = 0;
        return n;
    }

    @Override
    public void onCompletion(long userData, int res, int flags) {
        int op = (int) (userData >>> 32) & 0xFF;
        int id = (int) userData;
        events++;
        switch (op) {
            case WAKE -> {
                wakeArmed = false;
                wakeFired = true;
            }
            case RECV -> onRecv(byId[id], res, flags);
            case SEND -> onSend(byId[id], res);
            default -> { } // CANCEL: the cancelled request reports itself
        }
    }

    private void onRecv(Session s, int res, int flags) {
        if ((flags & IoUringCqe.IORING_CQE_F_MORE) == 0) { // a one-shot receive, or the end of a multishot one
            s.recvArmed = false;
            s.recvCancelling = false;
            inKernel--;
        }
        int bid = (flags & IoUringCqe.IORING_CQE_F_BUFFER) != 0 ? flags >>> IoUringCqe.IORING_CQE_BUFFER_SHIFT : -1;
        if (s.lingering) {
            if (bid >= 0) buffers.recycle(bid);
            if (res <= 0 && res != -Errno.ECANCELED || (s.lingerDrained += Math.max(res, 0)) >= Session.LINGER_MAX_BYTES) s.endLinger(); // peer closed too, or enough
            else maybeArm(s);
            return;
        }
        if (s.closed) {
            if (bid >= 0) buffers.recycle(bid);
            release(s);
            return;
        }
        if (res > 0 && bid >= 0) {
            if (!MULTISHOT) {
                s.receive(received, buffers.offset(bid), res);
                buffers.recycle(bid);
            } else if (s.heldHead >= 0) {
                hold(s, bid, 0, res); // behind input already held
            } else {
                int n = Math.min(res, Math.max(0, Session.IN_BUFFER - s.buffered()));
                if (n < res) hold(s, bid, n, res); // held before the parser runs: the rest follows in order
                if (n > 0) receive(s, buffers.offset(bid), n);
                if (n == res) buffers.recycle(bid);
            }
            maybeArm(s);
        } else if (res == 0) {
            s.peerClosed();
        } else if (res == -Errno.ENOBUFS || res == -Errno.EAGAIN || res == -Errno.EINTR) {
            retryLater(s); // every receive buffer is taken just now: they come back this iteration
        } else if (res == -Errno.ECANCELED && MULTISHOT) {
            maybeArm(s); // stopped while held input waits for room (hold)
        } else {
            s.close(CloseReason.IO_ERROR, "read failed: " + LibC.strerror(-res));
        }
    }

    private void onSend(Session s, int res) {
        inKernel--;
        if (s.closed) {
            s.sendDoneAfterClose(res);
            release(s);
            return;
        }
        if (res > 0) {
            s.sent(res);
        } else if (res == -Errno.EAGAIN || res == -Errno.EINTR || res == 0) {
            s.sending = 0;
            retryLater(s);
        } else {
            s.sending = 0;
            s.close(CloseReason.IO_ERROR, "write failed: " + LibC.strerror(-res));
        }
    }

    /** Whether a listener or another thread woke the loop since the last call (then selectNow, and re-arm). */
    boolean takeWake() {
        boolean w = wakeFired;
        wakeFired = false;
        return w;
    }

    /** Whether the selector's poll fired and the loop has not selected yet. */
    boolean wakePending() {
        return wakeFired;
    }

    /** Keep the one-shot poll on the selector's epoll fd armed (it fires at once if the fd is readable already). */
    void armWake() {
        if (wakeArmed) return;
        long base = sqe();
        if (base < 0) return; // next iteration
        IoUringSqe.prep(ring.sqes(), base, IoUringSqe.IORING_OP_POLL_ADD, (byte) 0, wakeFd, 0, 0, 0, IoUringSqe.POLLIN,
                tag(WAKE, 0));
        ring.sqAdvance();
        wakeArmed = true;
    }

    /** Submit what is prepared (network and, on a shared ring, device requests): one io_uring_enter, none if nothing. */
    void submit() {
        if (ring.sqPending() == 0) return;
        if (shared) io.submit();
        else ring.submit();
    }

    /** An SQE's offset, submitting once to make room; -1 if there is still none. */
    private long sqe() {
        long base = ring.nextSqe();
        if (base < 0) {
            submit();
            base = ring.nextSqe();
        }
        return base;
    }

    /** Idle: submit what is prepared and wait for any completion (network, wake-up, device on a shared ring). */
    void await(long timeoutNanos) {
        armWake();
        buffers.publish(); // buffers recycled since the reap (held input taken on resume)
        // One enter submits and waits. An SQE the kernel rejects completes with an error CQE; a refused enter leaves
        // them queued for the next iteration's submit, whose error handling (the device queue's) applies.
        // SENDs going with this enter usually complete inside it: wait for one completion more than them, so their
        // completions do not end the wait for the next request. Only with nothing at the device (a device completion
        // must never wait) and with min_wait to bound it: a SEND that has to wait for socket room delays the next event
        // by at most MIN_WAIT_USEC.
        int sends = sendEpoch == ring.submits() ? sendsInBatch : 0;
        if (sends > 0 && MIN_WAIT_USEC > 0 && ring.hasMinWait() && io.inFlight() == 0) {
            ring.submitAndWait(timeoutNanos, 1 + sends, MIN_WAIT_USEC);
        } else {
            ring.submitAndWait(timeoutNanos);
        }
    }

    /** Stopping, sessions closed: wait for their cancelled requests, then free the receive buffers. */
    void close() {
        long deadline = System.nanoTime() + CLOSE_DRAIN_NANOS;
        closeDeferred();
        submit();
        while (inKernel > 0 && System.nanoTime() < deadline) {
            if (shared) io.reap(loop, 1024);
            reap();
            if (inKernel > 0) ring.submitAndWait(10_000_000L);
        }
        if (shared) ((SharedRing) io).foreignCompletions(null);
        if (inKernel == 0) {
            buffers.close();
        } else {
            // A receive still in the kernel could yet write into a buffer: leave the memory mapped rather than risk it.
            bufferRingLeaked = true;
            loop.log(inKernel + " network requests still in the kernel at shutdown; receive buffers left allocated");
        }
        if (!shared) ring.close();
    }

    /** Requests in the kernel (tests). */
    int inKernel() { return inKernel; }

    boolean bufferRingLeaked() { return bufferRingLeaked; }
}

package io.reflex.dataplane.net;

import io.reflex.client.cpu.Housekeeping;
import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.metrics.ConnectionStats;
import io.reflex.dataplane.qos.Dispatcher;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.CompletionHandler;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.devmodels.DeviceModel;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * One dataplane thread, run to completion as in ReFlex/IX: poll the network, parse, hand requests to the QoS
 * scheduler, let it dispatch to this thread's device queue, submit the batch in one syscall, reap completions,
 * send replies. Nothing on this path allocates or locks; other threads talk to a loop only through its control
 * queue ({@link #execute}).
 */
public final class DataplaneLoop implements Runnable, Dispatcher, CompletionHandler, LoopControl {
    /**
     * @param cpu         the core to pin this loop's thread to, or -1 to let the kernel place it
     * @param submitBatch a request reaching an idle device is submitted at once; while the device is busy, every
     *                    {@code submitBatch} requests and at the end of the iteration. A closed-loop client sends its
     *                    next burst only when the last one completed, so the device idles until it sees the new
     *                    burst: one io_uring_enter for all of it (32 reads: ~140 µs in the kernel on a virtio disk)
     *                    would stretch that gap, small batches let the device start early for a few more syscalls
     */
    public record Config(int index, int maxTenants, int maxRequests, int maxPerConnection, long bufferBytes,
                         int schedulerQueue, PollMode pollMode, int cpu, int submitBatch, ConnectionLimits limits,
                         NetMode net, int recvBuffers) {
        public Config {
            if (submitBatch < 1) throw new IllegalArgumentException("submitBatch must be at least 1, got " + submitBatch);
            if (net == null) net = NetMode.fromProperty();
            if (recvBuffers <= 0) recvBuffers = UringNet.RECV_BUFFERS;
            if (Integer.bitCount(recvBuffers) != 1) throw new IllegalArgumentException("recvBuffers must be a power of two, got " + recvBuffers);
            if (bufferBytes < ReflexHeader.MAX_BYTES) {
                // A request waits for I/O buffer space only while buffers are in use; one the pool can never hold would
                // wait for ever.
                throw new IllegalArgumentException("bufferBytes must hold the largest request (" + ReflexHeader.MAX_BYTES
                        + " bytes), got " + bufferBytes);
            }
            if (limits == null) limits = ConnectionLimits.DEFAULTS;
        }

        /** The network path from {@link NetMode#fromProperty()}, default receive buffers. */
        public Config(int index, int maxTenants, int maxRequests, int maxPerConnection, long bufferBytes,
                      int schedulerQueue, PollMode pollMode, int cpu, int submitBatch, ConnectionLimits limits) {
            this(index, maxTenants, maxRequests, maxPerConnection, bufferBytes, schedulerQueue, pollMode, cpu, submitBatch,
                    limits, null, 0);
        }

        /** Default connection limits. */
        public Config(int index, int maxTenants, int maxRequests, int maxPerConnection, long bufferBytes,
                      int schedulerQueue, PollMode pollMode, int cpu, int submitBatch) {
            this(index, maxTenants, maxRequests, maxPerConnection, bufferBytes, schedulerQueue, pollMode, cpu, submitBatch,
                    ConnectionLimits.DEFAULTS);
        }
    }

    /** Connections a listener accepts per readiness event: a connect storm cannot monopolise the loop. */
    static final int ACCEPT_BATCH = 64;
    /** Close messages logged per second; the rest are counted and summarised (a storm must not flood the log). */
    private static final int CLOSE_LOGS_PER_SECOND = 10;
    /** Connections closed on timeouts that a sweep names in the log; the rest are summarised. */
    private static final int EXPIRY_LOGS_PER_SWEEP = 3;

    /** Sessions of one loop that may linger after a close at once ({@link Session#close}); past it a close is immediate. */
    static final int MAX_LINGERING = 1024;

    /** Best of 1, 2, 4, 8, 16 and unbounded at QD32 on this VM's virtio disk (bench/README.md). */
    public static final int DEFAULT_SUBMIT_BATCH = 4;

    /** Told when a connection of a tenant starts or ends on this loop (rate shares follow connections). */
    public interface Listener {
        void connectionOpened(int loop, int slot);

        void connectionClosed(int loop, int slot);
    }

    final int index;
    final RequestTable requests;
    final BufferPool buffers;
    final SocketBuffers socketIn = new SocketBuffers(Session.IN_BUFFER);
    final SocketBuffers socketOut = new SocketBuffers(Session.OUT_BUFFER);
    private final ConnectionStats connectionStats = new ConnectionStats();
    private final SendQueue sendQueue = new SendQueue();
    private final long idleNanos;
    private final long requestNanos;
    private final long sweepNanos;
    private final int keepAliveSeconds;
    private final int maxConnectionBytes;
    private final int maxTenantRequests;
    private final long maxTenantBytes;
    private long lastSweep;
    /** Listeners whose accept failed (e.g. out of file descriptors), re-armed at the next sweep instead of spinning. */
    private final List<SelectionKey> acceptBackoff = new ArrayList<>();
    /** Listeners paused over their tenant's connect rate, each re-armed at its {@link Acceptor#resumeAt}; the earliest. */
    private final List<Acceptor> ratePaused = new ArrayList<>();
    private long nextResume;
    private long closeLogWindow;
    private int closeLogs;
    private int closeLogsSuppressed;
    private final IoQueue io;
    private final TokenScheduler scheduler;
    private final DeviceModel model;
    private final Selector selector;
    private final PollMode pollMode;
    private final int cpu;
    private final int maxPerConnection;
    private final int submitBatch;
    /**
     * Blocking mode on a ring shared with the network: the iteration ends in one enter that submits and waits, so a
     * request reaching an idle device goes with it instead of costing an enter of its own (one system call less per
     * request at QD1; {@link UringNet#FOLD_SUBMIT}).
     */
    private final boolean foldIdleSubmit;
    /** Requests prepared on the device queue since its last submit. */
    private int unsubmitted;
    private final Listener listener;
    private final LoopTenant[] tenants;
    /** The io_uring network path, or null: epoll (the selector then holds every connection, not only listeners). */
    final UringNet uringNet;
    private final ManyToOneConcurrentArrayQueue<Runnable> control = new ManyToOneConcurrentArrayQueue<>(4096);
    /** Open sessions; {@link Session#index} is each one's position (swap-remove on close). */
    private Session[] sessions = new Session[64];
    private int sessionCount;
    /** {@link #sessionCount}, readable from other threads. */
    private volatile int openSessions;
    private Session[] dirty = new Session[64];
    private int dirtyCount;
    private Session[] pausedList = new Session[64];
    private int pausedCount;
    /** Sessions lingering after a close, and the buffer their input is read into and discarded (one for all). */
    private int lingering;
    private final java.nio.ByteBuffer lingerSink = java.nio.ByteBuffer.allocateDirect(64 * 1024);
    private final Consumer<SelectionKey> onKey = this::onKey;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean stopped;
    /** Loop time of this iteration; request arrival time for latency (refreshed after a blocking select). */
    long now;
    private boolean blockedInSelect;
    /** A listener's interest changed outside a select (io_uring path: select next iteration to apply it). */
    private boolean listenersChanged;
    private long lastWork;
    private int keysThisRound;
    /** Requests waiting in the scheduler for tokens. */
    private int queued;

    public DataplaneLoop(Config config, IoQueue io, TokenScheduler scheduler, DeviceModel model, Listener listener) {
        this.index = config.index();
        this.io = io;
        this.scheduler = scheduler;
        this.model = model;
        this.listener = listener;
        this.pollMode = config.pollMode();
        this.cpu = config.cpu();
        this.maxPerConnection = config.maxPerConnection();
        this.submitBatch = config.submitBatch();
        ConnectionLimits limits = config.limits();
        this.idleNanos = limits.idleNanos();
        this.requestNanos = limits.requestNanos();
        this.sweepNanos = limits.sweepNanos();
        this.keepAliveSeconds = (int) limits.keepAlive().toSeconds();
        this.maxConnectionBytes = (int) limits.maxConnectionBytes();
        this.maxTenantRequests = Math.max(1, config.maxRequests() / 2);
        this.maxTenantBytes = Math.max(ConnectionLimits.MIN_CONNECTION_BYTES, config.bufferBytes() / 2);
        this.requests = new RequestTable(config.maxRequests());
        this.buffers = new BufferPool(io::allocateBuffer, config.bufferBytes());
        this.tenants = new LoopTenant[config.maxTenants()];
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.uringNet = openUringNet(config, io);
        this.foldIdleSubmit = uringNet != null && uringNet.shared() && pollMode.spinNanos == 0 && UringNet.FOLD_SUBMIT;
        this.thread = Thread.ofPlatform().name("reflex-dp-" + index).daemon(true).unstarted(this);
    }

    @Override
    public void start() { thread.start(); }

    private UringNet openUringNet(Config config, IoQueue io) {
        if (!config.net().useUring()) return null; // --net uring where it cannot work throws there, with the reason
        try {
            return UringNet.open(this, io, selector, config.recvBuffers());
        } catch (RuntimeException e) {
            if (config.net() == NetMode.URING) throw new IllegalStateException("--net uring: " + e.getMessage(), e);
            log("io_uring network path failed to start (" + e.getMessage() + "); using epoll");
            return null;
        }
    }

    /** The network path in use, for the start-up summary and tests: "io_uring (…)" or "epoll". */
    @Override
    public String netPath() {
        if (uringNet == null) return "epoll";
        return (uringNet.shared() ? "io_uring, sharing the device ring" : "io_uring, own ring") + ", " + uringNet.describe()
                + (foldIdleSubmit ? ", device submit folded into the wait" : "");
    }

    /** Run {@code task} on this loop's thread (cold path: config changes, new connections). */
    @Override
    public void execute(Runnable task) {
        if (Thread.currentThread() == thread) {
            // The loop feeding itself (a connection event re-pushing rate shares): never wait for a queue that only
            // this thread drains. Running the older tasks first keeps their order.
            while (!control.offer(task)) drainControl();
            return;
        }
        while (!control.offer(task)) Thread.onSpinWait();
        selector.wakeup();
    }

    @Override
    public void run() {
        if (cpu >= 0 && !Housekeeping.pinLoopThread(cpu)) log("cannot pin to CPU " + cpu + "; running unpinned");
        try {
            if (uringNet != null) runUring(uringNet);
            else runEpoll();
        } finally {
            if (cpu >= 0) Housekeeping.loopEnded();
        }
    }

    private void runEpoll() {
        int epollFd = SelectorFd.epollFd(selector);
        if (epollFd >= 0) io.wakeOnReadable(epollFd); // a wait for the device also ends when a request arrives
        try {
            while (running) {
                now = System.nanoTime();
                int work = drainControl();
                if (keysThisRound < 0) {
                    keysThisRound = 0; // keys were just handled by a blocking select
                } else {
                    work += selector.selectNow(onKey);
                }
                work += resumeListeners();
                work += scheduler.schedule(now, this);
                // every iteration, not only after new requests: a transiently refused submit stays queued
                if (io.inFlight() > 0) submit();
                work += io.reap(this, 1024);
                work += resumePaused();
                work += flushDirty();
                if (now - lastSweep >= sweepNanos) sweep();
                idle(work);
            }
        } catch (Throwable t) {
            System.err.println("reflex-dp-" + index + ": loop died: " + t);
            t.printStackTrace();
        } finally {
            shutdown();
        }
    }

    /**
     * The io_uring iteration: reap (device and network on a shared ring), accept if the selector's poll fired, schedule
     * and dispatch, encode replies, then one io_uring_enter for everything prepared — none when nothing was.
     */
    private void runUring(UringNet net) {
        try {
            while (running) {
                now = System.nanoTime();
                int controlWork = drainControl();
                int work = controlWork + resumeListeners();
                work += io.reap(this, 1024); // on a shared ring this hands network completions to net too
                work += net.reap();
                // The selector holds only listeners. It applies registrations and interest changes (control tasks, the
                // sweep's accept back-off) only inside a select, and a wake-up arriving during one is absorbed by it:
                // select whenever its poll fired or something may have changed it.
                if (net.takeWake() || controlWork > 0 || listenersChanged) {
                    listenersChanged = false;
                    work += 1 + selector.selectNow(onKey);
                }
                work += scheduler.schedule(now, this);
                work += resumePaused();
                work += flushDirty();
                net.retry();
                net.armWake();
                if (now - lastSweep >= sweepNanos) sweep();
                // Blocking mode with nothing left that does not arrive as a completion: the next iteration would only
                // wait, so submit this one's requests in the same io_uring_enter as the wait.
                boolean waitNow = pollMode.spinNanos == 0 && net.ring().cqReady() == 0 && control.isEmpty()
                        && !net.wakePending() && (net.shared() || io.inFlight() == 0);
                unsubmitted = 0;
                if (!waitNow) {
                    if (!net.shared() && io.inFlight() > 0) io.submit();
                    net.submit();
                }
                net.closeDeferred(); // sockets closed this iteration, now that the ring has every SQE naming them
                if (waitNow) {
                    if (work > 0) lastWork = now;
                    net.await(untilResume(queued > 0 ? 50_000 : 100_000_000));
                } else {
                    idleUring(net, work);
                }
            }
        } catch (Throwable t) {
            System.err.println("reflex-dp-" + index + ": loop died: " + t);
            t.printStackTrace();
        } finally {
            shutdown();
        }
    }

    private void idleUring(UringNet net, int work) {
        if (work > 0) {
            lastWork = now;
            return;
        }
        if (now - lastWork < pollMode.spinNanos) {
            pollMode.spinOnce();
            return;
        }
        // Any completion ends the wait: network, the selector's poll (listeners, other threads), the device when the
        // ring is shared. Tokens accrue without one; another engine's device completions do not reach this ring.
        long timeout = queued > 0 ? 50_000 : !net.shared() && io.inFlight() > 0 ? 200_000 : 100_000_000;
        net.await(untilResume(timeout));
    }

    private void idle(int work) {
        if (work > 0) {
            lastWork = now;
            return;
        }
        if (now - lastWork < pollMode.spinNanos) {
            pollMode.spinOnce();
            return;
        }
        try {
            if (io.inFlight() > 0) {
                io.awaitCompletion(200_000);
            } else if (queued > 0) {
                LockSupport.parkNanos(50_000); // waiting for tokens to accrue
            } else {
                blockedInSelect = true; // requests parsed inside select must not take the pre-block timestamp
                int n = selector.select(onKey, Math.max(1, (untilResume(100_000_000) + 999_999) / 1_000_000));
                blockedInSelect = false;
                if (n > 0) keysThisRound = -1;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int drainControl() {
        return control.drain(Runnable::run, 64);
    }

    private void onKey(SelectionKey key) {
        if (blockedInSelect) now = System.nanoTime();
        Object a = key.attachment();
        if (!key.isValid()) return;
        if (a instanceof Session c) {
            if (c.lingering) {
                if (key.isReadable()) c.drainLinger(lingerSink);
                return;
            }
            if (key.isWritable()) c.flush();
            if (key.isValid() && key.isReadable()) c.onReadable();
        } else if (a instanceof Acceptor acc) {
            if (!acc.accept(ACCEPT_BATCH, now)) {
                // Out of file descriptors (or similar): the pending connection stays in the backlog and the key stays
                // ready, so retrying now would spin. Retry at the next sweep.
                connectionStats.onAcceptFailed();
                key.interestOps(0);
                acceptBackoff.add(key);
            }
        }
    }

    // ---- requests ----------------------------------------------------------------------------------------------

    /** A parsed request (with its payload, for SET) goes to the scheduler. */
    void enqueue(int id) {
        Session c = requests.connection[id];
        int op = requests.opcode[id];
        // A FLUSH costs one read unit: it occupies the device briefly and must not bypass the scheduler.
        long cost = op == Opcode.FLUSH ? model.readCost4k() : model.requestCost(op == Opcode.SET, requests.length[id]);
        if (scheduler.enqueue(c.tenant.slot, id, cost)) {
            queued++;
        } else {
            requests.status[id] = Status.EBUSY;
            c.tenant.stats.rejected();
            c.respond(id);
        }
    }

    @Override
    public boolean dispatch(int tenantSlot, long request) {
        int id = (int) request;
        Session c = requests.connection[id];
        if (c == null || c.closed) {
            queued--;
            release(id); // client gone: skip the device
            return true;
        }
        int op = requests.opcode[id];
        // The engine boundary: nothing reaches the device outside the tenant's LBA window. Tests run with -ea;
        // without it the JIT drops the check (a static final flag), so the hot path pays nothing.
        assert op == Opcode.FLUSH || inTenantExtent(id, c.tenant);
        boolean ok = switch (op) {
            case Opcode.GET -> io.prepRead(id, requests.deviceOffset[id], buffers.segment(requests.buffer[id]), requests.length[id]);
            case Opcode.SET -> io.prepWrite(id, requests.deviceOffset[id], buffers.segment(requests.buffer[id]), requests.length[id]);
            case Opcode.FLUSH -> io.prepFlush(id);
            default -> throw new IllegalStateException("opcode " + op + " reached the device");
        };
        if (ok) {
            queued--;
            // inFlight() == unsubmitted: nothing else is at the device, so it would idle until our submit (unless the
            // iteration's closing enter, a few µs away, submits it: foldIdleSubmit)
            if (++unsubmitted >= submitBatch || (io.inFlight() == unsubmitted && !foldIdleSubmit)) submit();
        }
        return ok;
    }

    /** Request {@code id}'s device range lies inside tenant {@code t}'s window (overflow-safe); else AssertionError. */
    private boolean inTenantExtent(int id, LoopTenant t) {
        long offset = requests.deviceOffset[id], start = t.baseSector << ReflexHeader.SECTOR_SHIFT;
        long size = t.sectors << ReflexHeader.SECTOR_SHIFT;
        int length = requests.length[id];
        if (length > 0 && offset >= start && offset - start <= size - length) return true;
        throw new AssertionError(Opcode.name(requests.opcode[id]) + " of " + length + " bytes at device offset " + offset
                + " is outside tenant " + t.name + "'s extent [" + start + ", " + (start + size) + ")");
    }

    private void submit() {
        unsubmitted = 0;
        io.submit();
    }

    @Override
    public void onComplete(long userData, int result) {
        int id = (int) userData;
        Session c = requests.connection[id];
        int op = requests.opcode[id];
        boolean ok = op == Opcode.FLUSH ? result >= 0 : result == requests.length[id];
        if (c == null || c.closed) {
            release(id);
            return;
        }
        requests.status[id] = ok ? Status.OK : Status.EIO;
        if (!ok) log("tenant " + c.tenant.name + ": device error " + result + " on " + Opcode.name(op) + " at lba " + requests.lba[id]);
        if (op == Opcode.FLUSH) c.tenant.stats.flushed();
        else c.tenant.stats.completed(op == Opcode.SET, requests.length[id], System.nanoTime() - requests.startNanos[id], ok);
        c.respond(id);
    }

    void release(int id) {
        Session c = requests.connection[id];
        int buf = requests.buffer[id];
        if (c != null) {
            c.held--;
            if (requests.tenantHeld[id]) {
                requests.tenantHeld[id] = false;
                c.tenant.held--;
            }
            if (buf >= 0) {
                c.heldBytes -= buffers.bytes(buf);
                c.tenant.heldBytes -= buffers.bytes(buf);
            }
        }
        if (buf >= 0) buffers.release(buf);
        requests.release(id);
    }

    void dirty(Session c) {
        if (dirtyCount == dirty.length) dirty = java.util.Arrays.copyOf(dirty, dirtyCount * 2);
        dirty[dirtyCount++] = c;
    }

    void paused(Session c) {
        if (pausedCount == pausedList.length) pausedList = java.util.Arrays.copyOf(pausedList, pausedCount * 2);
        pausedList[pausedCount++] = c;
    }

    private int flushDirty() {
        int n = dirtyCount;
        for (int i = 0; i < dirtyCount; i++) {
            dirty[i].flush();
            dirty[i] = null;
        }
        dirtyCount = 0;
        return n;
    }

    private int resumePaused() {
        if (pausedCount == 0 || requests.inUse() == requests.capacity()) return 0;
        int n = pausedCount;
        pausedCount = 0;
        for (int i = 0; i < n; i++) { // the list is rebuilt in place: re-adds land on slots already visited
            Session c = pausedList[i];
            pausedList[i] = null;
            if (c.closed) continue;
            if (c.full()) {
                pausedList[pausedCount++] = c; // still at its own or its tenant's bound: nothing to retry yet
                continue;
            }
            c.resume(); // may pause again (re-added to the list)
        }
        return 0;
    }

    // ---- control (cold path, on this thread via execute) --------------------------------------------------------

    /** Install or update a tenant on this loop (its port is its listener's: see {@link #listen}). */
    @Override
    public void setTenant(int slot, io.reflex.dataplane.tenant.TenantSpec spec, io.reflex.dataplane.metrics.TenantStats stats) {
        setTenant(slot, spec.name(), spec.lbaBase(), spec.lbaCount(), spec.token(), stats);
    }

    /** Install or update a tenant on this loop. */
    public void setTenant(int slot, String name, long baseSector, long sectors, String token,
                          io.reflex.dataplane.metrics.TenantStats stats) {
        execute(() -> {
            LoopTenant t = tenants[slot];
            if (t != null && t.name.equals(name) && t.stats == stats) {
                t.update(baseSector, sectors, token);
            } else {
                tenants[slot] = new LoopTenant(slot, name, baseSector, sectors, token, stats);
            }
        });
    }

    /** Close the tenant's connections, fail its queued requests, free its slot on this loop. */
    @Override
    public void removeTenant(int slot) {
        execute(() -> {
            LoopTenant t = tenants[slot];
            if (t == null) return;
            t.removed = true;
            for (int i = sessionCount - 1; i >= 0; i--) { // backwards: a close moves the last session into slot i
                if (i < sessionCount && sessions[i].tenant == t) sessions[i].close(CloseReason.TENANT_REMOVED, "tenant removed");
            }
            scheduler.drain(slot, (s, request) -> {
                queued--;
                release((int) request);
                return true;
            });
            scheduler.clear(slot);
            tenants[slot] = null;
        });
    }

    /** Serve accepted connections of a listener from this loop, whatever their rate and number. */
    public void listen(ServerSocketChannel server, int slot, ConnectionPlacement placement) {
        listen(server, slot, null, placement);
    }

    /**
     * Serve accepted connections of a tenant's listener from this loop, within its {@code admission} (null: no
     * limits): over its connect rate or at its connection cap, the listener is not accepted from until it is back
     * within them.
     */
    public void listen(ServerSocketChannel server, int slot, TenantAdmission admission, ConnectionPlacement placement) {
        execute(() -> {
            try {
                server.configureBlocking(false);
                Acceptor acc = new Acceptor(this, server, slot, admission, placement);
                acc.key = server.register(selector, SelectionKey.OP_ACCEPT, acc);
                if (admission != null) admission.onBelowCap(() -> {
                    if (isRunning()) execute(() -> resume(acc, TenantAdmission.Reason.MAX_CONNECTIONS));
                });
            } catch (IOException e) {
                log("cannot listen for slot " + slot + ": " + e.getMessage());
            }
        });
    }

    /** Re-arm listener {@code acc} at {@code at}: its tenant's bucket holds a token again then. */
    void resumeAt(Acceptor acc, long at) {
        acc.resumeAt = at;
        if (ratePaused.isEmpty() || at - nextResume < 0) nextResume = at;
        ratePaused.add(acc);
    }

    /** Re-arms the rate-paused listeners whose time has come (one comparison per iteration while none has). */
    private int resumeListeners() {
        if (ratePaused.isEmpty() || now - nextResume < 0) return 0;
        int resumed = 0;
        for (int i = ratePaused.size() - 1; i >= 0; i--) {
            Acceptor acc = ratePaused.get(i);
            if (now - acc.resumeAt < 0) continue;
            ratePaused.set(i, ratePaused.getLast()); // swap-remove: no shifting, no allocation
            ratePaused.removeLast();
            if (resume(acc, TenantAdmission.Reason.CONNECT_RATE)) resumed++;
        }
        for (int i = 0; i < ratePaused.size(); i++) {
            long at = ratePaused.get(i).resumeAt;
            if (i == 0 || at - nextResume < 0) nextResume = at;
        }
        return resumed;
    }

    private boolean resume(Acceptor acc, TenantAdmission.Reason r) {
        if (!acc.resume(r, now)) return false;
        listenersChanged = true; // io_uring path: the selector applies the interest at its next select
        return true;
    }

    /** {@code nanos}, or less when a paused listener is due sooner: a blocking wait must not oversleep its re-arm. */
    private long untilResume(long nanos) {
        return ratePaused.isEmpty() ? nanos : Math.clamp(nextResume - System.nanoTime(), 1_000, nanos);
    }

    public void unlisten(ServerSocketChannel server) {
        execute(() -> {
            SelectionKey k = server.keyFor(selector);
            if (k != null) k.cancel();
            try {
                server.close();
            } catch (IOException ignored) {
                // already closed
            }
        });
    }

    /** Adopt an accepted ReFlex connection of a tenant. */
    public void adopt(SocketChannel channel, int slot) {
        adopt(channel, slot, (TenantAdmission) null);
    }

    /** Adopt an accepted ReFlex connection of a tenant, counted against {@code admission} (or null) until it ends. */
    public void adopt(SocketChannel channel, int slot, TenantAdmission admission) {
        adopt(channel, slot, (loop, ch, t) -> new Connection(loop, ch, t), admission);
    }

    /**
     * Adopt an accepted connection with the given protocol; {@code slot} -1 when the protocol's handshake names the
     * tenant later (the session then calls {@link Session#bind}).
     */
    void adopt(SocketChannel channel, int slot, SessionFactory factory) {
        adopt(channel, slot, factory, null);
    }

    private void adopt(SocketChannel channel, int slot, SessionFactory factory, TenantAdmission admission) {
        Runnable task = () -> adoptNow(channel, slot, factory, admission);
        // Accepted by this loop's own acceptor: adopt at once. Through the control queue, an accept burst larger than
        // the queue would wait for the queue to drain, i.e. for itself.
        if (Thread.currentThread() == thread) task.run();
        else execute(task);
    }

    private void adoptNow(SocketChannel channel, int slot, SessionFactory factory, TenantAdmission admission) {
        LoopTenant t = slot < 0 ? null : tenants[slot];
        if (slot >= 0 && (t == null || t.removed)) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // gone anyway
            }
            if (admission != null) admission.released();
            return;
        }
        Session c = null;
        try {
            channel.configureBlocking(false);
            channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            KeepAlive.apply(channel, keepAliveSeconds);
            c = factory.create(this, channel, t);
            c.fd = SendQueue.fd(channel);
            if (uringNet == null) {
                c.key = channel.register(selector, SelectionKey.OP_READ, c);
            } else if (c.fd < 0) {
                throw new IOException("no descriptor for the socket");
            } else {
                uringNet.register(c);
            }
        } catch (IOException e) {
            if (closeLogAllowed()) log("cannot adopt connection: " + e.getMessage()); // e.g. the peer already reset it
            if (c != null) {
                c.tenant = null; // never counted as open
                c.close(CloseReason.IO_ERROR, null);
            } else {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // gone anyway
                }
            }
            if (admission != null) admission.released();
            return;
        }
        c.admission = admission;
        if (sessionCount == sessions.length) sessions = java.util.Arrays.copyOf(sessions, sessionCount * 2);
        c.index = sessionCount;
        sessions[sessionCount++] = c;
        openSessions = sessionCount;
        connectionStats.onOpened();
        if (t != null) listener.connectionOpened(index, slot);
    }

    void sessionClosed(Session c, CloseReason reason) {
        sessionRemoved(c, reason);
        sessionEnded(c);
    }

    /** Whether another closed session may linger now. */
    boolean mayLinger() { return lingering < MAX_LINGERING; }

    /** A session closed and lingers: it no longer serves its tenant, but its socket stays open (and counted). */
    void lingerStarted(Session c) {
        lingering++;
        sessionEnded(c);
    }

    /** A lingering session closed its socket. */
    void lingerEnded(Session c, CloseReason reason) {
        lingering--;
        sessionRemoved(c, reason);
    }

    /** Its tenant lets the session go (rate shares follow connections; so does its admission's count). */
    private void sessionEnded(Session c) {
        if (c.admission != null) {
            c.admission.released();
            c.admission = null;
        }
        if (c.tenant != null) listener.connectionClosed(index, c.tenant.slot);
    }

    /** The session's socket is closed: out of the loop's set, counted closed. */
    private void sessionRemoved(Session c, CloseReason reason) {
        int i = c.index;
        if (i >= 0 && i < sessionCount && sessions[i] == c) { // else never adopted (tests drive sessions directly)
            Session last = sessions[--sessionCount];
            sessions[i] = last;
            last.index = i;
            sessions[sessionCount] = null;
            c.index = -1;
            openSessions = sessionCount;
            connectionStats.onClosed(reason);
        }
    }

    // ---- timeouts and housekeeping (about once a second, or a quarter of the shortest timeout) --------------------

    /** Close connections past a timeout, end lingers past theirs, re-arm backed-off listeners, return unused socket buffers, publish gauges. */
    private void sweep() {
        lastSweep = now;
        if (!acceptBackoff.isEmpty()) {
            for (int i = 0; i < acceptBackoff.size(); i++) {
                SelectionKey k = acceptBackoff.get(i);
                if (k.isValid()) k.interestOps(SelectionKey.OP_ACCEPT);
            }
            acceptBackoff.clear();
            listenersChanged = true;
        }
        int expired = 0, blocked = 0;
        for (int i = sessionCount - 1; i >= 0; i--) { // backwards: a close moves the last session into slot i
            if (i >= sessionCount) continue; // a close's listener ran control tasks that closed more
            Session s = sessions[i];
            if (s.lingering) {
                if (now - s.lingerSince >= Session.LINGER_NANOS) s.endLinger();
                continue;
            }
            CloseReason r = s.expired(now, idleNanos, requestNanos, sendQueue);
            if (r != null) {
                if (expired++ < EXPIRY_LOGS_PER_SWEEP) log(s.label() + ": closing connection from " + s.remote() + ": " + r.label());
                s.close(r, null);
            } else if (s.sendBlocked) {
                blocked++;
            }
        }
        if (expired > EXPIRY_LOGS_PER_SWEEP) log("closed " + (expired - EXPIRY_LOGS_PER_SWEEP) + " more connections on timeouts (reflex_connections_closed_total)");
        socketIn.trim();
        socketOut.trim();
        connectionStats.onSweep(blocked, socketIn.bytes() + socketOut.bytes(), requests.inUse(), buffers.allocatedBytes());
        if (now - closeLogWindow >= 1_000_000_000L) {
            if (closeLogsSuppressed > 0) log(closeLogsSuppressed + " more connection-close messages suppressed");
            closeLogWindow = now;
            closeLogs = 0;
            closeLogsSuppressed = 0;
        }
    }

    /** Whether a close message may be logged now (rate-limited per loop; asked before the message is built). */
    boolean closeLogAllowed() {
        if (closeLogs++ < CLOSE_LOGS_PER_SECOND) return true;
        closeLogsSuppressed++;
        return false;
    }

    void sessionBound(Session c) {
        listener.connectionOpened(index, c.tenant.slot);
    }

    /** The live tenant with this name on this loop, or null (cold path: handshakes). */
    LoopTenant tenantByName(String name) {
        for (LoopTenant t : tenants) if (t != null && !t.removed && t.name.equals(name)) return t;
        return null;
    }

    /** Tenant slots on this loop, for {@link #tenantAt} (cold path: NBD export listing). */
    int tenantSlots() { return tenants.length; }

    /** The tenant in a slot on this loop, or null. */
    LoopTenant tenantAt(int slot) { return tenants[slot]; }

    int maxPerConnection() { return maxPerConnection; }

    int maxConnectionBytes() { return maxConnectionBytes; }

    /** Request slots one tenant may hold on this loop: half, so a tenant that stops reading cannot take them all. */
    int maxTenantRequests() { return maxTenantRequests; }

    /** I/O buffer bytes one tenant may hold on this loop: half of the pool's cap, for the same reason. */
    long maxTenantBytes() { return maxTenantBytes; }

    /** This loop's connection counters (metrics). */
    public ConnectionStats connectionStats() { return connectionStats; }

    @Override
    public int index() { return index; }

    /** The loop thread's id (tests and benchmarks read its CPU time and allocations). */
    @Override
    public long threadId() { return thread.threadId(); }

    @Override
    public boolean isRunning() { return running && !stopped && thread.isAlive(); }

    public int connectionCount() { return openSessions; }

    @Override
    public TokenScheduler scheduler() { return scheduler; }

    @Override
    public IoQueue io() { return io; }

    void log(String message) {
        System.err.println("reflex-dp-" + index + ": " + message);
    }

    /** Stop the loop; waits for it to close its connections and device queue. */
    @Override
    public void stop() {
        running = false;
        selector.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shutdown() {
        if (stopped) return;
        stopped = true;
        while (sessionCount > 0) sessions[sessionCount - 1].close(CloseReason.SHUTDOWN, null);
        if (uringNet != null) uringNet.close(); // waits for the cancelled receives and sends; before the ring goes
        io.finish(this, 5_000_000_000L); // writes already at the device complete before the queue (and its buffers) go away
        for (SelectionKey k : selector.keys()) {
            try {
                k.channel().close();
            } catch (IOException ignored) {
                // best effort
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // best effort
        }
        socketIn.close();
        socketOut.close();
        io.close();
    }
}

package io.reflex.dataplane.dpdk;

import static io.reflex.dataplane.dpdk.Native.ALL;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.net.LoopControl;
import io.reflex.dataplane.qos.Dispatcher;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.CompletionHandler;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.dataplane.tenant.AccessToken;
import io.reflex.dataplane.tenant.TenantSpec;
import io.reflex.devmodels.DeviceModel;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.RequestCheck;
import io.reflex.protocol.Status;
import io.reflex.protocol.UdpFraming;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.concurrent.locks.LockSupport;

/**
 * One DPDK poll loop, run to completion on its own RX/TX queue pair: receive a burst, answer ARP, parse each ReFlex
 * request datagram, hand it to this loop's token scheduler, dispatch to this loop's device queue, reap completions and
 * send each reply, built in place in its request's mbuf, in one TX burst per iteration.
 *
 * <p>Nothing here allocates on the heap or locks per packet: mbufs are addressed through {@link Native#ALL}, requests
 * live in preallocated arrays ({@link UdpRequests}), and the only other threads' way in is the control queue
 * ({@link #execute}). Malformed frames are dropped with a counter ({@link Drop}); nothing a peer sends can throw.
 */
public final class UdpLoop implements Runnable, Dispatcher, CompletionHandler, LoopControl {
    static final int RX_BURST = 32;
    private static final int TX_CAPACITY = 256;
    private static final int FREE_CAPACITY = 256;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Where the ReFlex header and its data sit in a frame. */
    private static final int RFX = Frames.PAYLOAD;
    private static final int DATA = RFX + ReflexHeader.LENGTH;
    /** ADAPTIVE: spin this long after the last work, then park in short naps (there is no fd to sleep on). */
    private static final long SPIN_NANOS = 100_000;
    private static final long NAP_NANOS = 20_000;
    /** Longest wait for the device while it has requests and the network has none. */
    private static final long DEVICE_WAIT_NANOS = 20_000;

    /** How an idle loop waits. */
    public enum Idle { BUSY, YIELD, ADAPTIVE }

    /**
     * @param maxDataBytes largest request/reply data per datagram (from the MTU); each request id owns a buffer this size
     * @param dropReplyEvery test hook: every N-th reply of a device-completed request is dropped (0: never)
     */
    public record Config(int index, int maxTenants, int maxRequests, int maxClients, int maxDataBytes, Idle idle, int cpu,
                         int dropReplyEvery) {}

    private final int index;
    private final FpOps.Burst rx;
    private final FpOps.Burst tx;
    private final long ourMac;
    private final int ourIp;
    private final int maxDataBytes;
    private final IoQueue io;
    private final TokenScheduler scheduler;
    private final DeviceModel model;
    private final Idle idleMode;
    private final int cpu;
    private final int dropReplyEvery;
    private int repliesUntilDrop;

    private final Arena arena = Arena.ofShared();
    private final long rxArray;
    private final long txArray;
    private int txCount;
    private final long freeArray;
    private int freeCount;

    private final UdpRequests requests;
    private final ClientTable clients;
    private final UdpTenant[] tenants;
    private final UdpTenant[] byPort = new UdpTenant[65536];
    private final MessageDigest sha = AccessToken.sha256();

    final Counters<Drop> drops = new Counters<>(Drop.class);
    final Counters<Count> counts = new Counters<>(Count.class);

    private final ManyToOneConcurrentArrayQueue<Runnable> control = new ManyToOneConcurrentArrayQueue<>(1024);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean stopped;
    private long now;
    private long lastWork;
    private int queued;
    private int unsubmitted;

    public UdpLoop(Config config, FpOps.Burst rx, FpOps.Burst tx, long ourMac, int ourIp, IoQueue io,
                   TokenScheduler scheduler, DeviceModel model) {
        this.index = config.index();
        this.rx = rx;
        this.tx = tx;
        this.ourMac = ourMac;
        this.ourIp = ourIp;
        this.maxDataBytes = config.maxDataBytes();
        this.io = io;
        this.scheduler = scheduler;
        this.model = model;
        this.idleMode = config.idle();
        this.cpu = config.cpu();
        this.dropReplyEvery = config.dropReplyEvery();
        this.repliesUntilDrop = dropReplyEvery;
        this.rxArray = arena.allocate(8L * RX_BURST, 64).address();
        this.txArray = arena.allocate(8L * TX_CAPACITY, 64).address();
        this.freeArray = arena.allocate(8L * FREE_CAPACITY, 64).address();
        int bufferBytes = (config.maxDataBytes() + 4095) & ~4095;
        this.requests = new UdpRequests(config.maxRequests(), io.allocateBuffer((long) bufferBytes * config.maxRequests()), bufferBytes);
        this.clients = new ClientTable(config.maxClients());
        this.tenants = new UdpTenant[config.maxTenants()];
        this.thread = Thread.ofPlatform().name("reflex-dpdk-" + index).daemon(true).unstarted(this);
    }

    @Override
    public void start() { thread.start(); }

    /** Runs {@code task} on the loop thread (cold path: tenants, rates). */
    @Override
    public void execute(Runnable task) {
        if (Thread.currentThread() == thread) {
            task.run();
            return;
        }
        while (!control.offer(task)) Thread.onSpinWait();
    }

    @Override
    public void run() {
        if (cpu >= 0 && !Pinning.pin(cpu)) log("cannot pin to CPU " + cpu);
        Eal.registerThread(); // an lcore id: mempool per-lcore caches instead of the shared ring
        try {
            while (running) {
                now = System.nanoTime();
                int work = control.drain(Runnable::run, 16);
                int n = rx.call(rxArray, RX_BURST);
                for (int i = 0; i < n; i++) receive(ALL.get(ValueLayout.JAVA_LONG, rxArray + 8L * i));
                work += n;
                work += scheduler.schedule(now, this);
                if (unsubmitted > 0) submit();
                work += io.reap(this, 1024);
                flushTx();
                flushFree();
                idle(work);
            }
        } catch (Throwable t) {
            System.err.println("reflex-dpdk-" + index + ": loop died: " + t);
            t.printStackTrace();
        } finally {
            shutdown();
        }
    }

    private void idle(int work) {
        if (work > 0) {
            lastWork = now;
            return;
        }
        if (io.inFlight() > 0) {
            // Waiting for the device only: sleep in the engine's wait (io_uring_enter) for at most DEVICE_WAIT_NANOS, so its
            // helpers run (io-wq workers share our CPU on a small node; a spinning loop starves them for a scheduler
            // slice: p99 1.6 ms at QD1 measured). The RX queue is polled again after at most that long.
            io.awaitCompletion(DEVICE_WAIT_NANOS);
            return;
        }
        switch (idleMode) {
            case BUSY -> Thread.onSpinWait();
            case YIELD -> Thread.yield();
            case ADAPTIVE -> {
                if (now - lastWork < SPIN_NANOS || queued > 0) Thread.onSpinWait();
                else LockSupport.parkNanos(NAP_NANOS);
            }
        }
    }

    // ---- receive ------------------------------------------------------------------------------------------------

    private void receive(long m) {
        counts.add(Count.RX_FRAMES);
        if (Mbuf.nbSegs(m) != 1) {
            drop(m, Drop.MULTI_SEGMENT);
            return;
        }
        long base = Mbuf.data(m);
        int length = Mbuf.dataLen(m);
        int kind = FrameParser.classify(ALL, base, length, ourMac, ourIp, Mbuf.olFlags(m));
        if (kind < 0) {
            drop(m, FrameParser.reason(kind));
        } else if (kind == FrameParser.ARP_FOR_US) {
            FrameWriter.arpReplyInPlace(ALL, base, ourMac, ourIp);
            Mbuf.setLength(m, length);
            counts.add(Count.ARP_REPLIES);
            send(m);
        } else {
            request(m, base);
        }
    }

    private void request(long m, long base) {
        UdpTenant t = byPort[FrameParser.u16(ALL, base + Frames.UDP_DPORT)];
        if (t == null) {
            drop(m, Drop.NO_TENANT);
            return;
        }
        int payload = FrameParser.u16(ALL, base + Frames.UDP_LEN) - Frames.UDP_HLEN;
        if (payload < ReflexHeader.LENGTH) {
            drop(m, Drop.REFLEX_TRUNCATED);
            return;
        }
        long h = base + RFX;
        int magic = Short.toUnsignedInt(ALL.get(LE16, h + ReflexHeader.MAGIC_OFFSET));
        if (magic != ReflexHeader.MAGIC) {
            drop(m, Drop.REFLEX_BAD_MAGIC);
            return;
        }
        int op = Short.toUnsignedInt(ALL.get(LE16, h + ReflexHeader.OPCODE_OFFSET));
        long handle = ALL.get(LE64, h + ReflexHeader.HANDLE_OFFSET);
        long lba = ALL.get(LE64, h + ReflexHeader.LBA_OFFSET);
        long count = Integer.toUnsignedLong(ALL.get(LE32, h + ReflexHeader.LBA_COUNT_OFFSET));
        counts.add(Count.REQUESTS);
        if (RequestCheck.frame(magic, op, count) != Status.OK) {
            refuse(m, base, Status.EINVAL, t);
            return;
        }
        if (UdpFraming.requestBytes(op, count) != payload) {
            drop(m, Drop.REFLEX_BAD_LENGTH);
            return;
        }
        int peerIp = ALL.get(BE32, base + Frames.IP_SRC);
        long key = ClientTable.key(peerIp, FrameParser.u16(ALL, base + Frames.UDP_SPORT), t.port);
        int client = clients.lookupOrAdd(key, now);
        if (op == Opcode.HELLO) {
            hello(m, base, t, client, (int) count);
            return;
        }
        if (t.tokenDigest != null && !clients.authenticated(client)) {
            refuse(m, base, Status.EAUTH, t);
            return;
        }
        int bytes = (int) (count << ReflexHeader.SECTOR_SHIFT);
        if (op != Opcode.FLUSH) {
            if (bytes > maxDataBytes || Mbuf.room(m) < DATA + bytes) { // larger than one datagram carries at our MTU
                refuse(m, base, Status.EINVAL, t);
                return;
            }
            if (RequestCheck.range(lba, count, t.sectors) != Status.OK) {
                refuse(m, base, Status.ERANGE, t);
                return;
            }
        }
        int pos = -1;
        if (op == Opcode.SET) {
            pos = clients.findWrite(client, handle);
            if (pos >= 0) {
                if (clients.inProgress(client, pos)) {
                    drop(m, Drop.DUPLICATE_IN_PROGRESS);
                } else {
                    counts.add(Count.DUPLICATES_REPLAYED);
                    reply(m, base, clients.status(client, pos), 0);
                }
                return;
            }
        }
        int id = requests.acquire();
        if (id < 0) {
            refuse(m, base, Status.EBUSY, t);
            return;
        }
        requests.mbuf[id] = m;
        requests.tenant[id] = t.slot;
        requests.stats[id] = t.stats;
        requests.opcode[id] = op;
        requests.handle[id] = handle;
        requests.lba[id] = lba;
        requests.length[id] = bytes;
        requests.deviceOffset[id] = (t.baseSector + lba) << ReflexHeader.SECTOR_SHIFT;
        requests.client[id] = client;
        requests.clientGen[id] = clients.generation(client);
        requests.startNanos[id] = now;
        if (op == Opcode.SET) MemorySegment.copy(ALL, base + DATA, requests.buffer[id], 0, bytes);
        long cost = op == Opcode.FLUSH ? model.readCost4k() : model.requestCost(op == Opcode.SET, bytes);
        if (!scheduler.enqueue(t.slot, id, cost)) {
            requests.release(id);
            refuse(m, base, Status.EBUSY, t);
            return;
        }
        queued++;
        if (op == Opcode.SET) requests.windowPos[id] = clients.recordWrite(client, handle);
    }

    /** HELLO over UDP authenticates this client address for the tenant (cold: once per client; may allocate). */
    private void hello(long m, long base, UdpTenant t, int client, int tokenBytes) {
        counts.add(Count.HELLOS);
        int version = (int) ALL.get(LE64, base + RFX + ReflexHeader.LBA_OFFSET);
        int status;
        if (version != Opcode.PROTOCOL_VERSION) {
            status = Status.EINVAL;
        } else if (t.tokenDigest == null) {
            status = Status.OK;
        } else {
            byte[] given = ALL.asSlice(base + DATA, tokenBytes).toArray(ValueLayout.JAVA_BYTE);
            status = AccessToken.matches(sha, given, t.tokenDigest) ? Status.OK : Status.EAUTH;
        }
        clients.authenticate(client, status == Status.OK);
        if (status != Status.OK) counts.add(Count.REFUSED);
        reply(m, base, status, 0);
    }

    private void refuse(long m, long base, int status, UdpTenant t) {
        counts.add(Count.REFUSED);
        t.stats.rejected();
        reply(m, base, status, 0);
    }

    /** Builds the reply in the request's mbuf (data, if any, already at DATA) and queues it for transmit. */
    private void reply(long m, long base, int status, int dataBytes) {
        long h = base + RFX;
        ALL.set(LE32, h + ReflexHeader.STATUS_OFFSET, status);
        ALL.set(LE32, h + ReflexHeader.STATUS_OFFSET + 4, 0);
        ALL.set(LE32, h + ReflexHeader.LBA_COUNT_OFFSET, dataBytes >>> ReflexHeader.SECTOR_SHIFT);
        int length = FrameWriter.udpReplyInPlace(ALL, base, ourMac, ReflexHeader.LENGTH + dataBytes);
        Mbuf.setLength(m, length);
        send(m);
    }

    // ---- device -------------------------------------------------------------------------------------------------

    @Override
    public boolean dispatch(int tenantSlot, long request) {
        int id = (int) request;
        boolean ok = switch (requests.opcode[id]) {
            case Opcode.GET -> io.prepRead(id, requests.deviceOffset[id], requests.buffer[id], requests.length[id]);
            case Opcode.SET -> io.prepWrite(id, requests.deviceOffset[id], requests.buffer[id], requests.length[id]);
            case Opcode.FLUSH -> io.prepFlush(id);
            default -> throw new IllegalStateException("opcode " + requests.opcode[id] + " reached the device");
        };
        if (ok) {
            queued--;
            unsubmitted++;
            counts.add(Count.DEVICE_REQUESTS);
            if (io.inFlight() == unsubmitted) submit(); // the device is idle: start it now
        }
        return ok;
    }

    private void submit() {
        unsubmitted = 0;
        io.submit();
    }

    @Override
    public void onComplete(long userData, int result) {
        int id = (int) userData;
        int op = requests.opcode[id];
        boolean ok = op == Opcode.FLUSH ? result >= 0 : result == requests.length[id];
        int status = ok ? Status.OK : Status.EIO;
        TenantStats s = requests.stats[id];
        if (op == Opcode.FLUSH) s.flushed();
        else s.completed(op == Opcode.SET, requests.length[id], System.nanoTime() - requests.startNanos[id], ok);
        if (op == Opcode.SET) {
            if (ok) counts.add(Count.WRITES_APPLIED);
            clients.completeWrite(requests.client[id], requests.clientGen[id], requests.windowPos[id], requests.handle[id], status);
        }
        long m = requests.mbuf[id];
        long base = Mbuf.data(m);
        int data = op == Opcode.GET && ok ? requests.length[id] : 0;
        if (data > 0) MemorySegment.copy(requests.buffer[id], 0, ALL, base + DATA, data);
        requests.release(id);
        if (dropReplyEvery > 0 && --repliesUntilDrop == 0) {
            repliesUntilDrop = dropReplyEvery;
            drop(m, Drop.INJECTED_REPLY_LOSS);
            return;
        }
        reply(m, base, status, data);
    }

    // ---- transmit and free ----------------------------------------------------------------------------------------

    private void send(long m) {
        if (txCount == TX_CAPACITY) flushTx();
        if (txCount == TX_CAPACITY) {
            drop(m, Drop.TX_FULL);
            return;
        }
        ALL.set(ValueLayout.JAVA_LONG, txArray + 8L * txCount++, m);
    }

    private void flushTx() {
        if (txCount == 0) return;
        int sent = tx.call(txArray, txCount);
        for (int i = 0; i < sent; i++) counts.add(Count.TX_FRAMES);
        if (sent < txCount) { // the rest waits for the next iteration
            MemorySegment.copy(ALL, txArray + 8L * sent, ALL, txArray, 8L * (txCount - sent));
        }
        txCount -= sent;
    }

    private void drop(long m, Drop reason) {
        drops.add(reason);
        if (freeCount == FREE_CAPACITY) flushFree();
        ALL.set(ValueLayout.JAVA_LONG, freeArray + 8L * freeCount++, m);
    }

    private void flushFree() {
        Mempools.freeBulk(freeArray, freeCount);
        freeCount = 0;
    }

    // ---- control (cold path) --------------------------------------------------------------------------------------

    /**
     * Installs or replaces a tenant on this loop, on its UDP port. Clients that said HELLO to the port before must say it
     * again when the tenant there is new or its token changed.
     */
    @Override
    public void setTenant(int slot, TenantSpec spec, TenantStats stats) {
        byte[] digest = spec.token() == null ? null : AccessToken.digest(spec.token());
        UdpTenant t = new UdpTenant(slot, spec.name(), spec.port(), spec.lbaBase(), spec.lbaCount(), digest, stats);
        execute(() -> {
            UdpTenant old = tenants[slot];
            if (old != null && byPort[old.port] == old) byPort[old.port] = null;
            if (old == null || old.port != t.port || !java.util.Arrays.equals(old.tokenDigest, digest)) clients.deauthenticate(t.port);
            tenants[slot] = t;
            byPort[t.port] = t;
        });
    }

    /**
     * Stops serving a tenant: datagrams to its port are dropped ({@link Drop#NO_TENANT}), its queued requests are answered
     * EBUSY, those at the device still complete.
     */
    @Override
    public void removeTenant(int slot) {
        execute(() -> {
            UdpTenant t = tenants[slot];
            if (t == null) return;
            if (byPort[t.port] == t) byPort[t.port] = null;
            clients.deauthenticate(t.port);
            scheduler.drain(slot, (s, request) -> {
                int id = (int) request;
                queued--;
                long m = requests.mbuf[id];
                requests.release(id);
                reply(m, Mbuf.data(m), Status.EBUSY, 0);
                return true;
            });
            scheduler.clear(slot);
            tenants[slot] = null;
        });
    }

    public Counters<Drop> drops() { return drops; }

    public Counters<Count> counts() { return counts; }

    @Override
    public int index() { return index; }

    @Override
    public long threadId() { return thread.threadId(); }

    @Override
    public boolean isRunning() { return running && !stopped && thread.isAlive(); }

    @Override
    public TokenScheduler scheduler() { return scheduler; }

    @Override
    public IoQueue io() { return io; }

    @Override
    public String netPath() { return "dpdk"; }

    /** Stops the loop; waits for requests at the device to finish, frees every mbuf it holds. */
    @Override
    public void stop() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shutdown() {
        if (stopped) return;
        stopped = true;
        try {
            io.finish(this, 5_000_000_000L);
            for (int s = 0; s < tenants.length; s++) {
                if (tenants[s] == null) continue;
                scheduler.drain(s, (slot, request) -> {
                    int id = (int) request;
                    drop(requests.mbuf[id], Drop.TX_FULL);
                    requests.release(id);
                    return true;
                });
            }
            flushTx();
            for (int i = 0; i < txCount; i++) drop(ALL.get(ValueLayout.JAVA_LONG, txArray + 8L * i), Drop.TX_FULL);
            txCount = 0;
            flushFree();
        } finally {
            Eal.unregisterThread();
            io.close();
            arena.close();
        }
    }

    private void log(String message) {
        System.err.println("reflex-dpdk-" + index + ": " + message);
    }
}

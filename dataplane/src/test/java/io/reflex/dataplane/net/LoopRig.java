package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.qos.GlobalBucket;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.CompletionHandler;
import io.reflex.dataplane.storage.EngineOptions;
import io.reflex.dataplane.storage.Engines;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.dataplane.storage.StorageEngine;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One real {@link DataplaneLoop} serving loopback listeners for {@code n} best-effort tenants with unlimited rates,
 * each a window of a shared memory device, as the dataplane sets them up; its device queue can hold back the
 * completions of requests in a byte range of the device ({@link #hold}) so that they keep their I/O buffers until the
 * test lets them finish — deterministic buffer-pool states without timing. Plus a blocking raw client (legacy framing).
 */
final class LoopRig implements AutoCloseable {
    static final long DEVICE = 64L << 20;

    final StorageEngine engine;
    final GatedQueue queue;
    final DataplaneLoop loop;
    final int tenants;
    final long tenantSectors;
    private final ServerSocketChannel[] servers;

    /** Production-sized request table (4,096) and scheduler queues; {@code maxPerConnection} requests per connection. */
    LoopRig(int tenants, long poolBytes, int maxPerConnection, ConnectionLimits limits) {
        this(tenants, poolBytes, maxPerConnection, limits, null, 0);
    }

    /** On network path {@code net} (null: the reflex.net property), {@code recvBuffers} io_uring receive buffers (0: default). */
    LoopRig(int tenants, long poolBytes, int maxPerConnection, ConnectionLimits limits, NetMode net, int recvBuffers) {
        this.tenants = tenants;
        this.tenantSectors = DEVICE / 512 / tenants;
        DeviceModel model = DeviceModels.load("null");
        engine = Engines.open("memory", null, new EngineOptions(false, DEVICE));
        queue = new GatedQueue(engine.openQueue(256));
        var config = new DataplaneLoop.Config(0, 4, 4096, maxPerConnection, poolBytes, 2048, PollMode.BLOCK, -1,
                DataplaneLoop.DEFAULT_SUBMIT_BATCH, limits, net, recvBuffers);
        loop = new DataplaneLoop(config, queue, new TokenScheduler(4, 2048, new GlobalBucket(1), model), model,
                new DataplaneLoop.Listener() {
                    @Override public void connectionOpened(int l, int slot) {}
                    @Override public void connectionClosed(int l, int slot) {}
                });
        loop.start();
        servers = new ServerSocketChannel[tenants];
        try {
            for (int t = 0; t < tenants; t++) {
                loop.setTenant(t, "t" + t, t * tenantSectors, tenantSectors, null, new TenantStats(0));
                loop.setRate(t, false, Double.POSITIVE_INFINITY);
                servers[t] = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                loop.listen(servers[t], t, loop::adopt);
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        }
    }

    int port(int tenant) {
        try {
            return ((InetSocketAddress) servers[tenant].getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Hold back completions of device requests in tenant {@code t}'s window (-1: every tenant's). */
    void hold(int t) {
        queue.holdFrom = t < 0 ? 0 : t * tenantSectors * 512;
        queue.holdTo = t < 0 ? DEVICE : (t + 1) * tenantSectors * 512;
    }

    /** Let held and future completions through. */
    void release() {
        queue.holdTo = 0;
        queue.holdFrom = 0;
        loop.execute(() -> {}); // wake the loop
    }

    /** {@code what}, evaluated on the loop's thread (its state is that thread's). */
    <T> T onLoop(Supplier<T> what) {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(what.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the loop did not answer", e);
        }
    }

    /** Waits until {@code done}, evaluated on the loop's thread, holds. */
    void await(String what, Duration timeout, Supplier<Boolean> done) throws InterruptedException {
        awaitTrue(what, timeout, () -> onLoop(done));
    }

    static void awaitTrue(String what, Duration timeout, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            Thread.sleep(10);
        }
    }

    Client connect(int tenant) throws IOException {
        return new Client(port(tenant), 0);
    }

    @Override
    public void close() {
        queue.holdTo = queue.holdFrom = 0; // the loop's shutdown waits for what is at the device
        loop.stop();
        for (ServerSocketChannel s : servers) {
            try {
                if (s != null) s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        engine.close();
    }

    // ---- device data: every 8-byte word of absolute sector s holds s << 16 | word ---------------------------------

    static byte[] pattern(long firstSector, int sectors) {
        ByteBuffer b = ByteBuffer.allocate(sectors * 512).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < sectors; s++) for (int w = 0; w < 64; w++) b.putLong((firstSector + s) << 16 | w);
        return b.array();
    }

    /** Writes {@link #pattern} over tenant {@code t}'s whole window through one of its connections. */
    void fillPattern(int t) throws IOException {
        try (Client c = connect(t)) {
            for (long lba = 0; lba < tenantSectors; lba += 2048) {
                c.send(Client.frame(Opcode.SET, lba, lba, 2048, pattern(t * tenantSectors + lba, 2048)));
                Client.Reply r = c.read();
                if (r.handle() != lba) throw new IllegalStateException("reply to " + r.handle() + ", want " + lba);
            }
        }
    }

    /** A blocking client speaking legacy frames. */
    static final class Client implements AutoCloseable {
        final Socket socket;
        private final InputStream in;

        /** {@code receiveBuffer} 0: the default. */
        Client(int port, int receiveBuffer) throws IOException {
            socket = new Socket();
            if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(30_000); // a hang detector only
            in = socket.getInputStream();
        }

        static byte[] frame(int opcode, long handle, long lba, long sectors, byte[] payload) {
            ByteBuffer b = ByteBuffer.allocate(ReflexHeader.LENGTH + (payload == null ? 0 : payload.length)).order(ByteOrder.LITTLE_ENDIAN);
            new ReflexHeader().wrap(b, 0).magic(ReflexHeader.LENGTH).opcode(opcode).handle(handle).lba(lba).lbaCount(sectors);
            if (payload != null) b.put(ReflexHeader.LENGTH, payload);
            return b.array();
        }

        static byte[] get(long handle, long lba, long sectors) { return frame(Opcode.GET, handle, lba, sectors, null); }

        void send(byte[] bytes) throws IOException {
            socket.getOutputStream().write(bytes);
        }

        /** A reply (legacy: the request's header echoed; a GET's data follows it). */
        record Reply(int opcode, long handle, long lba, long sectors, byte[] data) {}

        Reply read() throws IOException {
            ByteBuffer h = ByteBuffer.wrap(readFully(ReflexHeader.LENGTH)).order(ByteOrder.LITTLE_ENDIAN);
            ReflexHeader header = new ReflexHeader().wrap(h, 0);
            int op = header.opcode();
            long sectors = header.lbaCount();
            byte[] data = op == Opcode.GET ? readFully((int) sectors * 512) : new byte[0];
            return new Reply(op, header.handle(), header.lba(), sectors, data);
        }

        byte[] readFully(int n) throws IOException {
            try {
                byte[] b = in.readNBytes(n);
                if (b.length < n) throw new EOFException("server closed the connection");
                return b;
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("no reply bytes for 30 s: the server stopped answering");
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * The loop's device queue, passing everything through except completions of requests in [holdFrom, holdTo) of the
     * device: those are kept (the data already copied) until the range is emptied, so their requests keep holding
     * their I/O buffers. Only the loop's thread calls it (the range fields are set by the test).
     */
    static final class GatedQueue implements IoQueue {
        private final IoQueue q;
        volatile long holdFrom, holdTo;
        private final Map<Long, Long> offsets = new HashMap<>();
        private final ArrayDeque<long[]> held = new ArrayDeque<>();

        GatedQueue(IoQueue q) { this.q = q; }

        @Override
        public boolean prepRead(long userData, long offset, MemorySegment buffer, int length) {
            boolean ok = q.prepRead(userData, offset, buffer, length);
            if (ok) offsets.put(userData, offset);
            return ok;
        }

        @Override
        public boolean prepWrite(long userData, long offset, MemorySegment buffer, int length) {
            boolean ok = q.prepWrite(userData, offset, buffer, length);
            if (ok) offsets.put(userData, offset);
            return ok;
        }

        @Override public boolean prepFlush(long userData) { return q.prepFlush(userData); }

        @Override public int submit() { return q.submit(); }

        @Override
        public int reap(CompletionHandler handler, int max) {
            int n = 0;
            while (n < max && !held.isEmpty() && holdTo <= holdFrom) {
                long[] c = held.poll();
                handler.onComplete(c[0], (int) c[1]);
                n++;
            }
            return n + q.reap((userData, result) -> {
                Long offset = offsets.remove(userData);
                if (offset != null && offset >= holdFrom && offset < holdTo) held.add(new long[] {userData, result});
                else handler.onComplete(userData, result);
            }, max - n);
        }

        @Override
        public void awaitCompletion(long timeoutNanos) {
            if (q.inFlight() > 0) q.awaitCompletion(timeoutNanos);
            else LockSupport.parkNanos(timeoutNanos); // only held completions: nothing to wait for but the test
        }

        @Override public void wakeOnReadable(int fd) { q.wakeOnReadable(fd); }
        @Override public int inFlight() { return q.inFlight() + held.size(); }
        @Override public int depth() { return q.depth(); }
        @Override public MemorySegment allocateBuffer(long bytes) { return q.allocateBuffer(bytes); }
        @Override public void close() { q.close(); }
    }
}

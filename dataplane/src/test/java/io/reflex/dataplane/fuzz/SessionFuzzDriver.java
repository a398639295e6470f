package io.reflex.dataplane.fuzz;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.nbd.Nbd;
import io.reflex.dataplane.net.DataplaneLoop;
import io.reflex.dataplane.net.NbdListener;
import io.reflex.dataplane.net.PollMode;
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
import io.reflex.protocol.Status;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Drives one client connection of a real dataplane loop with the bytes a fuzz input says the client sends: the fuzz
 * targets' harness for the native ReFlex protocol and the NBD front-end.
 *
 * <p>Per run: a fresh {@link DataplaneLoop} (request table, buffer pool, token scheduler; three tenants with unlimited
 * rates) on a queue of one shared 8 MiB memory engine, serving a loopback listener exactly as the dataplane does
 * ({@link DataplaneLoop#listen} with {@link DataplaneLoop#adopt}; {@link NbdListener} for NBD). The loop runs on the
 * calling thread ({@link DataplaneLoop#run}), and its device queue is wrapped: each loop iteration calls its
 * {@code reap} once, which is also the client's step — read up to a window of replies, write the next segment of the
 * input — so a run is single-threaded and deterministic, and needs no timing. Sockets (loopback) are the only seam
 * the loop offers without opening its package; they cost a connection and a few syscalls per iteration (hundreds of
 * runs per second on a shared 2-vCPU machine, bench/fuzz/README.md).
 *
 * <p>When the input is sent and nothing moves for {@link #EOF_IDLE_STEPS} iterations the client half-closes (EOF); the
 * server must then close. Violations are thrown as AssertionError: the loop died (an exception escaped it — the
 * loop's own engine-boundary assertion included), a device access outside the tenant's extent or of a
 * token-protected tenant whose token the client never sent, a hang (no bytes in or out and no device completion for
 * {@link #MAX_IDLE_STEPS} iterations and {@link #MIN_IDLE_NANOS}, or {@link #MAX_CPU_NANOS} of this thread's CPU in
 * all), a malformed reply, or a connection the server
 * closed before the client was done without logging why or answering with an error.
 *
 * <p>Input: byte 0 picks the run's shape ({@link Shape}); the rest is what the client sends.
 */
public final class SessionFuzzDriver implements AutoCloseable {
    public enum Protocol { REFLEX, NBD }

    /** A tenant on the fuzzed loop: a window of the 8 MiB device, in 512-byte sectors. */
    public record Tenant(String name, long baseSector, long sectors, String token) {
        long startByte() { return baseSector * 512; }

        long endByte() { return (baseSector + sectors) * 512; }
    }

    public static final long DEVICE_BYTES = 8L << 20;
    /** Slot order. ReFlex runs pick one by the shape byte; NBD clients name them (the empty name is "default"). */
    public static final Tenant[] TENANTS = {
            new Tenant("fuzz", 2048, 2048, null),
            new Tenant("locked", 4096, 4096, "s3cret"),
            new Tenant("default", DEVICE_BYTES / 512 - 8, 8, null), // the device's last 4 KiB: the top edge
    };
    static final int EOF_IDLE_STEPS = 4;
    static final int MAX_IDLE_STEPS = 2_000;
    /**
     * Idle iterations alone are not a hang: the loop busy-polls (µs per iteration) while the kernel may defer loopback
     * delivery or a TCP timer to ksoftirqd, which a loaded machine runs tens of ms late. So nothing may also have moved
     * for this long on the wall clock.
     */
    static final long MIN_IDLE_NANOS = 5_000_000_000L;
    /** The whole run's budget, in CPU time of this thread: a starved thread (a busy machine) has not hung. */
    static final long MAX_CPU_NANOS = 10_000_000_000L;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static final int[] SEGMENTS = {0, 7, 24, 61, 512, 4096, 16384, 0}; // bytes per client write; 0 = the rest
    private static final int[] WINDOWS = {0, 512, 4096, 65536};                // reply bytes taken per step; 0 = all

    /** The run's shape, from the input's first byte: bits 0-1 tenant (ReFlex), 2-4 segment, 5-6 window, 7 async writes. */
    public record Shape(int slot, int segment, int window, boolean syncWrites) {
        static Shape of(int b) {
            return new Shape(Math.min(b & 3, TENANTS.length - 1), SEGMENTS[(b >>> 2) & 7], WINDOWS[(b >>> 5) & 3], (b & 0x80) == 0);
        }
    }

    /** What a run did. */
    public record Outcome(boolean closedEarly, int replies, long bytesSent, long bytesReceived, int deviceRequests, String log) {}

    // Smaller than the production loop (4096 requests, 256 MiB of buffers, 2048-deep scheduler queues) so that every
    // limit — per-connection, per-loop, buffer pool, scheduler queue (EBUSY), device queue — is reachable by small inputs.
    private static final DataplaneLoop.Config CONFIG =
            new DataplaneLoop.Config(0, 4, 512, 256, 16L << 20, 64, PollMode.BUSY, -1, DataplaneLoop.DEFAULT_SUBMIT_BATCH);
    private static final int QUEUE_DEPTH = 32;
    private static final int SCHEDULER_QUEUE = 64;
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private static final DataplaneLoop.Listener NO_LISTENER = new DataplaneLoop.Listener() {
        @Override public void connectionOpened(int loop, int slot) {}
        @Override public void connectionClosed(int loop, int slot) {}
    };

    private final StorageEngine engine = Engines.open("memory", null, new EngineOptions(true, DEVICE_BYTES));
    /** One device queue for all runs (each run's loop closes only its wrapper): opening and closing a queue per run
     * (a shared arena each) would cost more than the run. */
    private final IoQueue deviceQueue = engine.openQueue(QUEUE_DEPTH);
    /** I/O buffers of finished runs by size, handed to the next runs' buffer pools (the queue frees them at close). */
    private final java.util.Map<Long, java.util.ArrayDeque<MemorySegment>> spareBuffers = new java.util.HashMap<>();
    private final DeviceModel model = DeviceModels.load("null");
    private final ByteBuffer replyBuffer = ByteBuffer.allocateDirect(64 * 1024);
    /** The listener's address, the same for every run (a new ephemeral port per run makes the kernel search a range
     * crowded with the TIME_WAIT entries of earlier runs' clients, ever slower). */
    private final InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), freePort());

    /** Feed {@code input} to a new connection of {@code protocol}; throws AssertionError on any broken invariant. */
    public Outcome run(Protocol protocol, byte[] input) {
        Shape shape = Shape.of(input.length == 0 ? 0 : input[0]);
        byte[] stream = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        Run r = new Run(protocol, shape, stream);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream err = System.err;
        Throwable escaped = null;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        // The client's loopback connection is the harness's own, not a request forgery: the fuzz execution sets
        // JAZZER_SSRF_PERMISSIVE_UNTIL_CONFIGURED (root pom) for Jazzer's SSRF detector.
        try {
            r.start();
            r.loop.run(); // on this thread: returns when the client's step stops it, or after the loop died
        } catch (Throwable t) {
            escaped = t;
        } finally {
            System.setErr(err);
            r.closeClient();
        }
        String logText = log.toString(StandardCharsets.UTF_8);
        String where = " (" + protocol + " " + shape + ", " + stream.length + " bytes)";
        if (escaped != null) throw new AssertionError("the run threw" + where + "\n" + logText, escaped);
        if (r.violation != null) throw new AssertionError(r.violation + where + "\n" + logText);
        if (!r.stopped) throw new AssertionError("the dataplane loop died" + where + "\n" + logText);
        if (r.hang != null) throw new AssertionError("hang: " + r.hang + where + "\n" + logText);
        if (r.replyError != null) throw r.replyError;
        boolean early = r.serverClosed && !r.eofSent;
        // The loop's own lines (others on stderr: e.g. Jazzer's, while it instruments classes the run loads).
        String loopLog = logText.lines().filter(l -> l.startsWith("reflex-dp-")).reduce("", (a, b) -> a + b + "\n");
        if (early && loopLog.isEmpty() && !r.replies.closeExplained()) {
            throw new AssertionError("the server closed the connection without logging why or an error reply" + where + ": "
                    + (r.reset ? "reset" : "closed") + " after " + r.received + " bytes, " + r.replies.count + " replies, last "
                    + r.replies.last());
        }
        return new Outcome(early, r.replies.count, r.sent, r.received, r.queue.requests, loopLog);
    }

    @Override
    public void close() {
        deviceQueue.close();
        engine.close();
    }

    /** A committed input of a fuzz test, e.g. {@code seed(ReflexStreamFuzzTest.class, "reflexStream", "hello-token")}. */
    static byte[] seed(Class<?> test, String method, String name) {
        String path = test.getSimpleName() + "Inputs/" + method + "/" + name;
        try (var in = test.getResourceAsStream(path)) {
            if (in == null) throw new IllegalArgumentException("no input " + path);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One connection's run; {@link #step} is the client, once per loop iteration. */
    private final class Run {
        final Protocol protocol;
        final Shape shape;
        final byte[] data;
        final ReplyCheck replies;
        final CheckedQueue queue;
        final DataplaneLoop loop;
        SocketChannel client;
        Tenant bound;
        int pos;
        long sent, received, steps, lastCompleted;
        int idle;
        boolean eofSent, serverClosed, reset, stopped;
        String violation, hang;
        AssertionError replyError;
        final long cpuDeadline = THREADS.getCurrentThreadCpuTime() + MAX_CPU_NANOS;
        long idleSince;

        Run(Protocol protocol, Shape shape, byte[] data) {
            this.protocol = protocol;
            this.shape = shape;
            this.data = data;
            this.replies = protocol == Protocol.REFLEX ? new ReflexReplies() : new NbdReplies(data);
            this.queue = new CheckedQueue(deviceQueue, this);
            this.loop = new DataplaneLoop(CONFIG, queue, new TokenScheduler(CONFIG.maxTenants(), SCHEDULER_QUEUE, new GlobalBucket(1), model),
                    model, NO_LISTENER);
        }

        /** Tenants, the listener (as the dataplane sets them up), and a connected client. */
        void start() throws IOException {
            for (int s = 0; s < TENANTS.length; s++) {
                Tenant t = TENANTS[s];
                loop.setTenant(s, t.name(), t.baseSector(), t.sectors(), t.token(), new TenantStats(0));
                loop.setRate(s, false, Double.POSITIVE_INFINITY);
            }
            // The listener is the loop's, as in the dataplane; the loop closes it when it stops.
            if (protocol == Protocol.REFLEX) {
                ServerSocketChannel server = ServerSocketChannel.open();
                server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                loop.listen(server.bind(listen), shape.slot(), loop::adopt);
            } else {
                NbdListener.open(listen, new DataplaneLoop[] {loop}, shape.syncWrites());
            }
            client = connect();
        }

        /**
         * A connection to the listener, through the kernel's backlog (the loop accepts it in its first iterations).
         * On loopback that is immediate — except when the ephemeral port the kernel picks meets a TIME_WAIT left by an
         * earlier run's server-side close: the SYN is then answered late (SYN retransmits: seconds). Such a try is
         * dropped for another port; it says nothing about the dataplane.
         */
        private SocketChannel connect() throws IOException {
            for (int attempt = 0; ; attempt++) {
                SocketChannel c = SocketChannel.open();
                c.setOption(StandardSocketOptions.SO_RCVBUF, 16 * 1024); // a slow reader slows the server soon
                c.configureBlocking(false);
                long giveUp = System.nanoTime() + 50_000_000L;
                boolean connected = c.connect(listen);
                while (!connected && System.nanoTime() < giveUp) {
                    Thread.onSpinWait();
                    connected = c.finishConnect();
                }
                if (connected) return c;
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
                c.close();
                if (attempt == 20) throw new IOException("cannot connect to " + listen + " in 20 tries");
            }
        }

        /** The client: take up to a window of replies, send the next segment, close when done or stuck. */
        void step() {
            if (stopped) return;
            steps++;
            boolean progress = false;
            try {
                // Replies first, as a client reads what arrived before it sends more (writing to a socket the server
                // has closed earns a reset, which can destroy replies not read yet).
                int window = shape.window() == 0 ? Integer.MAX_VALUE : shape.window();
                while (window > 0) {
                    replyBuffer.clear().limit(Math.min(window, replyBuffer.capacity()));
                    int k = client.read(replyBuffer);
                    if (k < 0) {
                        serverClosed = true;
                        break;
                    }
                    if (k == 0) break;
                    replies.accept(replyBuffer.flip());
                    window -= k;
                    received += k;
                    progress = true;
                }
                if (!serverClosed && pos < data.length) {
                    int n = shape.segment() == 0 ? data.length - pos : Math.min(shape.segment(), data.length - pos);
                    int k = client.write(ByteBuffer.wrap(data, pos, n));
                    pos += k;
                    sent += k;
                    progress |= k > 0;
                }
            } catch (IOException e) {
                serverClosed = reset = true; // reset by the server
            } catch (AssertionError e) {
                replyError = e; // a malformed reply
                stop();
                return;
            }
            if (serverClosed) {
                stop();
                return;
            }
            progress |= queue.completed != lastCompleted;
            lastCompleted = queue.completed;
            if (progress) idle = 0;
            else if (idle++ == 0) idleSince = System.nanoTime();
            if (!eofSent && pos == data.length && idle >= EOF_IDLE_STEPS) {
                try {
                    client.shutdownOutput(); // the client is done: EOF
                } catch (IOException e) {
                    serverClosed = true;
                    stop();
                    return;
                }
                eofSent = true;
                idle = 0;
            } else if (idle > MAX_IDLE_STEPS && System.nanoTime() - idleSince > MIN_IDLE_NANOS
                    || (steps & 255) == 0 && THREADS.getCurrentThreadCpuTime() > cpuDeadline) {
                hang = (eofSent ? "the server did not close after the client's EOF" : "the server stopped reading")
                        + ": nothing moved for " + idle + " loop iterations and "
                        + (System.nanoTime() - idleSince) / 1_000_000 + " ms (" + steps + " in all); sent " + pos + " of "
                        + data.length + " bytes, received " + received;
                stop();
            }
        }

        private void stop() {
            stopped = true;
            loop.stop(); // the loop's thread is this one (never started): this only ends run()
        }

        void closeClient() {
            if (client == null) return;
            try {
                if (!serverClosed) client.setOption(StandardSocketOptions.SO_LINGER, 0); // reset: no TIME_WAIT left behind
                client.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** A request reached the device: inside one tenant's extent, the run's tenant, and never without its token. */
        void checkExtent(long offset, int length) {
            Tenant t = protocol == Protocol.REFLEX ? TENANTS[shape.slot()] : bound;
            if (t == null) { // NBD: the export the client opened is the one tenant whose window holds the first access
                for (Tenant c : TENANTS) if (offset >= c.startByte() && offset < c.endByte()) t = bound = c;
            }
            if (t == null || length <= 0 || offset < t.startByte() || offset > t.endByte() - length) {
                violation = "device access [" + offset + ", " + (offset + length) + ") outside the extent of tenant "
                        + (t == null ? "(none)" : t.name() + " [" + t.startByte() + ", " + t.endByte() + ")");
            } else if (t.token() != null && !contains(data, t.token().getBytes(StandardCharsets.UTF_8))) {
                violation = "device access for tenant " + t.name() + " whose token the client never sent";
            }
            if (violation != null) throw new AssertionError(violation); // the loop dies; run() reports the violation
        }
    }

    private static int freePort() {
        try (ServerSocketChannel probe = ServerSocketChannel.open().bind(LOOPBACK)) {
            return ((InetSocketAddress) probe.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean contains(byte[] data, byte[] part) {
        outer:
        for (int i = 0; i + part.length <= data.length; i++) {
            for (int j = 0; j < part.length; j++) if (data[i + j] != part[j]) continue outer;
            return true;
        }
        return false;
    }

    /**
     * The run loop's view of the shared device queue, checked; its {@code reap} (once per loop iteration) also steps
     * the client. Closing it (the loop's shutdown, after draining it) gives the run's buffers back for the next runs.
     */
    private final class CheckedQueue implements IoQueue {
        private final IoQueue q;
        private final Run run;
        private final java.util.List<MemorySegment> buffers = new java.util.ArrayList<>();
        int requests;
        long completed;

        CheckedQueue(IoQueue q, Run run) {
            this.q = q;
            this.run = run;
        }

        @Override
        public boolean prepRead(long userData, long offset, MemorySegment buffer, int length) {
            run.checkExtent(offset, length);
            return counted(q.prepRead(userData, offset, buffer, length));
        }

        @Override
        public boolean prepWrite(long userData, long offset, MemorySegment buffer, int length) {
            run.checkExtent(offset, length);
            return counted(q.prepWrite(userData, offset, buffer, length));
        }

        @Override
        public boolean prepFlush(long userData) { return counted(q.prepFlush(userData)); }

        private boolean counted(boolean ok) {
            if (ok) requests++;
            return ok;
        }

        @Override public int submit() { return q.submit(); }

        @Override
        public int reap(CompletionHandler handler, int max) {
            run.step();
            int n = q.reap(handler, max);
            completed += n;
            return n;
        }

        @Override public void awaitCompletion(long timeoutNanos) { q.awaitCompletion(timeoutNanos); }
        @Override public void wakeOnReadable(int fd) { q.wakeOnReadable(fd); }
        @Override public int inFlight() { return q.inFlight(); }
        @Override public int depth() { return q.depth(); }
        @Override
        public MemorySegment allocateBuffer(long bytes) {
            var spare = spareBuffers.get(bytes);
            MemorySegment b = spare == null || spare.isEmpty() ? q.allocateBuffer(bytes) : spare.pop();
            buffers.add(b);
            return b;
        }

        @Override
        public void close() {
            if (q.inFlight() != 0) throw new AssertionError(q.inFlight() + " requests still at the device after the loop stopped");
            for (MemorySegment b : buffers) spareBuffers.computeIfAbsent(b.byteSize(), k -> new java.util.ArrayDeque<>()).push(b);
            buffers.clear();
        }
    }

    /** Checks the server's byte stream as a client parses it, a byte at a time (no data is kept). */
    private abstract static class ReplyCheck {
        int count;
        /** Bytes of data (a GET's, an option reply's) to pass over before the next header. */
        long skip;

        /** Takes what the client read. */
        final void accept(ByteBuffer bytes) {
            while (bytes.hasRemaining()) {
                if (skip > 0) {
                    int k = (int) Math.min(skip, bytes.remaining());
                    bytes.position(bytes.position() + k);
                    skip -= k;
                    if (skip == 0) skipped();
                } else {
                    accept(bytes.get());
                }
            }
        }

        /** One byte of a header. */
        abstract void accept(byte b);

        /** The data after a header was passed over. */
        void skipped() {}

        /** The last thing the server said explains why it closed. */
        abstract boolean closeExplained();

        /** The last reply, for messages. */
        abstract String last();

        static AssertionError bad(String what) { return new AssertionError("malformed reply: " + what); }
    }

    /** ReFlex replies: 24-byte headers, GET data after them; with a status after a HELLO (extended). */
    private static final class ReflexReplies extends ReplyCheck {
        private final ByteBuffer header = ByteBuffer.allocate(ReflexHeader.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        private final ReflexHeader h = new ReflexHeader();
        private boolean extended;
        private int lastStatus = Status.OK;

        @Override
        void accept(byte b) {
            header.put(b);
            if (header.hasRemaining()) return;
            header.clear();
            h.wrap(header, 0);
            count++;
            if (h.magic() != ReflexHeader.MAGIC) throw bad("magic " + h.magic());
            if (h.opcode() == Opcode.HELLO && count == 1) extended = true;
            long sectors = h.lbaCount();
            if (sectors > ReflexHeader.MAX_SECTORS) throw bad("lba_count " + sectors);
            if (sectors > 0 && h.opcode() != Opcode.GET) throw bad("data after a " + Opcode.name(h.opcode()) + " reply");
            if (extended) {
                lastStatus = h.status();
                if (lastStatus < Status.OK || lastStatus > Status.EBUSY) throw bad("status " + lastStatus);
                if (header.getInt(16) != 0) throw bad("reserved field " + header.getInt(16));
                if (sectors > 0 && lastStatus != Status.OK) throw bad("data after status " + Status.name(lastStatus));
            }
            skip = sectors << ReflexHeader.SECTOR_SHIFT;
        }

        @Override
        boolean closeExplained() { return extended && (lastStatus == Status.EINVAL || lastStatus == Status.EAUTH); }

        @Override
        String last() { return (extended ? "extended, status " + Status.name(lastStatus) : "legacy") + ", " + header.position() + " bytes of a header"; }
    }

    /**
     * NBD: the greeting, option replies (or the EXPORT_NAME answer), then simple replies — checked up to the first
     * successful one (a READ's data follows it, of the request's length, which this check does not track).
     */
    private static final class NbdReplies extends ReplyCheck {
        private static final int GREETING = 0, OPTIONS = 1, OPTION_DATA = 2, EXPORT = 3, TRANSMISSION = 4, OPAQUE = 5;
        private final boolean noZeroes;
        private final ByteBuffer buf = ByteBuffer.allocate(Nbd.OPTION_REPLY_HEADER_LENGTH);
        private int state = GREETING;
        private int need = Nbd.GREETING_LENGTH;
        private int lastOption, lastType;

        NbdReplies(byte[] stream) {
            noZeroes = stream.length >= 4 && (stream[3] & Nbd.CLIENT_FLAG_NO_ZEROES) != 0;
        }

        @Override
        void accept(byte b) {
            buf.put(b);
            if (buf.position() < need) return;
            switch (state) {
                case GREETING -> {
                    if (buf.getLong(0) != Nbd.NBDMAGIC || buf.getLong(8) != Nbd.IHAVEOPT
                            || buf.getShort(16) != (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)) throw bad("greeting");
                    state = OPTIONS;
                    need = 8;
                }
                case OPTIONS -> {
                    if (need == 8) {
                        if (buf.getLong(0) == Nbd.REPLY_MAGIC) {
                            need = Nbd.OPTION_REPLY_HEADER_LENGTH;
                            return;
                        }
                        // Not an option reply: the answer to EXPORT_NAME (size u64, flags u16, 124 zeros unless NO_ZEROES).
                        state = EXPORT;
                        need = 10;
                        return;
                    }
                    lastOption = buf.getInt(8);
                    lastType = buf.getInt(12);
                    long length = Integer.toUnsignedLong(buf.getInt(16));
                    count++;
                    boolean known = lastType == Nbd.REP_ACK || lastType == Nbd.REP_SERVER || lastType == Nbd.REP_INFO
                            || lastType >= Nbd.REP_ERR_UNSUP && lastType <= Nbd.REP_ERR_TOO_BIG;
                    if (!known) throw bad("option reply type 0x" + Integer.toHexString(lastType));
                    if (length > 64 * 1024) throw bad("option reply of " + length + " bytes");
                    if (length > 0) {
                        skip = length;
                        state = OPTION_DATA;
                    } else {
                        afterOption();
                    }
                }
                case EXPORT -> {
                    if (buf.getShort(8) != (short) Nbd.TRANSMISSION_FLAGS) throw bad("transmission flags");
                    count++;
                    transmission();
                    if (!noZeroes) skip = 124;
                }
                default -> { // TRANSMISSION
                    if (buf.getInt(0) != Nbd.SIMPLE_REPLY_MAGIC) throw bad("simple reply magic");
                    count++;
                    if (buf.getInt(4) == 0) { // maybe READ data, of a length not tracked here: stop checking
                        state = OPAQUE;
                        skip = Long.MAX_VALUE;
                    }
                }
            }
            buf.clear();
        }

        @Override
        void skipped() {
            if (state == OPTION_DATA) afterOption();
        }

        private void afterOption() {
            if (lastType == Nbd.REP_ACK && lastOption == Nbd.OPT_GO) {
                transmission();
            } else {
                state = OPTIONS;
                need = 8;
            }
        }

        private void transmission() {
            state = TRANSMISSION;
            need = Nbd.SIMPLE_REPLY_LENGTH;
        }

        @Override
        String last() { return "option " + lastOption + " type 0x" + Integer.toHexString(lastType) + ", state " + state + ", " + buf.position() + " bytes of a header"; }

        @Override
        boolean closeExplained() {
            // ABORT is acknowledged, then closed; DISC (in transmission) closes once everything is answered.
            return state == OPTIONS && lastOption == Nbd.OPT_ABORT && lastType == Nbd.REP_ACK
                    || state == TRANSMISSION || state == OPAQUE;
        }
    }
}

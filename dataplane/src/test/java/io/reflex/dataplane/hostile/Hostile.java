package io.reflex.dataplane.hostile;

import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.metrics.ConnectionStats;
import io.reflex.dataplane.nbd.Nbd;
import io.reflex.dataplane.net.ConnectionLimits;
import io.reflex.dataplane.net.DataplaneLoop;
import io.reflex.dataplane.net.PollMode;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.ToLongFunction;

/**
 * A real dataplane (memory engine, one loop unless asked otherwise, so every connection shares it) with two
 * best-effort tenants, {@code a} (the attacked/hostile one) and {@code b} (the well-behaved one), an NBD front-end,
 * and short, configurable timeouts; plus raw-socket helpers for hostile clients.
 */
final class Hostile implements AutoCloseable {
    static final long DEVICE_BYTES = 64L << 20;
    static final long HALF_SECTORS = DEVICE_BYTES / 2 / ReflexHeader.SECTOR_SIZE;

    final Dataplane dp;
    final int portA;
    final int portB;
    final int nbdPort;
    private final Path table;

    private Hostile(Dataplane dp, int portA, int portB, Path table) {
        this.dp = dp;
        this.portA = portA;
        this.portB = portB;
        this.nbdPort = dp.nbdAddress().getPort();
        this.table = table;
    }

    static Hostile start(ConnectionLimits limits) {
        return start(limits, 1);
    }

    static Hostile start(ConnectionLimits limits, int threads) {
        int[] ports = freePorts(3);
        int a = ports[0], b = ports[1];
        try {
            Path table = Files.createTempFile("hostile-slo", ".yaml");
            Files.writeString(table, """
                    tenants:
                      - { name: a, port: %d, class: BE, lbaBase: 0, lbaCount: %d }
                      - { name: b, port: %d, class: BE, lbaBase: %d, lbaCount: %d }
                    """.formatted(a, HALF_SECTORS, b, HALF_SECTORS, HALF_SECTORS));
            var config = new DataplaneConfig(null, "memory", DEVICE_BYTES, new InetSocketAddress("127.0.0.1", ports[2]), table,
                    "null", threads, PollMode.ADAPTIVE, true, true, 128, null, new InetSocketAddress("127.0.0.1", 0))
                    .withConnectionLimits(limits);
            return new Hostile(Dataplane.start(config), a, b, table);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Limits with these timeouts (seconds, 0 = off), keepalive 60 s and this per-connection buffer bound; no connect
     * rate or connection cap (the tests of those set them: {@link ConnectAdmissionTest}).
     */
    static ConnectionLimits limits(double idleSeconds, double requestSeconds, long maxConnectionBytes) {
        return new ConnectionLimits(seconds(idleSeconds), seconds(requestSeconds), Duration.ofSeconds(60), maxConnectionBytes)
                .withoutAdmission();
    }

    /** Tenant {@code name}'s listener admission (connections accepted, pauses). */
    io.reflex.dataplane.net.TenantAdmission admission(String name) {
        return dp.tenants().stream().filter(s -> s.spec().name().equals(name)).findFirst().orElseThrow().admission();
    }

    static Duration seconds(double s) { return Duration.ofNanos(Math.round(s * 1e9)); }

    /** A loop counter summed over loops. */
    long sum(ToLongFunction<ConnectionStats> f) {
        long n = 0;
        for (DataplaneLoop l : dp.loops()) n += f.applyAsLong(l.connectionStats());
        return n;
    }

    long closed(CloseReason r) { return sum(s -> s.closed(r)); }

    /** Waits until exactly {@code n} connections were closed for {@code r} (the count follows the socket close). */
    void awaitClosed(CloseReason r, long n) throws InterruptedException {
        await(n + " closed as " + r.label() + " (now " + closed(r) + ")", Duration.ofSeconds(5), () -> closed(r) >= n);
        if (closed(r) != n) throw new AssertionError("expected " + n + " closed as " + r.label() + ", got " + closed(r));
    }

    long open() { return sum(ConnectionStats::open); }

    @Override
    public void close() {
        dp.close();
        try {
            Files.deleteIfExists(table);
        } catch (IOException ignored) {
            // temp file
        }
    }

    // ---- clients ------------------------------------------------------------------------------------------------

    static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    /** A ReFlex request header (legacy framing). */
    static byte[] header(int opcode, long handle, long lba, long sectors) {
        ByteBuffer b = ByteBuffer.allocate(ReflexHeader.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        new ReflexHeader().wrap(b, 0).magic(ReflexHeader.LENGTH).opcode(opcode).handle(handle).lba(lba).lbaCount(sectors);
        return b.array();
    }

    static byte[] get(long handle, long lba, long sectors) { return header(Opcode.GET, handle, lba, sectors); }

    /**
     * Whether the server closed {@code s} within {@code millis} (EOF or reset). Reads and discards whatever else
     * arrives meanwhile.
     */
    static boolean closedWithin(Socket s, long millis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        InputStream in = s.getInputStream();
        byte[] sink = new byte[64 * 1024];
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) return false;
            s.setSoTimeout((int) Math.max(1, left));
            try {
                if (in.read(sink) < 0) return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset
            }
        }
    }

    /** NBD up to transmission on export {@code name} (EXPORT_NAME, no zeroes); returns the socket. */
    static Socket nbdTransmission(int port, String name) throws IOException {
        Socket s = connect(port);
        s.setSoTimeout(5000);
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        in.readNBytes(Nbd.GREETING_LENGTH);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + Nbd.OPTION_HEADER_LENGTH + n.length);
        b.putInt(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_EXPORT_NAME).putInt(n.length).put(n);
        out.write(b.array());
        if (in.readNBytes(10).length != 10) throw new IOException("NBD export '" + name + "' refused");
        return s;
    }

    /** An NBD READ request (28 bytes). */
    static byte[] nbdRead(long handle, long offset, int length) {
        return ByteBuffer.allocate(Nbd.REQUEST_LENGTH).putInt(Nbd.REQUEST_MAGIC).putShort((short) 0).putShort((short) 0)
                .putLong(handle).putLong(offset).putInt(length).array();
    }

    static void await(String what, Duration timeout, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            Thread.sleep(20);
        }
    }

    /** Distinct free ports (all held open while choosing, so none repeats). */
    static int[] freePorts(int n) {
        ServerSocket[] held = new ServerSocket[n];
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                held[i] = new ServerSocket(0);
                ports[i] = held[i].getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    if (s != null) s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /** Open file descriptors of this JVM (the dataplane runs in it). */
    static int openFds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A well-behaved tenant: one connection keeping {@code depth} requests in flight (reads, and 64 KiB writes whose
     * payloads span several socket reads), counting completions and failures, until closed.
     */
    static final class Load implements AutoCloseable {
        final AtomicLong completed = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        private final ReflexClient client;
        private final Thread thread;
        private volatile boolean running = true;
        private volatile Throwable failure;

        Load(int port, int depth) throws IOException {
            client = ReflexClient.connect("127.0.0.1", port, ClientOptions.defaults());
            thread = Thread.ofPlatform().daemon().name("good-tenant").start(() -> run(depth));
        }

        private void run(int depth) {
            ByteBuffer data = ByteBuffer.allocate(64 * 1024);
            long i = 0;
            var inFlight = new java.util.ArrayDeque<java.util.concurrent.CompletableFuture<?>>();
            try {
                while (running) {
                    while (inFlight.size() < depth) {
                        long lba = (i * 128) % (HALF_SECTORS - 128);
                        inFlight.add(i++ % 4 == 0 ? client.write(lba, data.duplicate()) : client.read(lba, 8));
                    }
                    try {
                        inFlight.poll().get(10, TimeUnit.SECONDS);
                        completed.incrementAndGet();
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        failed.incrementAndGet();
                        if (failure == null) failure = e;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Completions over the next {@code millis}. */
        long completedDuring(long millis) throws InterruptedException {
            long before = completed.get();
            Thread.sleep(millis);
            return completed.get() - before;
        }

        Throwable failure() { return failure; }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(15_000);
            client.close();
        }
    }
}

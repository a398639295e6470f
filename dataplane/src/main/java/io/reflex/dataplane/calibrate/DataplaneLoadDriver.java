package io.reflex.dataplane.calibrate;

import io.reflex.client.ClientOptions;
import io.reflex.client.CompletionListener;
import io.reflex.client.ReflexConnection;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.PollMode;
import io.reflex.dataplane.storage.StorageException;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Loads a device through a dataplane started in this process (QoS off, one loop, one tenant over the device,
 * 127.0.0.1) with the client library over TCP: what a tenant sees, network and dataplane included. The client side
 * is this driver's single thread (open loop, CO-corrected, as {@link EngineLoadDriver}); the dataplane runs its own
 * loop thread. The client module's reflex-bench runner is not reused: it is package-private, sends at a fixed rate
 * (not Poisson), and spreads over threads, none of which fits a driver called point by point.
 */
public final class DataplaneLoadDriver extends LoadLoop implements CompletionListener {
    private static final int SECTORS_PER_BLOCK = BLOCK >>> ReflexHeader.SECTOR_SHIFT;

    private final Dataplane dataplane;
    private final ReflexConnection connection;
    private final Path device;
    private final String layout;
    private final ByteBuffer writeBlock = randomBuffer(BLOCK);
    private final ByteBuffer chunk = randomBuffer(CHUNK);
    private boolean closed;

    private DataplaneLoadDriver(Dataplane dataplane, ReflexConnection connection, Path device, long span, String layout) {
        super(span, EngineLoadDriver.QUEUE_DEPTH, System.nanoTime());
        this.dataplane = dataplane;
        this.connection = connection;
        this.device = device;
        this.layout = layout;
    }

    /** Starts the dataplane on {@code device} and connects; arguments and errors as {@link EngineLoadDriver#open}. */
    public static DataplaneLoadDriver open(Path device, String engine, long spanBytes, boolean syncWrites) throws IOException {
        String name = EngineLoadDriver.checkEngine(engine);
        if (device == null || !Files.exists(device)) throw new IOException("device " + device + " does not exist");
        if (spanBytes < 0 || spanBytes % BLOCK != 0) resolveSpan(spanBytes, Long.MAX_VALUE, device); // throws, before starting anything
        // One unpinned loop polling with yield: it may share a CPU with this driver's thread (the bench pins both to
        // one vCPU), and a busy loop would then starve the client for a time slice per pass (p95 in ms, measured).
        var config = new DataplaneConfig(device, name, 0, new InetSocketAddress("127.0.0.1", freePort()), null, "null", 1, PollMode.YIELD,
                false, syncWrites, EngineLoadDriver.QUEUE_DEPTH, null);
        Dataplane dp;
        try {
            dp = Dataplane.start(config);
        } catch (StorageException | UncheckedIOException e) {
            throw new IOException(e.getMessage(), e);
        }
        try {
            long span = resolveSpan(spanBytes, dp.engine().capacityBytes(), device);
            ClientOptions options = ClientOptions.defaults().withExtended(true).withMaxInFlight(EngineLoadDriver.QUEUE_DEPTH)
                    .withBufferBytes(PRECONDITION_DEPTH * ClientOptions.MIN_BUFFER_BYTES, ClientOptions.DEFAULT_BUFFER_BYTES);
            ReflexConnection c = ReflexConnection.open(config.listen(), options);
            return new DataplaneLoadDriver(dp, c, device, span, "poll yield, "
                    + (syncWrites ? "writes synced (--sync-writes true)" : "writes not synced (--sync-writes false)"));
        } catch (IOException | RuntimeException e) {
            dp.close();
            throw e;
        }
    }

    @Override
    public String describe() {
        return "a dataplane in this process (" + dataplane.engine().name() + " engine, O_DIRECT, QoS off, 1 loop, " + layout
                + ") over TCP on 127.0.0.1, on " + device + ", " + human(spanBytes()) + " span of "
                + human(dataplane.engine().capacityBytes()) + ", queue depth " + depth();
    }

    @Override
    protected boolean issueRead(int tag, long offset) {
        return connection.submitRead(offset >>> ReflexHeader.SECTOR_SHIFT, SECTORS_PER_BLOCK, null, tag);
    }

    @Override
    protected boolean issueWrite(int tag, long offset, int length) {
        ByteBuffer src = length == BLOCK ? writeBlock : chunk.limit(length);
        return connection.submitWrite(offset >>> ReflexHeader.SECTOR_SHIFT, src, tag);
    }

    @Override
    protected void submit() throws IOException {
        connection.flushSends();
        if (!connection.isOpen()) throw lost();
    }

    @Override
    protected int reap() throws IOException {
        int n = connection.poll(this);
        if (n == 0 && !connection.isOpen()) throw lost();
        return n;
    }

    @Override
    public void onComplete(long userTag, int status, ByteBuffer data) {
        completed((int) userTag, status == Status.OK);
    }

    private IOException lost() {
        IOException cause = connection.closeCause();
        return new IOException("lost the connection to the dataplane" + (cause == null ? "" : ": " + cause.getMessage()), cause);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            connection.close();
        } finally {
            dataplane.close();
        }
    }

    private static ByteBuffer randomBuffer(int bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes);
        SplittableRandom r = new SplittableRandom();
        for (int i = 0; i < bytes; i += 8) b.putLong(i, r.nextLong() | 1);
        return b;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

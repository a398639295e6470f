package io.reflex.dataplane.dpdk;

import static io.reflex.dataplane.dpdk.Native.ALL;

import io.reflex.protocol.ReflexHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A {@link DpdkServer} on a net_ring port, cabled in process to a second net_ring port the test drives as the client
 * (rings crossed). The client's mbufs come from a net_null port's RX (it allocates from our pool): mbuf allocation is a
 * DPDK header inline we do not bind. Everything the client receives is copied out and freed at once, so at rest the
 * client pool has no mbuf in use (a leak check).
 */
final class RingRig implements AutoCloseable {
    static final long CLIENT_MAC = 0x02_00_00_00_00_01L;
    static final int CLIENT_IP = Frames.ip("10.99.0.1");
    static final int SERVER_IP = Frames.ip("10.99.0.2");
    static final int UDP_PORT = 5000;
    static final int CLIENT_PORT = 40000;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final DpdkServer server;
    final MemorySegment clientPool;
    private final FpOps.Burst crx, ctx, alloc;
    private final Arena arena = Arena.ofShared();
    private final long array = arena.allocate(8 * 64, 64).address();

    /** A reply as the client saw it. */
    record Reply(int opcode, long handle, int status, int lbaCount, byte[] data, int frameLength) {}

    RingRig(int dropReplyEvery) {
        this(dropReplyEvery, "memory", null);
    }

    RingRig(int dropReplyEvery, String engine, java.nio.file.Path device) {
        this(dropReplyEvery, engine, device, null);
    }

    /** @param sloTable tenants (their UDP ports), or null for one tenant on {@link #UDP_PORT} owning the device */
    RingRig(int dropReplyEvery, String engine, java.nio.file.Path device, java.nio.file.Path sloTable) {
        this(dropReplyEvery, engine, device, sloTable, "null");
    }

    /** @param model the device model tenants are admitted against (e.g. "sample" for finite token rates) */
    RingRig(int dropReplyEvery, String engine, java.nio.file.Path device, java.nio.file.Path sloTable, String model) {
        TestEal.init();
        int id = TestEal.nextId();
        MemorySegment toServer = EthDev.ring("rfxr" + id + "a", 1024);
        MemorySegment toClient = EthDev.ring("rfxr" + id + "b", 1024);
        String serverName = "rfxsrv" + id;
        EthDev.fromRings(serverName, toServer, toClient);
        serverName = "net_ring_" + serverName; // rte_eth_from_rings names the ethdev net_ring_<name>
        int client = EthDev.fromRings("rfxcli" + id, toClient, toServer);
        clientPool = Mempools.create("rfxcp" + id, 2047, 0, Mempools.HEADROOM + 9216, Mempools.ANY_SOCKET);
        setUp(client, clientPool);
        int nullPort = EthDev.createVdev("net_null" + (100 + id), "size=64,copy=0");
        setUp(nullPort, clientPool);
        crx = FpOps.rx(client, 0);
        ctx = FpOps.tx(client, 0);
        alloc = FpOps.rx(nullPort, 0);
        server = DpdkServer.start(new DpdkServer.Config(TestEal.ARGS, serverName, SERVER_IP, UDP_PORT, 9000, 2047, engine, device,
                64L << 20, false, 256, sloTable, model, 1, List.of(), UdpLoop.Idle.YIELD, true, 512, 16, dropReplyEvery));
    }

    private static void setUp(int port, MemorySegment pool) {
        EthDev.configure(port, 1, 9000, 0, 0, 0);
        EthDev.rxQueueSetup(port, 0, 512, pool);
        EthDev.txQueueSetup(port, 0, 512);
        EthDev.start(port);
    }

    /** A fresh single-segment mbuf from the client pool. */
    long allocate() {
        while (alloc.call(array, 1) != 1) Thread.onSpinWait();
        return ALL.get(ValueLayout.JAVA_LONG, array);
    }

    /** Sends {@code length} bytes already written at the mbuf's data start. */
    void sendRaw(long m, int length) {
        Mbuf.setLength(m, length);
        ALL.set(ValueLayout.JAVA_LONG, array, m);
        while (ctx.call(array, 1) != 1) Thread.onSpinWait();
    }

    /** Sends arbitrary bytes as a frame. */
    void sendBytes(byte[] frame) {
        long m = allocate();
        MemorySegment.copy(MemorySegment.ofArray(frame), 0, ALL, Mbuf.data(m), frame.length);
        sendRaw(m, frame.length);
    }

    /** Sends one ReFlex request datagram; {@code mutate} may corrupt the frame before it leaves. */
    void sendRequest(int opcode, long handle, long lba, long lbaCount, byte[] data, int dstPort, java.util.function.LongConsumer mutate) {
        long m = allocate();
        long base = Mbuf.data(m);
        long h = base + Frames.PAYLOAD;
        ALL.set(LE16, h, (short) ReflexHeader.MAGIC);
        ALL.set(LE16, h + 2, (short) opcode);
        ALL.set(LE64, h + 4, handle);
        ALL.set(LE64, h + 12, lba);
        ALL.set(LE32, h + 20, (int) lbaCount);
        int payload = ReflexHeader.LENGTH + (data == null ? 0 : data.length);
        if (data != null) MemorySegment.copy(MemorySegment.ofArray(data), 0, ALL, h + ReflexHeader.LENGTH, data.length);
        int length = FrameWriter.udpFrame(ALL, base, CLIENT_MAC, server.mac(), CLIENT_IP, SERVER_IP, CLIENT_PORT, dstPort, payload);
        if (mutate != null) mutate.accept(base);
        sendRaw(m, length);
    }

    void sendRequest(int opcode, long handle, long lba, long lbaCount, byte[] data) {
        sendRequest(opcode, handle, lba, lbaCount, data, UDP_PORT, null);
    }

    /** The next frame the server sent, as bytes, or null after 10 s (a hang guard, not a timing assertion). */
    byte[] receiveFrame() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (crx.call(array, 1) == 1) {
                long m = ALL.get(ValueLayout.JAVA_LONG, array);
                byte[] b = ALL.asSlice(Mbuf.data(m), Mbuf.dataLen(m)).toArray(ValueLayout.JAVA_BYTE);
                Mempools.freeBulk(array, 1);
                return b;
            }
            Thread.onSpinWait();
        }
        return null;
    }

    /** Whether a frame arrives within {@code millis} (used only to check that nothing comes back). */
    boolean nothingWithin(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (crx.call(array, 1) == 1) {
                Mempools.freeBulk(array, 1);
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    Reply receiveReply() {
        byte[] f = receiveFrame();
        if (f == null) return null;
        MemorySegment s = MemorySegment.ofArray(f);
        int kind = FrameParser.classify(s, 0, f.length, CLIENT_MAC, CLIENT_IP, 0);
        if (kind != FrameParser.UDP_FOR_US) throw new AssertionError("not a valid UDP reply to the client: " + kind);
        int p = Frames.PAYLOAD;
        int count = s.get(LE32, p + 20);
        byte[] data = java.util.Arrays.copyOfRange(f, p + ReflexHeader.LENGTH, f.length);
        return new Reply(Short.toUnsignedInt(s.get(LE16, p + 2)), s.get(LE64, p + 4), s.get(LE32, p + 12), count, data, f.length);
    }

    /** Returns once every server loop has run the control tasks posted before this call (tenant changes). */
    void settle() throws InterruptedException {
        for (UdpLoop l : server.loops()) {
            var ran = new java.util.concurrent.CountDownLatch(1);
            l.execute(ran::countDown);
            if (!ran.await(30, java.util.concurrent.TimeUnit.SECONDS)) throw new AssertionError("loop " + l.index() + " runs no control task");
        }
    }

    Reply call(int opcode, long handle, long lba, long lbaCount, byte[] data) {
        sendRequest(opcode, handle, lba, lbaCount, data);
        return receiveReply();
    }

    @Override
    public void close() {
        server.close();
        arena.close();
    }
}

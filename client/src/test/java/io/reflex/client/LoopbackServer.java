package io.reflex.client;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny ReFlex server for the client's own tests: an in-memory disk, one blocking thread per connection.
 * It answers each batch of requests it reads in reverse (or shuffled) order, to exercise out-of-order matching.
 * Legacy connections that send a bad request are closed, as the original did; after HELLO, errors are statuses.
 */
public final class LoopbackServer implements AutoCloseable {
    private final byte[] disk;
    private final long sectors;
    private final ServerSocketChannel listener;
    private final List<SocketChannel> connections = new CopyOnWriteArrayList<>();
    private final Map<Long, Integer> failures = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private volatile String token;
    private volatile boolean holdReplies;
    private volatile Long shuffleSeed;

    public LoopbackServer(long sectors) throws IOException {
        this.sectors = sectors;
        this.disk = new byte[Math.toIntExact(sectors * ReflexHeader.SECTOR_SIZE)];
        this.listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        Thread.ofPlatform().daemon().name("loopback-accept").start(this::acceptLoop);
    }

    public int port() { return ((InetSocketAddress) listener.socket().getLocalSocketAddress()).getPort(); }
    public byte[] disk() { return disk; }
    public long requests() { return requests.get(); }
    /** HELLO must carry this token (null: any token is accepted). */
    public LoopbackServer requireToken(String t) { token = t; return this; }
    /** Read requests but never answer them. */
    public LoopbackServer holdReplies(boolean hold) { holdReplies = hold; return this; }
    /** Shuffle each batch's replies with this seed instead of reversing them. */
    public LoopbackServer shuffle(long seed) { shuffleSeed = seed; return this; }
    /** Requests touching this lba fail with the status (legacy connections are closed instead). */
    public LoopbackServer fail(long lba, int status) { failures.put(lba, status); return this; }

    /** Closes every client connection from the server side. */
    public void dropConnections() throws IOException {
        for (SocketChannel c : connections) c.close();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        dropConnections();
    }

    private void acceptLoop() {
        try {
            while (true) {
                SocketChannel c = listener.accept();
                connections.add(c);
                Thread.ofPlatform().daemon().name("loopback-conn").start(() -> serve(c));
            }
        } catch (IOException closed) {
            // listener closed: test over
        }
    }

    private void serve(SocketChannel c) {
        ByteBuffer in = ByteBuffer.allocate(4 << 20).order(ByteOrder.LITTLE_ENDIAN);
        ReflexHeader h = new ReflexHeader();
        boolean extended = false;
        Random shuffle = shuffleSeed == null ? null : new Random(shuffleSeed);
        try (c) {
            while (c.read(in) >= 0) {
                in.flip();
                List<ByteBuffer> replies = new ArrayList<>();
                while (in.remaining() >= ReflexHeader.LENGTH) {
                    h.wrap(in, in.position());
                    long payload = h.requestPayloadBytes();
                    if (in.remaining() < ReflexHeader.LENGTH + payload) break;
                    int op = h.opcode();
                    long handle = h.handle(), lba = h.lba(), count = h.lbaCount();
                    ByteBuffer body = in.slice(in.position() + ReflexHeader.LENGTH, (int) payload);
                    in.position(in.position() + ReflexHeader.LENGTH + (int) payload);
                    requests.incrementAndGet();
                    if (op == Opcode.HELLO && !extended) {
                        String got = StandardCharsets.UTF_8.decode(body).toString();
                        int st = lba == Opcode.PROTOCOL_VERSION && (token == null || token.equals(got)) ? Status.OK : Status.EAUTH;
                        replies.add(reply(op, handle, st, 0, null, 0));
                        if (st != Status.OK) { write(c, replies); return; }
                        extended = true;
                        continue;
                    }
                    int st = check(op, lba, count, extended);
                    if (st != Status.OK && !extended) { write(c, replies); return; } // legacy: errors close
                    switch (op) {
                        case Opcode.GET -> replies.add(st == Status.OK
                                ? reply(op, handle, extended ? Status.OK : lba, count, disk, (int) (lba * 512))
                                : reply(op, handle, st, 0, null, 0));
                        case Opcode.SET -> {
                            if (st == Status.OK) body.get(disk, (int) (lba * 512), (int) payload);
                            replies.add(reply(op, handle, extended ? st : lba, 0, null, 0));
                        }
                        default -> replies.add(reply(op, handle, st, 0, null, 0));
                    }
                }
                in.compact();
                if (holdReplies) continue;
                if (shuffle != null) Collections.shuffle(replies, shuffle); else Collections.reverse(replies);
                write(c, replies);
            }
        } catch (IOException closed) {
            // client went away or dropConnections()
        }
    }

    private int check(int op, long lba, long count, boolean extended) {
        if (op == Opcode.FLUSH) return extended && count == 0 ? Status.OK : Status.EINVAL;
        if ((op != Opcode.GET && op != Opcode.SET) || count == 0 || count > ReflexHeader.MAX_SECTORS) return Status.EINVAL;
        if (lba < 0 || lba + count > sectors) return Status.ERANGE;
        for (long s = lba; s < lba + count; s++) {
            Integer f = failures.get(s);
            if (f != null) return f;
        }
        return Status.OK;
    }

    /** A reply header; {@code lbaOrStatus} is the echoed lba (legacy) or the status (extended). */
    private static ByteBuffer reply(int op, long handle, long lbaOrStatus, long count, byte[] src, int off) {
        int data = src == null ? 0 : (int) count * 512;
        ByteBuffer b = ByteBuffer.allocate(ReflexHeader.LENGTH + data).order(ByteOrder.LITTLE_ENDIAN);
        new ReflexHeader().wrap(b, 0).set(op, handle, lbaOrStatus, src == null ? 0 : count);
        if (src != null) b.put(ReflexHeader.LENGTH, src, off, data);
        return b;
    }

    private static void write(SocketChannel c, List<ByteBuffer> replies) throws IOException {
        ByteBuffer[] all = replies.toArray(ByteBuffer[]::new);
        long left = 0;
        for (ByteBuffer b : all) left += b.remaining();
        while (left > 0) left -= c.write(all);
    }
}

package io.reflex.dataplane.server;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/** A blocking client that speaks raw frames, the way the original's clients do: used to pin the wire format. */
final class RawClient implements AutoCloseable {
    final SocketChannel ch;
    private final ReflexHeader h = new ReflexHeader();

    RawClient(int port) throws IOException {
        ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.socket().setSoTimeout(10_000);
    }

    static ByteBuffer frame(int magic, int opcode, long handle, long lba, long count, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(ReflexHeader.LENGTH + (payload == null ? 0 : payload.length)).order(ByteOrder.LITTLE_ENDIAN);
        new ReflexHeader().wrap(b, 0).magic(magic).opcode(opcode).handle(handle).lba(lba).lbaCount(count);
        if (payload != null) b.put(ReflexHeader.LENGTH, payload);
        return b;
    }

    void send(ByteBuffer b) throws IOException {
        b.rewind();
        while (b.hasRemaining()) ch.write(b);
    }

    void set(long handle, long lba, byte[] data) throws IOException {
        send(frame(24, Opcode.SET, handle, lba, data.length / 512, data));
    }

    void get(long handle, long lba, int sectors) throws IOException {
        send(frame(24, Opcode.GET, handle, lba, sectors, null));
    }

    void hello(String token) throws IOException {
        byte[] t = token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8);
        send(frame(24, Opcode.HELLO, 77, Opcode.PROTOCOL_VERSION, t.length, t));
    }

    /** One reply: header fields and its data (GET). Throws EOFException when the server closed. */
    record Reply(int magic, int opcode, long handle, long lba, int status, long lbaCount, byte[] data) {}

    Reply read() throws IOException {
        ByteBuffer hb = readFully(ReflexHeader.LENGTH);
        h.wrap(hb, 0);
        long count = h.lbaCount();
        byte[] data = new byte[0];
        if (h.opcode() == Opcode.GET && count > 0) data = readFully((int) count * 512).array();
        return new Reply(h.magic(), h.opcode(), h.handle(), h.lba(), h.status(), count, data);
    }

    /** Blocks until the server closes the connection (or data arrives, which is returned as false). */
    boolean closedByServer() throws IOException {
        try {
            var in = ch.socket().getInputStream();
            return in.read() < 0;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private ByteBuffer readFully(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        var in = ch.socket().getInputStream();
        int off = 0;
        while (off < n) {
            int r = in.read(b.array(), off, n - off);
            if (r < 0) throw new java.io.EOFException("server closed the connection");
            off += r;
        }
        return b;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}

package io.reflex.dataplane.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A tiny blocking NBD client speaking raw frames (big-endian via Data streams), to pin the wire format. */
final class NbdRawClient implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    record OptReply(int option, int type, byte[] data) {
        String message() { return new String(data, StandardCharsets.UTF_8); }
    }

    record Reply(int error, long handle, byte[] data) {}

    NbdRawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16));
        out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    /** Connect, check the greeting, send client flags (fixed newstyle + no zeroes). */
    static NbdRawClient handshake(int port) throws IOException {
        NbdRawClient c = new NbdRawClient(port);
        c.greeting();
        c.clientFlags(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES);
        return c;
    }

    /** Handshake and NBD_OPT_GO to {@code export}; asserts success. */
    static NbdRawClient open(int port, String export) throws IOException {
        NbdRawClient c = handshake(port);
        List<OptReply> r = c.go(Nbd.OPT_GO, export, Nbd.INFO_BLOCK_SIZE);
        assertThat(r.getLast().type()).as("GO %s: %s", export, r.getLast().message()).isEqualTo(Nbd.REP_ACK);
        return c;
    }

    void greeting() throws IOException {
        assertThat(in.readLong()).isEqualTo(Nbd.NBDMAGIC);
        assertThat(in.readLong()).isEqualTo(Nbd.IHAVEOPT);
        assertThat(in.readUnsignedShort()).isEqualTo(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
    }

    void clientFlags(int flags) throws IOException {
        out.writeInt(flags);
        out.flush();
    }

    void option(int option, byte[] data) throws IOException {
        out.writeLong(Nbd.IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptReply optReply() throws IOException {
        assertThat(in.readLong()).isEqualTo(Nbd.REPLY_MAGIC);
        int opt = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptReply(opt, type, data);
    }

    static byte[] goData(String export, int... infos) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + 2 + 2 * infos.length);
        b.putInt(name.length).put(name).putShort((short) infos.length);
        for (int i : infos) b.putShort((short) i);
        return b.array();
    }

    /** GO or INFO: every reply up to and including ACK or the first error. */
    List<OptReply> go(int opt, String export, int... infos) throws IOException {
        option(opt, goData(export, infos));
        List<OptReply> replies = new ArrayList<>();
        while (true) {
            OptReply r = optReply();
            assertThat(r.option()).isEqualTo(opt);
            replies.add(r);
            if (r.type() == Nbd.REP_ACK || r.type() < 0) return replies;
        }
    }

    void request(int flags, int type, long handle, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(Nbd.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) out.write(payload);
        out.flush();
    }

    void write(long handle, long offset, byte[] data) throws IOException {
        request(0, Nbd.CMD_WRITE, handle, offset, data.length, data);
    }

    void read(long handle, long offset, int length) throws IOException {
        request(0, Nbd.CMD_READ, handle, offset, length, null);
    }

    /** A simple reply; {@code dataLength} bytes follow it when it has no error (reads). */
    Reply reply(int dataLength) throws IOException {
        return reply(h -> dataLength);
    }

    /** A simple reply whose data length (when it has no error) depends on its handle (replies come in any order). */
    Reply reply(java.util.function.LongToIntFunction dataLengthOfHandle) throws IOException {
        assertThat(in.readInt()).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
        int error = in.readInt();
        long handle = in.readLong();
        byte[] data = new byte[error == 0 ? dataLengthOfHandle.applyAsInt(handle) : 0];
        in.readFully(data);
        return new Reply(error, handle, data);
    }

    /** True when the server closed the connection (EOF or reset) within the socket timeout. */
    boolean closedByServer() throws IOException {
        try {
            while (true) {
                if (in.read() < 0) return true;
            }
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

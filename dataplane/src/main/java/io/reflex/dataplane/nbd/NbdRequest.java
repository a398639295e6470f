package io.reflex.dataplane.nbd;

import java.nio.ByteBuffer;

/**
 * Flyweight over a 28-byte NBD transmission request in a buffer (absolute, big-endian reads; the buffer's order is
 * irrelevant): magic u32, flags u16, type u16, handle u64, offset u64, length u32.
 */
public final class NbdRequest {
    private ByteBuffer buf;
    private int at;

    public NbdRequest wrap(ByteBuffer buffer, int offset) {
        this.buf = buffer;
        this.at = offset;
        return this;
    }

    public int magic() { return be32(at); }

    public int flags() { return be16(at + 4); }

    public int type() { return be16(at + 6); }

    /** Opaque cookie, echoed verbatim (read in whatever order: it is only copied back). */
    public long handle() { return be64(at + 8); }

    public long offset() { return be64(at + 16); }

    /** Unsigned 32-bit length. */
    public long length() { return be32(at + 24) & 0xFFFF_FFFFL; }

    /** Encode a request (tests and tools). */
    public NbdRequest set(int magic, int flags, int type, long handle, long offset, int length) {
        buf.putInt(at, be(magic));
        buf.putShort(at + 4, be((short) flags));
        buf.putShort(at + 6, be((short) type));
        buf.putLong(at + 8, be(handle));
        buf.putLong(at + 16, be(offset));
        buf.putInt(at + 24, be(length));
        return this;
    }

    private boolean little() { return buf.order() == java.nio.ByteOrder.LITTLE_ENDIAN; }

    private int be16(int i) {
        short v = buf.getShort(i);
        return (little() ? Short.reverseBytes(v) : v) & 0xFFFF;
    }

    private int be32(int i) {
        int v = buf.getInt(i);
        return little() ? Integer.reverseBytes(v) : v;
    }

    private long be64(int i) {
        long v = buf.getLong(i);
        return little() ? Long.reverseBytes(v) : v;
    }

    private short be(short v) { return little() ? Short.reverseBytes(v) : v; }

    private int be(int v) { return little() ? Integer.reverseBytes(v) : v; }

    private long be(long v) { return little() ? Long.reverseBytes(v) : v; }
}

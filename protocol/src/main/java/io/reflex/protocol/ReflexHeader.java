package io.reflex.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Flyweight over the packed 24-byte ReFlex header, little-endian on the wire (as the original's x86 structs).
 *
 * <pre>
 *  0               2               4                               12                              20              24
 *  +---------------+---------------+-------------------------------+-------------------------------+---------------+
 *  | magic u16=24  | opcode u16    | handle (8 opaque bytes)       | lba u64 (512-byte sectors)    | lba_count u32 |
 *  +---------------+---------------+-------------------------------+-------------------------------+---------------+
 * </pre>
 *
 * In an extended (post-HELLO) response the lba field carries {@code status u32 @12 | reserved u32 @16}; see PROTOCOL.md.
 * The flyweight reads and writes with absolute indices so it never moves the buffer's position.
 */
public final class ReflexHeader {
    public static final int LENGTH = 24;
    public static final int MAGIC = 24;
    public static final int MAGIC_OFFSET = 0;
    public static final int OPCODE_OFFSET = 2;
    public static final int HANDLE_OFFSET = 4;
    public static final int LBA_OFFSET = 12;
    public static final int STATUS_OFFSET = 12;
    public static final int LBA_COUNT_OFFSET = 20;

    public static final int SECTOR_SIZE = 512;
    public static final int SECTOR_SHIFT = 9;
    /** Largest payload of one request, as in the original. */
    public static final int MAX_BYTES = 1 << 20;
    public static final int MAX_SECTORS = MAX_BYTES / SECTOR_SIZE;

    private ByteBuffer buffer;
    private int offset;

    public ReflexHeader wrap(ByteBuffer buffer, int offset) {
        if (buffer.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalArgumentException("ReFlex headers are little-endian; set buffer.order(LITTLE_ENDIAN)");
        }
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public ByteBuffer buffer() { return buffer; }
    public int offset() { return offset; }

    public int magic() { return Short.toUnsignedInt(buffer.getShort(offset + MAGIC_OFFSET)); }
    public int opcode() { return Short.toUnsignedInt(buffer.getShort(offset + OPCODE_OFFSET)); }
    /** The 8 opaque handle bytes as one long (LE), echoed verbatim. */
    public long handle() { return buffer.getLong(offset + HANDLE_OFFSET); }
    public long lba() { return buffer.getLong(offset + LBA_OFFSET); }
    /** Unsigned 32-bit sector count. */
    public long lbaCount() { return Integer.toUnsignedLong(buffer.getInt(offset + LBA_COUNT_OFFSET)); }
    /** Status of an extended response (only meaningful after HELLO). */
    public int status() { return buffer.getInt(offset + STATUS_OFFSET); }

    public ReflexHeader magic(int v) { buffer.putShort(offset + MAGIC_OFFSET, (short) v); return this; }
    public ReflexHeader opcode(int v) { buffer.putShort(offset + OPCODE_OFFSET, (short) v); return this; }
    public ReflexHeader handle(long v) { buffer.putLong(offset + HANDLE_OFFSET, v); return this; }
    public ReflexHeader lba(long v) { buffer.putLong(offset + LBA_OFFSET, v); return this; }
    public ReflexHeader lbaCount(long v) { buffer.putInt(offset + LBA_COUNT_OFFSET, (int) v); return this; }
    public ReflexHeader status(int v) {
        buffer.putInt(offset + STATUS_OFFSET, v);
        buffer.putInt(offset + STATUS_OFFSET + 4, 0);
        return this;
    }

    /** Writes a whole header in one go. */
    public ReflexHeader set(int opcode, long handle, long lba, long lbaCount) {
        return magic(MAGIC).opcode(opcode).handle(handle).lba(lba).lbaCount(lbaCount);
    }

    /** Payload bytes a request carries after its header (SET data, HELLO token). */
    public long requestPayloadBytes() {
        return switch (opcode()) {
            case Opcode.SET, Opcode.SET_NO_ACK -> lbaCount() << SECTOR_SHIFT;
            case Opcode.HELLO -> lbaCount();
            default -> 0;
        };
    }
}

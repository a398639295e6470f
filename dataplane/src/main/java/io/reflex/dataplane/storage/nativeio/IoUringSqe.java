package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_uring_sqe}, include/uapi/linux/io_uring.h (line 22 in linux-libc-dev 6.1), 64 bytes. Only the
 * members the storage engine uses are named; the unions are flattened to the member we write:
 *
 * <pre>
 *   0 u8  opcode     1 u8 flags    2 u16 ioprio    4 s32 fd
 *   8 u64 off        16 u64 addr   24 u32 len      28 u32 rw_flags | fsync_flags
 *  32 u64 user_data  40 u16 buf_index  42 u16 personality  44 u32 file_index  48 u64 addr3  56 u64 pad2
 * </pre>
 *
 * Static accessors over the mmap'd SQE array at a byte {@code base}: a flyweight without an object per entry.
 */
public final class IoUringSqe {
    public static final long SIZE = 64;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("opcode"),
            JAVA_BYTE.withName("flags"),
            JAVA_SHORT.withName("ioprio"),
            JAVA_INT.withName("fd"),
            JAVA_LONG.withName("off"),
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("len"),
            JAVA_INT.withName("rw_flags"),
            JAVA_LONG.withName("user_data"),
            JAVA_SHORT.withName("buf_index"),
            JAVA_SHORT.withName("personality"),
            JAVA_INT.withName("file_index"),
            JAVA_LONG.withName("addr3"),
            JAVA_LONG.withName("pad2"));

    public static final long OPCODE_OFFSET = 0;
    public static final long FLAGS_OFFSET = 1;
    public static final long IOPRIO_OFFSET = 2;
    public static final long FD_OFFSET = 4;
    public static final long OFF_OFFSET = 8;
    public static final long ADDR_OFFSET = 16;
    public static final long LEN_OFFSET = 24;
    public static final long RW_FLAGS_OFFSET = 28;
    public static final long USER_DATA_OFFSET = 32;
    public static final long BUF_INDEX_OFFSET = 40;
    public static final long PERSONALITY_OFFSET = 42;
    public static final long FILE_INDEX_OFFSET = 44;
    public static final long ADDR3_OFFSET = 48;

    // enum io_uring_op
    public static final byte IORING_OP_NOP = 0;
    public static final byte IORING_OP_FSYNC = 3;
    public static final byte IORING_OP_POLL_ADD = 6;
    public static final byte IORING_OP_READ_FIXED = 4;
    public static final byte IORING_OP_WRITE_FIXED = 5;
    public static final byte IORING_OP_READ = 22;
    public static final byte IORING_OP_WRITE = 23;
    public static final byte IORING_OP_ASYNC_CANCEL = 14;
    public static final byte IORING_OP_SEND = 26;
    public static final byte IORING_OP_RECV = 27;
    public static final byte IORING_OP_SEND_ZC = 47;
    // sqe->flags
    public static final byte IOSQE_FIXED_FILE = 1;
    /** Take the receive buffer from the provided-buffer group in buf_group (IOSQE_BUFFER_SELECT_BIT 5). */
    public static final byte IOSQE_BUFFER_SELECT = 1 << 5;
    // sqe->ioprio for SEND/RECV (IORING_RECVSEND_*)
    public static final short IORING_RECV_MULTISHOT = 1 << 1;
    // sqe->msg_flags (same word as rw_flags; linux/socket.h)
    public static final int MSG_NOSIGNAL = 0x4000;
    /** On a SEND: the kernel finishes a partial send itself (stream sockets) and completes once with the whole. */
    public static final int MSG_WAITALL = 0x100;
    // sqe->fsync_flags
    public static final int IORING_FSYNC_DATASYNC = 1;
    // sqe->rw_flags (linux/fs.h RWF_*)
    public static final int RWF_DSYNC = 2;
    // sqe->poll32_events (same word as rw_flags)
    public static final int POLLIN = 1;

    private IoUringSqe() {}

    /** Fills a whole SQE (every field, so stale values from the ring's previous use never leak through). */
    public static void prep(MemorySegment sqes, long base, byte opcode, byte flags, int fd, long offset, long address,
            int length, int rwFlags, long userData) {
        sqes.set(JAVA_BYTE, base + OPCODE_OFFSET, opcode);
        sqes.set(JAVA_BYTE, base + FLAGS_OFFSET, flags);
        sqes.set(JAVA_SHORT, base + IOPRIO_OFFSET, (short) 0);
        sqes.set(JAVA_INT, base + FD_OFFSET, fd);
        sqes.set(JAVA_LONG, base + OFF_OFFSET, offset);
        sqes.set(JAVA_LONG, base + ADDR_OFFSET, address);
        sqes.set(JAVA_INT, base + LEN_OFFSET, length);
        sqes.set(JAVA_INT, base + RW_FLAGS_OFFSET, rwFlags);
        sqes.set(JAVA_LONG, base + USER_DATA_OFFSET, userData);
        sqes.set(JAVA_LONG, base + BUF_INDEX_OFFSET, 0L); // buf_index, personality, file_index
        sqes.set(JAVA_LONG, base + ADDR3_OFFSET, 0L);
        sqes.set(JAVA_LONG, base + ADDR3_OFFSET + 8, 0L);
    }

    /** Sets buf_index (after {@link #prep}): the registered buffer a READ_FIXED/WRITE_FIXED address lies in. */
    public static void bufIndex(MemorySegment sqes, long base, int index) {
        sqes.set(JAVA_SHORT, base + BUF_INDEX_OFFSET, (short) index);
    }

    /** Sets buf_group (after {@link #prep}; the same u16 as buf_index): the provided-buffer group a BUFFER_SELECT op takes from. */
    public static void bufGroup(MemorySegment sqes, long base, int group) {
        sqes.set(JAVA_SHORT, base + BUF_INDEX_OFFSET, (short) group);
    }

    /** Sets ioprio (after {@link #prep}); for SEND/RECV it carries IORING_RECVSEND_* flags. */
    public static void ioprio(MemorySegment sqes, long base, short flags) {
        sqes.set(JAVA_SHORT, base + IOPRIO_OFFSET, flags);
    }

    public static short ioprio(MemorySegment sqes, long base) {
        return sqes.get(JAVA_SHORT, base + IOPRIO_OFFSET);
    }

    public static short bufIndex(MemorySegment sqes, long base) {
        return sqes.get(JAVA_SHORT, base + BUF_INDEX_OFFSET);
    }

    public static byte opcode(MemorySegment sqes, long base) {
        return sqes.get(JAVA_BYTE, base + OPCODE_OFFSET);
    }

    public static byte flags(MemorySegment sqes, long base) {
        return sqes.get(JAVA_BYTE, base + FLAGS_OFFSET);
    }

    public static int fd(MemorySegment sqes, long base) {
        return sqes.get(JAVA_INT, base + FD_OFFSET);
    }

    public static long off(MemorySegment sqes, long base) {
        return sqes.get(JAVA_LONG, base + OFF_OFFSET);
    }

    public static long addr(MemorySegment sqes, long base) {
        return sqes.get(JAVA_LONG, base + ADDR_OFFSET);
    }

    public static int len(MemorySegment sqes, long base) {
        return sqes.get(JAVA_INT, base + LEN_OFFSET);
    }

    public static int rwFlags(MemorySegment sqes, long base) {
        return sqes.get(JAVA_INT, base + RW_FLAGS_OFFSET);
    }

    public static long userData(MemorySegment sqes, long base) {
        return sqes.get(JAVA_LONG, base + USER_DATA_OFFSET);
    }
}

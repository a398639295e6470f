package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * A provided-buffer ring (IORING_REGISTER_PBUF_RING): {@code count} receive buffers of {@code size} bytes the kernel
 * picks from only when data arrives, so an idle connection with a receive armed holds no memory. The ring is an array
 * of {@code struct io_uring_buf} (16 bytes: 0 u64 addr, 8 u32 len, 12 u16 bid, 14 u16 resv); the 16-bit tail the
 * application publishes overlays entry 0's {@code resv} (offset 14), so entries are written without that field.
 * Buffer ids are indexes: buffer {@code bid} is bytes {@code [bid * size, (bid + 1) * size)} of {@link #view()}.
 * Owned by one thread; nothing allocates after construction.
 */
public final class BufRing implements AutoCloseable {
    private static final long ENTRY = 16;
    private static final long TAIL_OFFSET = 14;
    private static final VarHandle U16 = JAVA_SHORT.varHandle();

    private final IoUring ring;
    private final int group;
    private final int count;
    private final int size;
    private final int mask;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment entries;
    private final MemorySegment data;
    private final ByteBuffer view;
    private short tail;
    private boolean registered;

    /**
     * Registers {@code count} (a power of two, ≤ 32768) buffers of {@code size} bytes as group {@code group} of
     * {@code ring}, all given to the kernel. Throws {@link NativeException} when the kernel refuses (before 5.19).
     */
    public BufRing(IoUring ring, int group, int count, int size) {
        if (Integer.bitCount(count) != 1 || count > 32768) {
            throw new IllegalArgumentException("buffer count must be a power of two ≤ 32768, got " + count);
        }
        this.ring = ring;
        this.group = group;
        this.count = count;
        this.size = size;
        this.mask = count - 1;
        this.entries = arena.allocate(ENTRY * count, 4096);
        this.data = arena.allocate((long) size * count, 4096);
        this.view = data.asByteBuffer();
        int r = ring.registerBufRing(entries.address(), count, group);
        if (r < 0) {
            arena.close();
            throw new NativeException("io_uring provided-buffer ring (" + count + " x " + size + " B)", -r);
        }
        registered = true;
        for (int bid = 0; bid < count; bid++) {
            put(bid);
        }
        publish();
    }

    /** Gives buffer {@code bid} back to the kernel (visible at the next {@link #publish}). */
    public void recycle(int bid) {
        put(bid);
    }

    /** Makes recycled buffers visible to the kernel (store-release of the tail). */
    public void publish() {
        U16.setRelease(entries, TAIL_OFFSET, tail);
    }

    private void put(int bid) {
        long e = (tail & mask) * ENTRY;
        entries.set(JAVA_LONG, e, data.address() + (long) bid * size);
        entries.set(JAVA_INT, e + 8, size);
        entries.set(JAVA_SHORT, e + 12, (short) bid);
        tail++;
    }

    /** All buffers as one direct buffer (absolute gets only; never change its position or limit). */
    public ByteBuffer view() {
        return view;
    }

    /** Byte offset of buffer {@code bid} in {@link #view()}. */
    public int offset(int bid) {
        return bid * size;
    }

    public int size() {
        return size;
    }

    public int count() {
        return count;
    }

    public int group() {
        return group;
    }

    /** Unregisters the group and frees the memory; call only when no receive that may take a buffer is in flight. */
    @Override
    public void close() {
        if (!registered) {
            return;
        }
        registered = false;
        ring.unregisterBufRing(group);
        arena.close();
    }
}

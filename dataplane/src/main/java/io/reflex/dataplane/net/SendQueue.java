package io.reflex.dataplane.net;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.nio.channels.SocketChannel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Bytes a socket holds that its peer has not acknowledged yet (Linux {@code SIOCOUTQ}). A peer draining a send-blocked
 * connection slowly frees kernel buffer long before the loop can write again (the kernel wakes writers only once a
 * third of a buffer of up to 4 MiB is free), so without this a slow reader would look stuck; with it, the send timeout
 * means "the peer took nothing", exactly. Needs {@code --add-opens java.base/sun.nio.ch} for the descriptor (the
 * dataplane jar's manifest carries it); without it {@link #fd} is -1 and only the loop's own writes count as progress.
 * One per loop: its result cell is reused (no allocation per query).
 */
final class SendQueue {
    private static final long SIOCOUTQ = 0x5411;
    private static final MethodHandle IOCTL = ioctl();
    private static final Field FD_VAL = fdField();

    private final MemorySegment cell = Arena.ofAuto().allocate(JAVA_INT);

    /** Whether socket descriptors can be had at all (the io_uring network path needs them). */
    static boolean fdAccessible() {
        return FD_VAL != null;
    }

    /** The socket's descriptor, or -1 when it cannot be had. */
    static int fd(SocketChannel ch) {
        if (FD_VAL == null || IOCTL == null || !FD_VAL.getDeclaringClass().isInstance(ch)) return -1;
        try {
            return FD_VAL.getInt(ch);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    /** Unacknowledged bytes in {@code fd}'s send queue, or -1. */
    long unacked(int fd) {
        if (fd < 0) return -1;
        try {
            int rc = (int) IOCTL.invokeExact(fd, SIOCOUTQ, cell);
            return rc == 0 ? cell.get(JAVA_INT, 0) : -1;
        } catch (Throwable t) {
            return -1;
        }
    }

    private static MethodHandle ioctl() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("ioctl")
                    .map(a -> linker.downcallHandle(a, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                            Linker.Option.firstVariadicArg(2)))
                    .orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Field fdField() {
        try {
            Field f = Class.forName("sun.nio.ch.SocketChannelImpl").getDeclaredField("fdVal");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // InaccessibleObjectException without the add-opens
        }
    }
}

package io.reflex.dataplane.net;

import java.lang.reflect.Field;
import java.nio.channels.Selector;

/**
 * The epoll fd behind a JDK {@link Selector} on Linux, so the io_uring wait can also wake on network readiness
 * ({@link io.reflex.dataplane.storage.IoQueue#wakeOnReadable}). The JDK does not expose it: this reads
 * {@code sun.nio.ch.EPollSelectorImpl.epfd}, which needs {@code --add-opens java.base/sun.nio.ch} (the dataplane
 * jar's manifest carries it). Without it — or on another selector implementation — the answer is -1 and the loop
 * waits as before (a device wait then delays network reads by up to its timeout).
 */
public final class SelectorFd {
    private SelectorFd() {}

    public static int epollFd(Selector selector) {
        try {
            Class<?> c = selector.getClass();
            if (!c.getName().equals("sun.nio.ch.EPollSelectorImpl")) return -1;
            Field f = c.getDeclaredField("epfd");
            f.setAccessible(true);
            return f.getInt(selector);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1; // InaccessibleObjectException without the add-opens: fall back to plain waits
        }
    }
}

package io.reflex.dataplane.net;

import java.util.Locale;

/**
 * How a dataplane loop talks to its sockets. {@code uring}: receives, sends and (through the listener's readiness)
 * accepts go through an io_uring — the device queue's own ring when the storage engine is io_uring, so one
 * io_uring_enter per loop iteration submits replies and device requests and reaps both. {@code epoll}: a NIO selector
 * and read/write system calls (the fallback). {@code auto}: uring where this kernel and JVM offer everything it needs
 * ({@link UringNet#unavailableReason}), else epoll. A DPDK engine may add a value here.
 */
public enum NetMode {
    AUTO, URING, EPOLL;

    /** System property that sets the default (tests run the network suites once per path with it). */
    public static final String PROPERTY = "reflex.net";

    /** {@code --net} values, for help and errors. */
    public static String choices() {
        return "auto | uring | epoll";
    }

    /** Parses a {@code --net} value; a clear error names the choices. */
    public static NetMode parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown network path '" + value + "'; valid values are " + choices());
        }
    }

    /** The default: the {@value #PROPERTY} system property, or auto. */
    public static NetMode fromProperty() {
        String v = System.getProperty(PROPERTY);
        return v == null || v.isBlank() ? AUTO : parse(v);
    }

    /** Why io_uring networking cannot be used here, or null when it can. */
    public static String uringUnavailableReason() {
        return UringNet.unavailableReason();
    }

    /** The path a loop uses: uring when asked for or automatic and available; epoll otherwise. */
    public boolean useUring() {
        return switch (this) {
            case EPOLL -> false;
            case URING -> {
                String why = UringNet.unavailableReason();
                if (why != null) throw new IllegalStateException("--net uring: " + why);
                yield true;
            }
            case AUTO -> UringNet.unavailableReason() == null;
        };
    }
}

package io.reflex.dataplane.cli;

import io.reflex.dataplane.net.ConnectionLimits;
import picocli.CommandLine.Option;

import java.time.Duration;

/**
 * The client-connection flags of {@code reflex-dataplane} and {@code reflex-node-agent} (a picocli mixin: one set of
 * names, defaults and checks for both): timeouts, the per-connection buffer bound, and per-tenant admission.
 */
public final class ConnectionOptions {
    @Option(names = "--idle-timeout", defaultValue = "0", paramLabel = "SECONDS",
            description = "Close a connection with no request in progress and no reply outstanding for this long; 0 = never."
                    + " Default ${DEFAULT-VALUE}: ReFlex and kernel NBD clients keep idle connections open and do not reconnect"
                    + " (--tcp-keepalive still closes those whose peer vanished)")
    String idleTimeout;

    @Option(names = "--request-timeout", defaultValue = "30", paramLabel = "SECONDS",
            description = "A request (header and payload) and an NBD handshake must arrive within this, and a peer with replies"
                    + " waiting must take some at least this often; else the connection is closed. 0 = never (default: ${DEFAULT-VALUE})")
    String requestTimeout;

    @Option(names = "--tcp-keepalive", defaultValue = "60", paramLabel = "SECONDS",
            description = "TCP keepalive idle time on client connections (then 6 probes 10 s apart): finds peers that vanished"
                    + " without closing. 0 = off (default: ${DEFAULT-VALUE})")
    String keepAlive;

    @Option(names = "--max-connection-buffers", defaultValue = "16Mi", paramLabel = "SIZE",
            description = "I/O buffer memory one connection may hold (requests received, at the device or awaiting send);"
                    + " at the bound it is not read until its replies go out. At least 1Mi (default: ${DEFAULT-VALUE})")
    String maxConnectionBuffers;

    @Option(names = "--max-connect-rate", defaultValue = "200", paramLabel = "PER_SECOND",
            description = "Connections per second each tenant's listener accepts (a token bucket of --connect-burst); over it"
                    + " the listener stops accepting until a token accrues and new connections wait in the kernel's backlog, so"
                    + " a connect storm against one tenant costs the others nothing. 0 = unlimited (default: ${DEFAULT-VALUE})")
    String maxConnectRate;

    @Option(names = "--connect-burst", defaultValue = "200", paramLabel = "N",
            description = "Connections a tenant may open at once after a quiet spell, within --max-connect-rate (default: ${DEFAULT-VALUE})")
    String connectBurst;

    @Option(names = "--max-tenant-connections", defaultValue = "1024", paramLabel = "N",
            description = "Open connections per tenant; at the cap its listener stops accepting until one closes (more wait in"
                    + " the kernel's backlog). 0 = unlimited (default: ${DEFAULT-VALUE})")
    String maxTenantConnections;

    /** The limits these flags give; IllegalArgumentException naming the flag for a bad value. */
    public ConnectionLimits limits() {
        long bytes;
        try {
            bytes = Sizes.parse(maxConnectionBuffers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--max-connection-buffers: " + e.getMessage(), e);
        }
        return new ConnectionLimits(seconds("--idle-timeout", idleTimeout), seconds("--request-timeout", requestTimeout),
                seconds("--tcp-keepalive", keepAlive), bytes, rate("--max-connect-rate", maxConnectRate),
                count("--connect-burst", connectBurst), count("--max-tenant-connections", maxTenantConnections));
    }

    /** A non-negative number of seconds (fractions allowed, e.g. 0.5). */
    private static Duration seconds(String flag, String value) {
        double s = parse(value);
        if (!(s >= 0) || s > 1e9) throw new IllegalArgumentException(flag + " must be a number of seconds, 0 (off) or more, got '" + value + "'");
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    private static double rate(String flag, String value) {
        double s = parse(value);
        if (!(s >= 0) || Double.isInfinite(s)) throw new IllegalArgumentException(flag + " must be a number of connections per second, 0 (unlimited) or more, got '" + value + "'");
        return s;
    }

    private static double parse(String value) {
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static int count(String flag, String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(flag + " must be a whole number, 0 or more, got '" + value + "'");
    }
}

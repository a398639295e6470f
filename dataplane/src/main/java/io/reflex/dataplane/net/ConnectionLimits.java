package io.reflex.dataplane.net;

import io.reflex.protocol.ReflexHeader;

import java.time.Duration;

/**
 * How long a client connection may sit idle or stuck, and how much memory it may hold. Checked by each loop's
 * periodic sweep over its own connections (no timer per connection, nothing on the request path).
 *
 * @param idleTimeout        close a connection with no request in progress and no reply outstanding for this long;
 *                           zero: never (the default — ReFlex and kernel NBD clients keep idle connections open and
 *                           do not reconnect, so closing them fails the client; keepalive catches vanished peers)
 * @param requestTimeout     a request's header and payload, and an NBD handshake, must arrive within this; replies
 *                           must keep being taken by the peer (no byte accepted for this long closes); zero: never
 * @param keepAlive          TCP keepalive idle time before the first probe (then every 10 s, 6 probes), so a peer that
 *                           vanished without a FIN/RST is found even on an idle connection; zero: keepalive off
 * @param maxConnectionBytes I/O buffer bytes one connection may hold (requests received, at the device, or awaiting
 *                           send); at the bound it is not read until its own replies go out
 */
public record ConnectionLimits(Duration idleTimeout, Duration requestTimeout, Duration keepAlive, long maxConnectionBytes) {
    /** One max-size request must always fit. */
    public static final long MIN_CONNECTION_BYTES = ReflexHeader.MAX_BYTES;
    /** Linux caps TCP_KEEPIDLE at 32767 s. */
    public static final long MAX_KEEPALIVE_SECONDS = 32767;
    public static final ConnectionLimits DEFAULTS =
            new ConnectionLimits(Duration.ZERO, Duration.ofSeconds(30), Duration.ofSeconds(60), 16L << 20);

    private static final long MIN_SWEEP = 10_000_000L, MAX_SWEEP = 1_000_000_000L;

    public ConnectionLimits {
        nonNegative("--idle-timeout", idleTimeout);
        nonNegative("--request-timeout", requestTimeout);
        nonNegative("--tcp-keepalive", keepAlive);
        if (keepAlive.toNanos() % 1_000_000_000L != 0 || keepAlive.toSeconds() > MAX_KEEPALIVE_SECONDS) {
            throw new IllegalArgumentException("--tcp-keepalive must be whole seconds, 0 (off) to " + MAX_KEEPALIVE_SECONDS + ", got " + seconds(keepAlive));
        }
        if (maxConnectionBytes < MIN_CONNECTION_BYTES || maxConnectionBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--max-connection-buffers must be between 1Mi (one max-size request) and 2Gi, got " + maxConnectionBytes);
        }
    }

    long idleNanos() { return idleTimeout.toNanos(); }

    long requestNanos() { return requestTimeout.toNanos(); }

    /** How often a loop checks its connections: a quarter of the shortest timeout, between 10 ms and 1 s. */
    long sweepNanos() {
        long shortest = Long.MAX_VALUE;
        if (idleNanos() > 0) shortest = idleNanos();
        if (requestNanos() > 0) shortest = Math.min(shortest, requestNanos());
        return shortest == Long.MAX_VALUE ? MAX_SWEEP : Math.clamp(shortest / 4, MIN_SWEEP, MAX_SWEEP);
    }

    private static void nonNegative(String flag, Duration d) {
        if (d == null || d.isNegative()) throw new IllegalArgumentException(flag + " must be 0 (off) or a positive number of seconds, got " + (d == null ? "nothing" : seconds(d)));
    }

    private static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString() + " s";
    }
}

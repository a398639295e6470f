package io.reflex.dataplane.net;

import io.reflex.protocol.ReflexHeader;

import java.time.Duration;

/**
 * How long a client connection may sit idle or stuck, how much memory it may hold, and how fast and how many
 * connections a tenant may open. The timeouts are checked by each loop's periodic sweep over its own connections (no
 * timer per connection, nothing on the request path); the admission limits by the tenant's listener, once per accept
 * ({@link TenantAdmission}).
 *
 * @param idleTimeout          close a connection with no request in progress and no reply outstanding for this long;
 *                             zero: never (the default — ReFlex and kernel NBD clients keep idle connections open and
 *                             do not reconnect, so closing them fails the client; keepalive catches vanished peers)
 * @param requestTimeout       a request's header and payload, and an NBD handshake, must arrive within this; replies
 *                             must keep being taken by the peer (no byte accepted for this long closes); zero: never
 * @param keepAlive            TCP keepalive idle time before the first probe (then every 10 s, 6 probes), so a peer
 *                             that vanished without a FIN/RST is found even on an idle connection; zero: keepalive off
 * @param maxConnectionBytes   I/O buffer bytes one connection may hold (requests received, at the device, or awaiting
 *                             send); at the bound it is not read until its own replies go out
 * @param maxConnectRate       connections per second a tenant's listener accepts (a token bucket); over it the listener
 *                             stops accepting until a token accrues, and new connections wait in the kernel's backlog;
 *                             zero: unlimited
 * @param connectBurst         the bucket's depth: connections accepted at once after a quiet spell (at least 1 when a
 *                             rate is set)
 * @param maxTenantConnections open connections per tenant (over all loops); at the cap its listener stops accepting
 *                             until one closes; zero: unlimited
 */
public record ConnectionLimits(Duration idleTimeout, Duration requestTimeout, Duration keepAlive, long maxConnectionBytes,
                               double maxConnectRate, int connectBurst, int maxTenantConnections) {
    /** One max-size request must always fit. */
    public static final long MIN_CONNECTION_BYTES = ReflexHeader.MAX_BYTES;
    /** Linux caps TCP_KEEPIDLE at 32767 s. */
    public static final long MAX_KEEPALIVE_SECONDS = 32767;
    /** Upper bounds of the admission limits: beyond these they would limit nothing. */
    public static final double MAX_CONNECT_RATE = 1_000_000;
    public static final int MAX_CONNECT_BURST = 1_000_000, MAX_TENANT_CONNECTIONS = 1_000_000;
    /**
     * Admission defaults: 200 connections/s per tenant with a burst of 200 costs a loop ~1% of a core (35–45 µs per
     * connection, bench/hostile/README.md) however fast a tenant reconnects, yet lets a client open a pool of
     * connections at once; 1,024 open connections per tenant bound one tenant's share of descriptors and memory.
     */
    public static final double DEFAULT_CONNECT_RATE = 200;
    public static final int DEFAULT_CONNECT_BURST = 200, DEFAULT_TENANT_CONNECTIONS = 1024;
    public static final ConnectionLimits DEFAULTS = new ConnectionLimits(Duration.ZERO, Duration.ofSeconds(30),
            Duration.ofSeconds(60), 16L << 20);

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
        if (!(maxConnectRate >= 0 && maxConnectRate <= MAX_CONNECT_RATE)) {
            throw new IllegalArgumentException("--max-connect-rate must be 0 (unlimited) or a rate up to " + (int) MAX_CONNECT_RATE
                    + " connections per second, got " + maxConnectRate);
        }
        if (connectBurst < (maxConnectRate > 0 ? 1 : 0) || connectBurst > MAX_CONNECT_BURST) {
            throw new IllegalArgumentException("--connect-burst must be between 1 and " + MAX_CONNECT_BURST + " connections, got " + connectBurst);
        }
        if (maxTenantConnections < 0 || maxTenantConnections > MAX_TENANT_CONNECTIONS) {
            throw new IllegalArgumentException("--max-tenant-connections must be 0 (unlimited) or up to " + MAX_TENANT_CONNECTIONS + ", got " + maxTenantConnections);
        }
    }

    /** These timeouts and buffer bound, the default admission limits. */
    public ConnectionLimits(Duration idleTimeout, Duration requestTimeout, Duration keepAlive, long maxConnectionBytes) {
        this(idleTimeout, requestTimeout, keepAlive, maxConnectionBytes, DEFAULT_CONNECT_RATE, DEFAULT_CONNECT_BURST, DEFAULT_TENANT_CONNECTIONS);
    }

    /** The same timeouts and buffer bound with these admission limits (0: unlimited). */
    public ConnectionLimits withAdmission(double connectRate, int burst, int tenantConnections) {
        return new ConnectionLimits(idleTimeout, requestTimeout, keepAlive, maxConnectionBytes, connectRate, burst, tenantConnections);
    }

    /** The same timeouts and buffer bound; tenants connect as fast and as often as they like. */
    public ConnectionLimits withoutAdmission() { return withAdmission(0, 0, 0); }

    /** Whether a tenant's listener limits anything. */
    public boolean limitsAdmission() { return maxConnectRate > 0 || maxTenantConnections > 0; }

    long idleNanos() { return idleTimeout.toNanos(); }

    long requestNanos() { return requestTimeout.toNanos(); }

    /** How often a loop checks its connections: a quarter of the shortest timeout, between 10 ms and 1 s. */
    long sweepNanos() {
        long shortest = Long.MAX_VALUE;
        if (idleNanos() > 0) shortest = idleNanos();
        if (requestNanos() > 0) shortest = Math.min(shortest, requestNanos());
        return shortest == Long.MAX_VALUE ? MAX_SWEEP : Math.clamp(shortest / 4, MIN_SWEEP, MAX_SWEEP);
    }

    /** "200/s (burst 200), at most 1024 open per tenant", for start-up summaries. */
    public String describeAdmission() {
        String rate = maxConnectRate == 0 ? "connect rate unlimited"
                : java.math.BigDecimal.valueOf(maxConnectRate).stripTrailingZeros().toPlainString() + " connections/s (burst " + connectBurst + ")";
        return rate + " and " + (maxTenantConnections == 0 ? "no cap on open connections" : "at most " + maxTenantConnections + " open") + " per tenant";
    }

    private static void nonNegative(String flag, Duration d) {
        if (d == null || d.isNegative()) throw new IllegalArgumentException(flag + " must be 0 (off) or a positive number of seconds, got " + (d == null ? "nothing" : seconds(d)));
    }

    private static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString() + " s";
    }
}

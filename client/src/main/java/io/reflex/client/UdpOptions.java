package io.reflex.client;

import io.reflex.protocol.UdpFraming;

import java.time.Duration;

/**
 * Retry rules of the UDP transport (PROTOCOL.md, "UDP transport"): a request whose reply has not arrived after
 * {@code timeout} is sent again with the same handle, the timeout doubling each time up to 16×, at most
 * {@code retries} times; then it fails with {@link UdpConnection#STATUS_TIMEOUT}.
 *
 * @param maxDatagram largest UDP payload the path carries (MTU − 28); requests with more data are refused before sending
 */
public record UdpOptions(Duration timeout, int retries, int maxDatagram) {
    public UdpOptions {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("UDP timeout must be > 0");
        if (retries < 0) throw new IllegalArgumentException("UDP retries must be >= 0");
        if (maxDatagram < 24 + 512 || maxDatagram > 65507) throw new IllegalArgumentException("maxDatagram must be 536..65507");
    }

    /** 50 ms, 6 retries (50, 100 … 800 ms: about 3 s in all), jumbo datagrams (MTU 9000). */
    public static UdpOptions defaults() {
        return new UdpOptions(Duration.ofMillis(50), 6, UdpFraming.JUMBO_PAYLOAD);
    }
}

package io.reflex.client;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * Connection settings. Immutable; start from {@link #defaults()} and use the {@code with*} methods.
 *
 * @param extended          send HELLO first and expect a status in every response (see PROTOCOL.md). Off means
 *                          legacy mode: exactly the original wire protocol, errors show up as the connection closing.
 * @param token             the tenant token sent in HELLO (UTF-8, at most {@value Opcode#MAX_TOKEN_BYTES} bytes);
 *                          null for none. Setting a token implies extended mode.
 * @param maxInFlight       request slots per connection (outstanding requests before submit reports "full")
 * @param sendBufferBytes   size of the connection's outgoing batch buffer; at least one 1 MiB write plus its header
 * @param receiveBufferBytes size of the incoming buffer; at least one 1 MiB read reply plus its header
 * @param connectTimeout    TCP connect and HELLO reply timeout
 * @param pollMode          idle strategy of {@link ReflexClient}'s I/O thread
 */
public record ClientOptions(boolean extended, String token, int maxInFlight, int sendBufferBytes,
                            int receiveBufferBytes, Duration connectTimeout, PollMode pollMode) {

    /** The smallest buffer that holds one maximal request or reply. */
    public static final int MIN_BUFFER_BYTES = ReflexHeader.LENGTH + ReflexHeader.MAX_BYTES;
    public static final int DEFAULT_BUFFER_BYTES = MIN_BUFFER_BYTES + (64 << 10);
    public static final int DEFAULT_MAX_IN_FLIGHT = 4096;

    public ClientOptions {
        if (maxInFlight < 1) throw new IllegalArgumentException("maxInFlight must be >= 1, got " + maxInFlight);
        if (sendBufferBytes < MIN_BUFFER_BYTES || receiveBufferBytes < MIN_BUFFER_BYTES) {
            throw new IllegalArgumentException("send/receive buffers must hold a 1 MiB request: >= " + MIN_BUFFER_BYTES + " bytes");
        }
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(pollMode, "pollMode");
        if (token != null) {
            extended = true;
            int n = token.getBytes(StandardCharsets.UTF_8).length;
            if (n > Opcode.MAX_TOKEN_BYTES) {
                throw new IllegalArgumentException("token is " + n + " bytes; at most " + Opcode.MAX_TOKEN_BYTES + " allowed");
            }
        }
    }

    /** Legacy protocol, 4096 slots, ~1 MiB buffers, 5 s connect timeout, adaptive polling. */
    public static ClientOptions defaults() {
        return new ClientOptions(false, null, DEFAULT_MAX_IN_FLIGHT, DEFAULT_BUFFER_BYTES, DEFAULT_BUFFER_BYTES,
                Duration.ofSeconds(5), PollMode.ADAPTIVE);
    }

    /** Extended mode with this tenant token. */
    public ClientOptions withToken(String t) {
        return new ClientOptions(true, t, maxInFlight, sendBufferBytes, receiveBufferBytes, connectTimeout, pollMode);
    }

    /** Extended mode on/off; switching it off also drops the token. */
    public ClientOptions withExtended(boolean on) {
        return new ClientOptions(on, on ? token : null, maxInFlight, sendBufferBytes, receiveBufferBytes, connectTimeout, pollMode);
    }

    public ClientOptions withMaxInFlight(int n) {
        return new ClientOptions(extended, token, n, sendBufferBytes, receiveBufferBytes, connectTimeout, pollMode);
    }

    public ClientOptions withBufferBytes(int send, int receive) {
        return new ClientOptions(extended, token, maxInFlight, send, receive, connectTimeout, pollMode);
    }

    public ClientOptions withConnectTimeout(Duration d) {
        return new ClientOptions(extended, token, maxInFlight, sendBufferBytes, receiveBufferBytes, d, pollMode);
    }

    public ClientOptions withPollMode(PollMode m) {
        return new ClientOptions(extended, token, maxInFlight, sendBufferBytes, receiveBufferBytes, connectTimeout, m);
    }

    /** The token's bytes as sent in HELLO (empty if none). */
    byte[] tokenBytes() {
        return token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() { // never print the token itself
        return "ClientOptions[extended=" + extended + ", token=" + (token == null ? "none" : "***") + ", maxInFlight="
                + maxInFlight + ", sendBufferBytes=" + sendBufferBytes + ", receiveBufferBytes=" + receiveBufferBytes
                + ", connectTimeout=" + connectTimeout + ", pollMode=" + pollMode + "]";
    }
}

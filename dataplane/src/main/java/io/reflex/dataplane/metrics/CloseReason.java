package io.reflex.dataplane.metrics;

/** Why the dataplane closed a client connection (the {@code reason} label of reflex_connections_closed_total). */
public enum CloseReason {
    /** The peer closed (EOF), or asked to (NBD DISC / OPT_ABORT). */
    PEER_CLOSED("peer_closed"),
    /** A read or write failed: reset, or TCP keepalive found the peer gone. */
    IO_ERROR("io_error"),
    /** Malformed request, refused handshake or authentication: the stream cannot be trusted. */
    PROTOCOL_ERROR("protocol_error"),
    /** A legacy client's request failed on the device (it cannot be told). */
    DEVICE_ERROR("device_error"),
    /** A legacy client's request was refused because its tenant's queue was full (it cannot be told EBUSY). */
    BUSY("busy"),
    /** No request and no reply outstanding for the idle timeout. */
    IDLE("idle"),
    /** A request (header or payload) did not arrive completely within the request timeout. */
    REQUEST_TIMEOUT("request_timeout"),
    /** An NBD handshake did not finish within the request timeout. */
    HANDSHAKE_TIMEOUT("handshake_timeout"),
    /** The peer took no reply bytes for the request timeout while replies waited. */
    SEND_TIMEOUT("send_timeout"),
    /** Its tenant left the SLO table. */
    TENANT_REMOVED("tenant_removed"),
    /** The dataplane stopped. */
    SHUTDOWN("shutdown");

    private final String label;

    CloseReason(String label) {
        this.label = label;
    }

    public String label() { return label; }
}

package io.reflex.client;

import io.reflex.protocol.Status;

import java.io.IOException;

/**
 * A request the server refused or could not serve: an extended-protocol status other than OK, or the connection
 * closing with the request still outstanding ({@link #status()} == {@link ReflexConnection#STATUS_CLOSED}).
 */
public class ReflexException extends IOException {
    private final int status;

    public ReflexException(int status, String message) {
        super(message);
        this.status = status;
    }

    public ReflexException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The {@link Status} code, or {@link ReflexConnection#STATUS_CLOSED}. */
    public int status() { return status; }

    /** "EIO", "ERANGE", ..., or "CONNECTION_CLOSED". */
    public String statusName() { return statusName(status); }

    public boolean isConnectionClosed() { return status == ReflexConnection.STATUS_CLOSED; }

    public static String statusName(int status) {
        return status == ReflexConnection.STATUS_CLOSED ? "CONNECTION_CLOSED" : Status.name(status);
    }

    /** The exception for a non-OK status of a request described by {@code what} (e.g. "read lba=8 sectors=8"). */
    static ReflexException forStatus(int status, String what) {
        String hint = switch (status) {
            case Status.EINVAL -> "malformed request";
            case Status.ERANGE -> "outside the tenant's LBA range";
            case Status.EIO -> "device I/O error";
            case Status.EAUTH -> "token missing or rejected";
            case Status.EBUSY -> "server busy, retry later";
            default -> "unknown status";
        };
        return new ReflexException(status, what + " failed: " + statusName(status) + " (" + hint + ")");
    }
}

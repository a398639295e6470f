package io.reflex.dataplane.tenant;

/** A table that cannot be applied; the message says what to fix. */
public class SloTableException extends RuntimeException {
    public SloTableException(String message) {
        super(message);
    }
}

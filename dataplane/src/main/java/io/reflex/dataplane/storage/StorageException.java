package io.reflex.dataplane.storage;

/** A storage engine could not be opened or set up; the message says what to fix. */
public final class StorageException extends RuntimeException {
    private final int errno;

    public StorageException(String message) {
        this(message, 0);
    }

    public StorageException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno behind the failure, or 0 when it was not a system call's. */
    public int errno() {
        return errno;
    }
}

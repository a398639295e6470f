package io.reflex.dataplane.storage.nativeio;

/** A system call failed during setup (cold path); carries the errno. */
public final class NativeException extends RuntimeException {
    private final int errno;

    public NativeException(String call, int errno) {
        super(call + " failed: " + LibC.strerror(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}

package io.reflex.dataplane.storage;

import io.reflex.dataplane.storage.nativeio.Errno;
import io.reflex.dataplane.storage.nativeio.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file or block device opened with O_DIRECT (and O_EXCL, which for a block device claims it against mounts and
 * other exclusive openers; Linux ignores O_EXCL without O_CREAT for regular files). Cold path only.
 */
final class NativeDevice implements AutoCloseable {
    private final Path path;
    private final int fd;
    private final long sizeBytes;
    private final boolean blockDevice;
    private boolean closed;

    private NativeDevice(Path path, int fd, long sizeBytes, boolean blockDevice) {
        this.path = path;
        this.fd = fd;
        this.sizeBytes = sizeBytes;
        this.blockDevice = blockDevice;
    }

    /** Opens read-write (O_DSYNC when {@code dsync}); {@code readOnly} exists for tests that force I/O errors. */
    static NativeDevice open(Path path, boolean dsync, boolean readOnly) {
        if (!Files.exists(path)) {
            throw new StorageException("device " + path + " does not exist", Errno.ENOENT);
        }
        if (Files.isDirectory(path)) {
            throw new StorageException("device " + path + " is a directory; give a file or block device",
                    Errno.EISDIR);
        }
        try (Arena arena = Arena.ofConfined()) {
            Errno errno = new Errno(arena);
            int flags = (readOnly ? LibC.O_RDONLY : LibC.O_RDWR) | LibC.O_DIRECT | LibC.O_EXCL | LibC.O_CLOEXEC
                    | (dsync ? LibC.O_DSYNC : 0);
            // No atime updates: on a file whose mtime other tenants' writes keep moving, relatime would update the
            // atime on every read, and that journal update runs inside io_uring_enter on the loop thread (measured:
            // reads' in-kernel p95 3.3 ms vs 0.4 ms at the device, BE flooding O_DSYNC writes on the same file).
            int fd = LibC.open(errno, path.toString(), flags | LibC.O_NOATIME);
            if (fd < 0 && errno.get() == Errno.EPERM) {
                fd = LibC.open(errno, path.toString(), flags); // not the owner: atime updates stay
            }
            if (fd < 0) {
                throw openError(path, errno.get());
            }
            try {
                MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
                boolean block = LibC.ioctl(errno, fd, LibC.BLKGETSIZE64, size) == 0;
                long bytes = block ? size.get(ValueLayout.JAVA_LONG, 0) : LibC.lseek(errno, fd, 0, LibC.SEEK_END);
                if (bytes < 0) {
                    throw new StorageException("cannot get the size of " + path + ": " + LibC.strerror(errno.get()),
                            errno.get());
                }
                if (bytes == 0) {
                    throw new StorageException("device " + path + " is empty (0 bytes)", Errno.EINVAL);
                }
                if (bytes % 512 != 0) {
                    throw new StorageException("size of " + path + " (" + bytes
                            + " bytes) is not a multiple of 512; resize it (e.g. truncate -s)", Errno.EINVAL);
                }
                return new NativeDevice(path, fd, bytes, block);
            } catch (RuntimeException e) {
                LibC.close(errno, fd);
                throw e;
            }
        }
    }

    /** The message for open(2) failing with {@code errno}: says what to fix. */
    static StorageException openError(Path path, int errno) {
        String message = switch (errno) {
            case Errno.EINVAL -> "cannot open " + path + " with O_DIRECT: its filesystem does not support direct"
                    + " I/O (tmpfs? overlayfs?); put the file on ext4/xfs or use a block device";
            case Errno.EBUSY -> "device " + path + " is in use (mounted or held by the kernel)";
            case Errno.EACCES, Errno.EPERM -> "permission denied opening " + path + " read-write";
            case Errno.EROFS -> "device " + path + " is read-only";
            default -> "cannot open " + path + ": " + LibC.strerror(errno);
        };
        return new StorageException(message, errno);
    }

    Path path() {
        return path;
    }

    int fd() {
        return fd;
    }

    long sizeBytes() {
        return sizeBytes;
    }

    boolean isBlockDevice() {
        return blockDevice;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try (Arena arena = Arena.ofConfined()) {
                LibC.close(new Errno(arena), fd);
            }
        }
    }
}

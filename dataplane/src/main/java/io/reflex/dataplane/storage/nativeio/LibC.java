package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Hand-written FFM bindings to the few libc functions the storage engines need (jextract is not available).
 *
 * <p>Calls that can fail take an {@link Errno}'s state segment first ({@code captureCallState("errno")}); the caller
 * owns that segment. Buffer pointers on the I/O path are passed as raw addresses ({@code long}) so callers never
 * slice a segment per request. All constants are Linux x86-64/arm64 values.
 *
 * <p>A capturing call is not free, though: the JDK's binding slices the capture segment on every call
 * ({@code SharedUtils.checkCaptureSegment} → {@code asSlice}), a 40-byte object that is gone only when C2 inlines the
 * whole downcall path and scalar-replaces it. Under C1, or when the profile of the shared JDK binding code is
 * polluted, every call allocates. The hot I/O calls therefore also come without capture ({@link #pread(int, long,
 * long, long)}, {@link #pwrite(int, long, long, long)}, {@link #syscall(long, long, long, long, long, long, long)}):
 * primitive arguments only, nothing to allocate in any compilation tier; they return -1 on failure with errno
 * lost, and callers repeat a failed call with capture when they need to know why.
 */
public final class LibC {
    // fcntl.h (asm-generic/fcntl.h)
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_EXCL = 0200;
    public static final int O_DSYNC = 010000;
    public static final int O_DIRECT = 040000;
    /** Reads do not update the file's access time (only the owner or CAP_FOWNER may ask: else EPERM). */
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;
    // unistd.h
    public static final int SEEK_END = 2;
    // sys/mman.h
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_POPULATE = 0x8000;
    /** linux/fs.h: {@code _IOR(0x12, 114, size_t)}, device size in bytes as u64. */
    public static final long BLKGETSIZE64 = 0x80081272L;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle PREAD = downcall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), ERRNO);
    private static final MethodHandle PWRITE = downcall("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), ERRNO);
    private static final MethodHandle FDATASYNC =
            downcall("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle LSEEK = downcall("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), ERRNO);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    private static final MethodHandle MUNMAP =
            downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    /** {@code long syscall(long nr, ...)}: every argument passed as a full 64-bit register value. */
    private static final MethodHandle SYSCALL = downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG),
            ERRNO, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle PREAD_NO_ERRNO = downcall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE_NO_ERRNO = downcall("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle SYSCALL_NO_ERRNO = downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** mmap's failure value. */
    public static final long MAP_FAILED = -1L;

    private LibC() {}

    public static int open(Errno errno, String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(errno.state(), arena.allocateFrom(path), flags, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int close(Errno errno, int fd) {
        try {
            return (int) CLOSE.invokeExact(errno.state(), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pread(2) into native memory at {@code address}; returns bytes read or -1 (errno in {@code errno}). */
    public static long pread(Errno errno, int fd, long address, long count, long offset) {
        try {
            return (long) PREAD.invokeExact(errno.state(), fd, address, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pwrite(2) from native memory at {@code address}; returns bytes written or -1. */
    public static long pwrite(Errno errno, int fd, long address, long count, long offset) {
        try {
            return (long) PWRITE.invokeExact(errno.state(), fd, address, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pread(2) without errno capture (allocation-free in every JIT tier); returns bytes read or -1. */
    public static long pread(int fd, long address, long count, long offset) {
        try {
            return (long) PREAD_NO_ERRNO.invokeExact(fd, address, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pwrite(2) without errno capture (allocation-free in every JIT tier); returns bytes written or -1. */
    public static long pwrite(int fd, long address, long count, long offset) {
        try {
            return (long) PWRITE_NO_ERRNO.invokeExact(fd, address, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int fdatasync(Errno errno, int fd) {
        try {
            return (int) FDATASYNC.invokeExact(errno.state(), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long lseek(Errno errno, int fd, long offset, int whence) {
        try {
            return (long) LSEEK.invokeExact(errno.state(), fd, offset, whence);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ioctl(Errno errno, int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL.invokeExact(errno.state(), fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap(2); returns the mapping as a zero-length segment (reinterpret it) or an address of {@link #MAP_FAILED}. */
    public static MemorySegment mmap(Errno errno, long length, int prot, int flags, int fd, long offset) {
        try {
            return (MemorySegment) MMAP.invokeExact(errno.state(), MemorySegment.NULL, length, prot, flags, fd,
                    offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int munmap(Errno errno, MemorySegment address, long length) {
        try {
            return (int) MUNMAP.invokeExact(errno.state(), address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** syscall(2) with six arguments (unused ones 0); returns the result or -1 with errno set. */
    public static long syscall(Errno errno, long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try {
            return (long) SYSCALL.invokeExact(errno.state(), nr, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** syscall(2) without errno capture (allocation-free in every JIT tier); returns the result or -1. */
    public static long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try {
            return (long) SYSCALL_NO_ERRNO.invokeExact(nr, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The C library's message for an errno value (cold path: error reporting). */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}

package io.reflex.dataplane.storage;

import io.reflex.dataplane.storage.nativeio.IoUring;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Opens storage engines by name: {@code uring}, {@code file}, {@code memory}, or {@code auto}. */
public final class Engines {
    /** Engine names {@link #open} accepts. */
    public static final List<String> NAMES = List.of("uring", "file", "memory", "auto");

    private static volatile Boolean uringAvailable;

    private Engines() {}

    /**
     * Opens {@code device} with the named engine.
     *
     * <ul>
     *   <li>{@code uring}: io_uring (kernel ≥ 5.6) over O_DIRECT;
     *   <li>{@code file}: O_DIRECT pread/pwrite on worker threads, for kernels without io_uring;
     *   <li>{@code memory}: native memory of {@code opts.memoryCapacityBytes()} (or, when 0, the size of
     *       {@code device}, which is not read); contents are lost on close;
     *   <li>{@code auto}: uring if io_uring works on this kernel, else file.
     * </ul>
     *
     * Block devices are opened with O_EXCL, so a device that is mounted or held by the kernel is refused.
     *
     * @throws StorageException with a message that names the cause (missing path, no O_DIRECT support,
     *     device in use, size not a multiple of 512, ...)
     * @throws IllegalArgumentException for an unknown engine name
     */
    public static StorageEngine open(String engine, Path device, EngineOptions opts) {
        EngineOptions options = opts == null ? EngineOptions.defaults() : opts;
        String name = engine == null ? "" : engine.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (name) {
            case "memory" -> new MemoryEngine(memoryCapacity(device, options));
            case "uring" -> {
                if (!uringAvailable()) {
                    throw new StorageException("io_uring is not available on this kernel (needs Linux ≥ 5.6, not"
                            + " disabled by seccomp or kernel.io_uring_disabled); use the file engine");
                }
                yield uring(device, options);
            }
            case "file" -> new FileEngine(NativeDevice.open(requirePath(device), options.syncWrites(), false));
            case "auto" -> uringAvailable() ? uring(device, options)
                    : new FileEngine(NativeDevice.open(requirePath(device), options.syncWrites(), false));
            default -> throw new IllegalArgumentException(
                    "unknown storage engine '" + engine + "'; valid engines are " + String.join(", ", NAMES));
        };
    }

    /** Whether io_uring works on this kernel (probed once). */
    public static boolean uringAvailable() {
        Boolean available = uringAvailable;
        if (available == null) {
            available = IoUring.isAvailable();
            uringAvailable = available;
        }
        return available;
    }

    private static StorageEngine uring(Path device, EngineOptions options) {
        // Durability per write comes from RWF_DSYNC, so the fd itself is opened without O_DSYNC.
        NativeDevice dev = NativeDevice.open(requirePath(device), false, false);
        return new UringEngine(dev, options.syncWrites());
    }

    private static Path requirePath(Path device) {
        if (device == null) {
            throw new StorageException("a device path is required for this engine");
        }
        return device;
    }

    private static long memoryCapacity(Path device, EngineOptions options) {
        if (options.memoryCapacityBytes() > 0) {
            return options.memoryCapacityBytes();
        }
        if (device == null || !Files.exists(device)) {
            throw new StorageException("memory engine needs memoryCapacityBytes > 0"
                    + (device == null ? "" : " (device " + device + " does not exist to take its size)"));
        }
        long size;
        if (Files.isRegularFile(device)) {
            try {
                size = Files.size(device);
            } catch (java.io.IOException e) {
                throw new StorageException("cannot get the size of " + device + ": " + e.getMessage());
            }
        } else {
            try (NativeDevice sized = NativeDevice.open(device, false, true)) {
                size = sized.sizeBytes();
            }
        }
        if (size <= 0 || size % 512 != 0) {
            throw new StorageException("size of " + device + " (" + size + " bytes) is not a positive multiple of 512");
        }
        return size;
    }
}

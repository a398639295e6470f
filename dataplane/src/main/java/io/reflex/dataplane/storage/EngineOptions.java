package io.reflex.dataplane.storage;

/**
 * Options for {@link Engines#open}.
 *
 * @param syncWrites          a write completes only once durable (RWF_DSYNC for uring, O_DSYNC for file); without
 *                            it durability needs a flush, as with a disk's volatile cache
 * @param memoryCapacityBytes size of the memory engine (multiple of 512); 0 = take the size of the given path
 */
public record EngineOptions(boolean syncWrites, long memoryCapacityBytes) {
    public EngineOptions {
        if (memoryCapacityBytes < 0 || memoryCapacityBytes % 512 != 0) {
            throw new IllegalArgumentException(
                    "memoryCapacityBytes must be a non-negative multiple of 512, got " + memoryCapacityBytes);
        }
    }

    /** No synchronous writes; the memory engine takes the path's size. */
    public static EngineOptions defaults() {
        return new EngineOptions(false, 0);
    }
}

/**
 * Storage engines of the dataplane: where requests leave the QoS scheduler for a device.
 *
 * <ul>
 *   <li>{@code uring} — io_uring through raw syscalls and mmap'd rings (FFM, see {@code nativeio}); one ring per
 *       dataplane thread, one io_uring_enter per batch, completions reaped from shared memory without a syscall.
 *   <li>{@code file} — the same O_DIRECT device through pread/pwrite on a few worker threads per queue, for
 *       kernels without io_uring; completions come back through a lock-free queue.
 *   <li>{@code memory} — native memory, completing at the next reap: tests and dataplane-only benchmarks.
 * </ul>
 *
 * <p>Durability: devices are opened with O_DIRECT, so a completed write is in the device, not in the page cache,
 * but possibly in the device's volatile write cache. With {@code syncWrites} each write is durable when it
 * completes (RWF_DSYNC on io_uring writes, O_DSYNC on the file engine's fd). Otherwise a FLUSH request
 * (fdatasync, IORING_OP_FSYNC with IORING_FSYNC_DATASYNC) makes every write completed before it durable.
 *
 * <p>Errors: every request completes exactly once, with the full length (0 for a flush) or a negative errno.
 * Requests are checked before they reach the device: misaligned offset or length, an empty length or an unusable
 * buffer complete with -EINVAL, a range beyond the device with -ERANGE. A short transfer is resubmitted for the
 * remainder; one that makes no progress (end of file) completes with -EIO. Kernel errors pass through unchanged.
 */
package io.reflex.dataplane.storage;

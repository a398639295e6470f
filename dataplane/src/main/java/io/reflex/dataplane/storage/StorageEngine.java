package io.reflex.dataplane.storage;

/**
 * A block device (or file) opened for the dataplane. Thread-safe to open queues from; each dataplane thread then
 * owns one {@link IoQueue} and uses it single-threaded (run-to-completion, no locks on the hot path).
 *
 * <p>Contract for all engines: offsets and lengths are multiples of 512; buffers come from
 * {@link IoQueue#allocateBuffer} (4096-aligned, as O_DIRECT requires); a write is reported complete only after the
 * device completed it (and, when {@code syncWrites}, after it is durable: RWF_DSYNC / O_DSYNC); errors are reported as
 * negative errno, never as success.
 */
public interface StorageEngine extends AutoCloseable {
    /** Engine name as given on the command line: uring, file, memory. */
    String name();

    /** Size of the device in bytes (multiple of 512). */
    long capacityBytes();

    /** A submission/completion queue for one dataplane thread with up to {@code depth} requests in flight. */
    IoQueue openQueue(int depth);

    @Override
    void close();
}

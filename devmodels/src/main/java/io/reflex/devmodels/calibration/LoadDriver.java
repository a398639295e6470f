package io.reflex.devmodels.calibration;

import java.io.IOException;
import java.time.Duration;
import java.util.function.DoubleConsumer;

/**
 * What the calibrator measures through: a device directly (the dataplane's storage engine) or a dataplane over its
 * network protocol. 4 KiB requests at random 4 KiB-aligned offsets within {@link #spanBytes()}.
 */
public interface LoadDriver extends AutoCloseable {
    /** One line for the model's comments, e.g. "io_uring O_DIRECT on /dev/nvme0n1, 64 GiB span, writes O_DSYNC". */
    String describe();

    /** Bytes at the start of the device the load touches. */
    long spanBytes();

    /**
     * Write the span once, so reads hit mapped flash (reads of never-written blocks are faster than real ones).
     * Reports progress as a fraction 0..1.
     */
    void precondition(DoubleConsumer progress) throws IOException;

    /** Closed loop at {@code queueDepth}: the device's capacity for this mix. Warm-up excluded from the result. */
    LoadPoint closedLoop(int readPercent, int queueDepth, Duration duration) throws IOException;

    /** Open loop: requests arrive at {@code iops} (Poisson) whatever the device does; latency CO-corrected. */
    LoadPoint openLoop(int readPercent, double iops, Duration duration) throws IOException;

    @Override
    void close();
}

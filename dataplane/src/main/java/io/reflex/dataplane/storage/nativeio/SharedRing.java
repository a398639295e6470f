package io.reflex.dataplane.storage.nativeio;

/**
 * A device queue's io_uring that another user on the same thread — the dataplane's io_uring network path — may put
 * its own requests in, so one io_uring_enter submits both and one pass over the CQ reaps both. The other user marks
 * its user_data with {@link #FOREIGN}; the queue hands those completions to its {@link Handler} instead of treating
 * them as device requests. Owned by one thread.
 */
public interface SharedRing {
    /** user_data bit of the other user's requests (device requests use slot numbers, far below it). */
    long FOREIGN = 1L << 62;

    /** The ring: SQEs may be prepared in it between the queue's own; the queue's submit covers them. */
    IoUring ring();

    /** Where completions marked {@link #FOREIGN} go (null: dropped). Also told of foreign SQEs a refused submit failed. */
    void foreignCompletions(Handler handler);

    /** A completion of a foreign request. */
    @FunctionalInterface
    interface Handler {
        void onCompletion(long userData, int res, int flags);
    }
}

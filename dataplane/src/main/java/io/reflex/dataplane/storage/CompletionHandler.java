package io.reflex.dataplane.storage;

/** Receives completions from {@link IoQueue#reap}. */
@FunctionalInterface
public interface CompletionHandler {
    /** @param result bytes transferred, or a negative errno (e.g. -5 EIO) */
    void onComplete(long userData, int result);
}

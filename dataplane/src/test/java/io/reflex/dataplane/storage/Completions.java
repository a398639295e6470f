package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Collects completions in tests, failing on a duplicate; drains a queue until the expected number arrived. */
final class Completions implements CompletionHandler {
    final Map<Long, Integer> results = new LinkedHashMap<>();

    @Override
    public void onComplete(long userData, int result) {
        Integer previous = results.put(userData, result);
        if (previous != null) {
            fail("userData " + userData + " completed twice (" + previous + ", then " + result + ")");
        }
    }

    /** Reaps (waiting when idle) until {@code expected} completions in total were collected. */
    Completions drain(IoQueue queue, int expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (results.size() < expected) {
            if (queue.reap(this, 1024) == 0) {
                if (System.nanoTime() > deadline) {
                    fail("only " + results.size() + " of " + expected + " completions arrived; in flight "
                            + queue.inFlight());
                }
                queue.awaitCompletion(TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
        assertThat(results).hasSize(expected);
        return this;
    }

    /** Submits whatever is prepared and waits for exactly one new completion with {@code userData}. */
    static int runOne(IoQueue queue, long userData) {
        Completions c = new Completions();
        queue.submit();
        c.drain(queue, 1);
        assertThat(c.results).containsOnlyKeys(userData);
        return c.results.get(userData);
    }
}

package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** prep/submit/reap/awaitCompletion allocate nothing on the dataplane thread once the JIT has warmed up. */
class HotPathAllocationTest {
    private static final int BATCH = 16;
    private static final int LEN = 4096;
    private static final long SIZE = 16L << 20;
    private static final long BOUND_BYTES = 4096;

    /** No capturing lambda: a plain object that counts. */
    private static final class Counter implements CompletionHandler {
        long completions;
        long errors;

        @Override
        public void onComplete(long userData, int result) {
            completions++;
            if (result != LEN) {
                errors++;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "memory", "file"})
    void tenThousandRequestsAllocateAlmostNothing(String engineName) {
        Path file = engineName.equals("memory") ? null : TestDevices.sparseFile("alloc-" + engineName + ".img", SIZE);
        EngineOptions options = new EngineOptions(false, engineName.equals("memory") ? SIZE : 0);
        try (StorageEngine engine = Engines.open(engineName, file, options); IoQueue q = engine.openQueue(32)) {
            MemorySegment buffers = q.allocateBuffer((long) BATCH * LEN);
            MemorySegment[] slices = new MemorySegment[BATCH];
            for (int i = 0; i < BATCH; i++) {
                slices[i] = buffers.asSlice((long) i * LEN, LEN);
            }
            Counter counter = new Counter();
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

            run(q, slices, counter, 30_000); // warm-up: let C2 compile and scalar-replace the FFM call paths
            long best = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 5 && best >= BOUND_BYTES; attempt++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                run(q, slices, counter, 10_000);
                best = Math.min(best, threads.getCurrentThreadAllocatedBytes() - before);
            }
            assertThat(counter.errors).isZero();
            assertThat(best).as("bytes allocated by 10k %s requests", engineName).isLessThan(BOUND_BYTES);
        }
    }

    private static void run(IoQueue q, MemorySegment[] slices, Counter counter, int requests) {
        long userData = 0;
        for (int issued = 0; issued < requests; issued += BATCH) {
            for (int i = 0; i < BATCH; i++) {
                long offset = ((issued + i) % 4096L) * LEN;
                boolean ok = (i & 1) == 0
                        ? q.prepWrite(userData++, offset, slices[i], LEN)
                        : q.prepRead(userData++, offset, slices[i], LEN);
                if (!ok) {
                    throw new AssertionError("queue unexpectedly full");
                }
            }
            q.submit();
            while (q.inFlight() > 0) {
                if (q.reap(counter, 64) == 0) {
                    q.awaitCompletion(1_000_000);
                }
            }
        }
    }
}

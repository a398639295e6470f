package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.dataplane.storage.nativeio.Errno;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Random interleavings of prep/submit/reap/await against every engine: each request completes exactly once, with
 * its own result, never before it was submitted (unless it failed validation), and the queue's counts agree.
 */
class RequestBookkeepingPropertyTest {
    private static final int LEN = 4096;
    private static final long FILE_SIZE = 1 << 20;
    private static Path backing;

    enum Kind { READ, WRITE, FLUSH, INVALID, SUBMIT, REAP, AWAIT }

    record Action(Kind kind, int n) {}

    /** What the model expects of an outstanding request. */
    private static final class Expected {
        final int result;
        final boolean needsSubmit;
        boolean submitted;

        Expected(int result, boolean needsSubmit) {
            this.result = result;
            this.needsSubmit = needsSubmit;
        }
    }

    @Provide
    Arbitrary<String> engines() {
        return Arbitraries.of("memory", "uring", "file");
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> action = Combinators.combine(Arbitraries.of(Kind.values()), Arbitraries.integers().between(1, 5))
                .as(Action::new);
        return action.list().ofMinSize(1).ofMaxSize(80);
    }

    @Property(tries = 150)
    void everyRequestCompletesExactlyOnce(@ForAll("engines") String engine, @ForAll("actions") List<Action> actions,
            @ForAll @IntRange(min = 1, max = 8) int depth) {
        try (StorageEngine e = open(engine); IoQueue q = e.openQueue(depth)) {
            MemorySegment buf = q.allocateBuffer(LEN);
            Map<Long, Expected> outstanding = new HashMap<>();
            long[] nextId = {1};
            CompletionHandler check = (userData, result) -> {
                Expected expected = outstanding.remove(userData);
                assertThat(expected).as("completion for unknown or already completed %d", userData).isNotNull();
                assertThat(result).as("result of %d", userData).isEqualTo(expected.result);
                if (expected.needsSubmit) {
                    assertThat(expected.submitted).as("%d completed before submit", userData).isTrue();
                }
            };
            for (Action a : actions) {
                switch (a.kind()) {
                    case READ, WRITE, FLUSH, INVALID -> {
                        for (int i = 0; i < a.n(); i++) {
                            long id = nextId[0]++;
                            long offset = (id % (FILE_SIZE / LEN)) * LEN;
                            boolean accepted = switch (a.kind()) {
                                case READ -> q.prepRead(id, offset, buf, LEN);
                                case WRITE -> q.prepWrite(id, offset, buf, LEN);
                                case FLUSH -> q.prepFlush(id);
                                default -> q.prepRead(id, offset + 1, buf, LEN);
                            };
                            assertThat(accepted).as("prep accepted iff a slot is free").isEqualTo(outstanding.size() < depth);
                            if (accepted) {
                                outstanding.put(id, switch (a.kind()) {
                                    case READ, WRITE -> new Expected(LEN, true);
                                    case FLUSH -> new Expected(0, true);
                                    default -> new Expected(-Errno.EINVAL, false);
                                });
                            }
                        }
                    }
                    case SUBMIT -> {
                        q.submit();
                        outstanding.values().forEach(x -> x.submitted = true);
                    }
                    case REAP -> {
                        int before = outstanding.size();
                        int n = q.reap(check, a.n());
                        assertThat(n).isBetween(0, a.n()).isEqualTo(before - outstanding.size());
                    }
                    case AWAIT -> q.awaitCompletion(TimeUnit.MILLISECONDS.toNanos(1));
                }
                assertThat(q.inFlight()).isEqualTo(outstanding.size());
            }
            q.submit();
            outstanding.values().forEach(x -> x.submitted = true);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!outstanding.isEmpty() && System.nanoTime() < deadline) {
                if (q.reap(check, 3) == 0) {
                    q.awaitCompletion(TimeUnit.MILLISECONDS.toNanos(10));
                }
            }
            assertThat(outstanding).as("never completed").isEmpty();
            assertThat(q.inFlight()).isZero();
        }
    }

    private static synchronized StorageEngine open(String engine) {
        if (engine.equals("memory")) {
            return Engines.open(engine, null, new EngineOptions(false, FILE_SIZE));
        }
        if (backing == null) {
            backing = TestDevices.sparseFile("bookkeeping.img", FILE_SIZE);
        }
        return Engines.open(engine, backing, EngineOptions.defaults());
    }
}

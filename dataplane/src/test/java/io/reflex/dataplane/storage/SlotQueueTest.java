package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SlotQueueTest {
    @Test
    void isFifoAndBounded() {
        SlotQueue q = new SlotQueue(3); // rounds up to 4
        assertThat(q.poll()).isEqualTo(-1);
        assertThat(q.isEmpty()).isTrue();
        for (int i = 0; i < 4; i++) {
            assertThat(q.offer(i)).isTrue();
        }
        assertThat(q.offer(9)).isFalse();
        for (int i = 0; i < 4; i++) {
            assertThat(q.poll()).isEqualTo(i);
        }
        assertThat(q.poll()).isEqualTo(-1);
    }

    @Test
    void manyProducersAndConsumersNeitherLoseNorDuplicate() throws InterruptedException {
        int perProducer = 50_000;
        int producers = 2;
        SlotQueue q = new SlotQueue(64);
        BitSet seen = new BitSet();
        AtomicInteger consumed = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(producers + 2);
        for (int p = 0; p < producers; p++) {
            int base = p * perProducer;
            Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perProducer; i++) {
                    while (!q.offer(base + i)) {
                        Thread.yield();
                    }
                }
                done.countDown();
            });
        }
        for (int c = 0; c < 2; c++) {
            Thread.ofPlatform().start(() -> {
                while (consumed.get() < producers * perProducer) {
                    int v = q.poll();
                    if (v >= 0) {
                        synchronized (seen) {
                            assertThat(seen.get(v)).as("duplicate %d", v).isFalse();
                            seen.set(v);
                        }
                        consumed.incrementAndGet();
                    } else {
                        Thread.yield();
                    }
                }
                done.countDown();
            });
        }
        done.await();
        assertThat(seen.cardinality()).isEqualTo(producers * perProducer);
    }
}

package io.reflex.dataplane.qos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.DoubleAdder;
import org.junit.jupiter.api.Test;

class GlobalBucketTest {

    @Test
    void capacityIsTheWindowOfTheRegisteredRate() {
        var bucket = new GlobalBucket(2, 1_000_000); // 1 ms
        assertThat(bucket.capacity()).isZero();
        bucket.addRate(2e6);
        bucket.addRate(1e6);
        assertThat(bucket.registeredRate()).isEqualTo(3e6);
        assertThat(bucket.capacity()).isCloseTo(3000, within(1e-9));
        bucket.addRate(-3e6);
        assertThat(bucket.capacity()).isZero();
    }

    @Test
    void depositIsCappedAndTakeNeverOverdraws() {
        var bucket = new GlobalBucket(1, 1_000_000);
        bucket.addRate(1e6); // cap 1000
        assertThat(bucket.deposit(700)).isEqualTo(700);
        assertThat(bucket.deposit(700)).isEqualTo(300);
        assertThat(bucket.available()).isEqualTo(1000);
        assertThat(bucket.take(400)).isEqualTo(400);
        assertThat(bucket.take(1e9)).isEqualTo(600);
        assertThat(bucket.take(1)).isZero();
        assertThat(bucket.available()).isZero();
        assertThat(bucket.deposit(-5)).isZero();
        assertThat(bucket.take(-5)).isZero();
    }

    @Test
    void aLowerBudgetTrimsThePool() {
        var bucket = new GlobalBucket(1, 1_000_000);
        bucket.addRate(2e6);
        bucket.deposit(1500);
        bucket.addRate(-1e6);
        assertThat(bucket.available()).isEqualTo(1000);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new GlobalBucket(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GlobalBucket(1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Concurrent deposits and takes conserve tokens: whatever was accepted is either taken or still there. */
    @Test
    void concurrentDepositAndTakeConserveTokens() throws InterruptedException {
        var bucket = new GlobalBucket(4, 1_000_000_000);
        bucket.addRate(1e12); // effectively uncapped
        var accepted = new DoubleAdder();
        var taken = new DoubleAdder();
        int threads = 4;
        var start = new CountDownLatch(1);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 100_000; i++) {
                    accepted.add(bucket.deposit(4));
                    taken.add(bucket.take(3));
                }
            });
        }
        start.countDown();
        for (Thread w : workers) w.join();
        assertThat(accepted.sum()).isEqualTo(threads * 100_000 * 4.0);
        assertThat(taken.sum() + bucket.available()).isCloseTo(accepted.sum(), within(1e-3));
    }
}

package io.reflex.dataplane.qos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.TokenLimit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Unit tests on a simulated clock (all times in nanoseconds, chosen by the test). */
class TokenSchedulerTest {
    static final DeviceModel MODEL = new DeviceModel("test", "read 100 / write 1000", 100, 1000, false,
            List.of(new TokenLimit(500, 4e7, 8e7)));
    static final long READ = MODEL.requestCost(false, 4096);   // 100
    static final long WRITE = MODEL.requestCost(true, 4096);   // 1000
    static final long US = 1_000, MS = 1_000_000;

    final GlobalBucket bucket = new GlobalBucket(1);
    final TokenScheduler scheduler = new TokenScheduler(4, 256, bucket, MODEL);
    long nextRequest = 1;

    void enqueue(int slot, long cost, int count) {
        for (int i = 0; i < count; i++) assertThat(scheduler.enqueue(slot, nextRequest++, cost)).isTrue();
    }

    @Test
    void deficitLimitDefaultsToHundredWritesOfTheModel() {
        assertThat(scheduler.deficitLimit()).isEqualTo(100.0 * WRITE);
        assertThat(new TokenScheduler(1, 1, bucket).deficitLimit()).isEqualTo(TokenScheduler.DEFAULT_DEFICIT_LIMIT);
    }

    @Test
    void latencyCriticalTenantIssuesAtItsRate() {
        scheduler.setDeficitLimit(0);        // no borrowing: the issued tokens track the accrual exactly
        scheduler.setLatencyCritical(0, 1e6); // 10,000 reads/s
        var device = Recorder.unbounded();
        long now = 0;
        for (int round = 0; round <= 1000; round++, now += 10 * US) { // 10 ms
            if (scheduler.queued(0) < 10) enqueue(0, READ, 10);
            scheduler.schedule(now, device);
        }
        double accrued = 1e6 * 0.010;
        // With a zero deficit allowance a request may still go at credit >= 0, overshooting by under one cost.
        assertThat((double) scheduler.dispatchedTokens(0)).isBetween(accrued, accrued + READ);
        assertThat(scheduler.dispatchedRequests(0)).isEqualTo(scheduler.dispatchedTokens(0) / READ);
        assertThat(scheduler.tokens(0)).isBetween(-(double) READ, 0.0);
    }

    @Test
    void deficitBoundIsEnforcedNotOverrun() {
        scheduler.setLatencyCritical(0, 1e6);
        enqueue(0, WRITE, 200);
        var device = Recorder.unbounded();

        scheduler.schedule(0, device);
        // Borrowing starts at once, but stops exactly at −deficitLimit (the original would issue a 101st write).
        assertThat(device.dispatched).hasSize(100);
        assertThat(scheduler.tokens(0)).isEqualTo(-100.0 * WRITE);

        scheduler.schedule(500 * US, device); // +500 tokens: not enough for another write
        assertThat(device.dispatched).hasSize(100);
        scheduler.schedule(MS, device);       // +1000 in total: exactly one write
        assertThat(device.dispatched).hasSize(101);
        assertThat(scheduler.tokens(0)).isEqualTo(-100.0 * WRITE);
    }

    @Test
    void requestLargerThanTheDeficitAllowanceGoesOnceCreditIsNonNegative() {
        scheduler.setLatencyCritical(0, 1e6);
        scheduler.setDeficitLimit(1000);
        long huge = MODEL.requestCost(true, 1 << 20); // 256 writes: more than the whole allowance
        enqueue(0, huge, 2);
        var device = Recorder.unbounded();
        scheduler.schedule(0, device);
        assertThat(device.dispatched).hasSize(1);
        assertThat(scheduler.tokens(0)).isEqualTo(-(double) huge);
        scheduler.schedule(255 * MS, device); // credit −1000: still waits
        assertThat(device.dispatched).hasSize(1);
        scheduler.schedule(256 * MS, device); // credit 0: may go
        assertThat(device.dispatched).hasSize(2);
    }

    @Test
    void idleLatencyCriticalTenantDonatesNinetyPercentOfItsExcess() {
        scheduler.setLatencyCritical(0, 1e6); // 1 token/µs; bucket cap = 1e6 × 1 ms = 1000
        var device = Recorder.unbounded();
        scheduler.schedule(0, device);          // first round: nothing accrued yet
        scheduler.schedule(100 * US, device);   // +100: below 3 × 100, kept
        assertThat(scheduler.tokens(0)).isCloseTo(100, within(1e-9));
        assertThat(bucket.available()).isZero();
        scheduler.schedule(110 * US, device);   // +10 → 110 > 3 × 10: donate 0.9 × (110 − 30) = 72
        assertThat(scheduler.tokens(0)).isCloseTo(38, within(1e-9));
        assertThat(bucket.available()).isCloseTo(72, within(1e-9));
        assertThat(scheduler.tokens(0) + bucket.available()).isCloseTo(110, within(1e-9));
    }

    @Test
    void latencyCriticalCreditIsCappedAfterALongGap() {
        scheduler.setLatencyCritical(0, 1e6);
        var device = Recorder.unbounded();
        scheduler.schedule(0, device);
        scheduler.schedule(100 * MS, device); // would bank 100,000 tokens in the original
        assertThat(scheduler.tokens(0)).isLessThanOrEqualTo(1e6 * TokenScheduler.DEFAULT_BURST_WINDOW_NANOS / 1e9);
        assertThat(bucket.available()).isLessThanOrEqualTo(bucket.capacity());
        double pooled = bucket.available();
        enqueue(0, WRITE, 200);
        scheduler.schedule(100 * MS, device);
        // Burst after idling = cap + deficit allowance + the pool (its donation, ≤ 1 ms of the rate), not 100 ms worth.
        double burst = 1e6 * TokenScheduler.DEFAULT_BURST_WINDOW_NANOS / 1e9 + scheduler.deficitLimit() + pooled;
        assertThat(device.dispatched.size()).isEqualTo((int) (burst / WRITE)).isLessThanOrEqualTo(101);
    }

    @Test
    void bestEffortGetsTheLeftoverOfAnIdleLatencyCriticalTenant() {
        scheduler.setLatencyCritical(0, 1e6);
        scheduler.setBestEffort(1, 0); // no spare share: only donations
        var device = Recorder.unbounded();
        long now = 0;
        for (int round = 0; round <= 1000; round++, now += 10 * US) {
            if (scheduler.queued(1) < 50) enqueue(1, READ, 50);
            scheduler.schedule(now, device);
            assertThat(scheduler.tokens(1)).isGreaterThanOrEqualTo(0);
        }
        double budget = 1e6 * 0.010;
        assertThat((double) scheduler.dispatchedTokens(1)).isBetween(budget - 500, budget);
    }

    @Test
    void bestEffortGetsNothingWhileLatencyCriticalUsesItsWholeReservation() {
        scheduler.setLatencyCritical(0, 1e6);
        scheduler.setBestEffort(1, 0);
        var device = Recorder.unbounded();
        long now = 0;
        for (int round = 0; round <= 1000; round++, now += 10 * US) {
            if (scheduler.queued(0) < 50) enqueue(0, READ, 50);
            if (scheduler.queued(1) < 50) enqueue(1, READ, 50);
            scheduler.schedule(now, device);
        }
        assertThat(scheduler.dispatchedTokens(1)).isZero();
        assertThat(scheduler.dispatchedTokens(0)).isGreaterThanOrEqualTo(10_000);
    }

    @Test
    void latencyCriticalTenantWorksOffAStallsBacklogWithTokensNobodyUsed() {
        scheduler.setDeficitLimit(10 * READ);
        scheduler.setLatencyCritical(0, 1e6); // 10,000 reads/s, offered exactly that
        scheduler.setBestEffort(1, 1e6);      // idle: its share goes to the pool
        var device = Recorder.unbounded();
        enqueue(0, READ, 150);                // what a 15 ms stall leaves behind
        long now = 0;
        for (int round = 0; round <= 3000; round++, now += 10 * US) { // 30 ms
            if (round % 10 == 0) enqueue(0, READ, 1);
            scheduler.schedule(now, device);
        }
        // Its own accrual only pays for the new arrivals (plus 10 reads of deficit): without the idle BE share the
        // backlog of 140 would stay for good. The pool refills at 10 reads/ms, so it is gone well within 30 ms.
        assertThat(scheduler.queued(0)).isLessThanOrEqualTo(1);
        assertThat(scheduler.dispatchedTokens(1)).isZero();
        double accrued = 2e6 * 0.030; // both tenants' rates: the device budget over the run
        assertThat((double) scheduler.dispatchedTokens(0)).isLessThanOrEqualTo(accrued + 10 * READ);
    }

    @Test
    void bestEffortKeepsItsShareWhileLatencyCriticalOffersMoreThanItReserved() {
        scheduler.setLatencyCritical(0, 1e6);
        scheduler.setBestEffort(1, 1e6);
        var device = Recorder.unbounded();
        long now = 0;
        for (int round = 0; round <= 1000; round++, now += 10 * US) { // 10 ms
            if (scheduler.queued(0) < 100) enqueue(0, READ, 100 - scheduler.queued(0));
            if (scheduler.queued(1) < 50) enqueue(1, READ, 50);
            scheduler.schedule(now, device);
        }
        double share = 1e6 * 0.010;
        // The pool holds only what nobody used, so catching up never takes BE's own accrual.
        assertThat((double) scheduler.dispatchedTokens(1)).isBetween(share - READ, share);
        assertThat((double) scheduler.dispatchedTokens(0)).isLessThanOrEqualTo(share + scheduler.deficitLimit());
    }

    @Test
    void bestEffortIssuesOnlyWhenTheHeadFitsAndNeverGoesNegative() {
        scheduler.setBestEffort(0, 1e6);
        enqueue(0, WRITE, 3);
        var device = Recorder.unbounded();
        scheduler.schedule(0, device);
        assertThat(device.dispatched).isEmpty();
        scheduler.schedule(999 * US, device);
        assertThat(device.dispatched).isEmpty();
        assertThat(scheduler.tokens(0)).isCloseTo(999, within(1e-6));
        scheduler.schedule(1500 * US, device);
        assertThat(device.dispatched).hasSize(1);
        assertThat(scheduler.tokens(0)).isCloseTo(500, within(1e-6)).isGreaterThanOrEqualTo(0);
    }

    @Test
    void bestEffortTakesItsShortfallFromTheBucket() {
        scheduler.setBestEffort(0, 1e6);
        scheduler.setBestEffort(1, 1e6);  // registers rate so the bucket cap is 1000
        bucket.deposit(600);
        enqueue(0, WRITE, 1);
        var device = Recorder.unbounded();
        scheduler.schedule(0, device);
        scheduler.schedule(400 * US, device); // 400 own + 600 from the pool
        assertThat(device.dispatched).hasSize(1);
        assertThat(bucket.available()).isZero();
        assertThat(scheduler.tokens(0)).isZero();
    }

    @Test
    void bestEffortStartPositionRotates() {
        scheduler.setBestEffort(0, 0);
        scheduler.setBestEffort(1, 0);
        scheduler.setBestEffort(2, 1e6); // gives the bucket a cap; its own queue stays empty
        enqueue(0, READ, 10);
        enqueue(1, READ, 10);
        var device = Recorder.unbounded();
        for (int round = 0; round < 6; round++) {
            bucket.deposit(READ); // exactly one request per round
            scheduler.schedule(round * US, device);
        }
        assertThat(device.slots()).containsExactly(0, 1, 0, 1, 0, 1);
    }

    @Test
    void disabledSchedulerPassesEverythingRoundRobin() {
        scheduler.setLatencyCritical(0, 0);
        scheduler.setDeficitLimit(0);
        scheduler.setBestEffort(1, 0);
        scheduler.setLatencyCritical(3, 0);
        enqueue(0, WRITE, 3);
        enqueue(1, WRITE, 1);
        enqueue(3, WRITE, 2);
        scheduler.setEnabled(false);
        var device = Recorder.unbounded();
        assertThat(scheduler.schedule(0, device)).isEqualTo(6);
        assertThat(device.slots()).containsExactly(0, 1, 3, 0, 3, 0);
        assertThat(scheduler.dispatchedTokens(0)).isEqualTo(3 * WRITE);
    }

    @Test
    void unlimitedTenantsAreDispatchedFreelyAndCounted() {
        scheduler.setUnlimited(2);
        enqueue(2, WRITE, 200);
        var device = Recorder.unbounded();
        assertThat(scheduler.schedule(0, device)).isEqualTo(200);
        assertThat(scheduler.dispatchedRequests(2)).isEqualTo(200);
        assertThat(scheduler.dispatchedTokens(2)).isEqualTo(200 * WRITE);
        assertThat(scheduler.tokens(2)).isZero();
    }

    @Test
    void refusedRequestStaysQueuedAndUncharged() {
        scheduler.setLatencyCritical(0, 1e6);
        scheduler.setBestEffort(1, 1e6);
        enqueue(0, WRITE, 5);  // requests 1..5
        enqueue(1, READ, 5);   // requests 6..10
        var device = Recorder.accepting(2);
        assertThat(scheduler.schedule(0, device)).isEqualTo(2);
        assertThat(device.requestsOf(0)).containsExactly(1L, 2L);
        assertThat(scheduler.queued(0)).isEqualTo(3);
        assertThat(scheduler.tokens(0)).isEqualTo(-2.0 * WRITE);   // request 3 was not charged
        assertThat(scheduler.dispatchedTokens(0)).isEqualTo(2 * WRITE);
        assertThat(scheduler.queued(1)).isEqualTo(5);               // the round stopped before BE

        device.capacity = Integer.MAX_VALUE;
        scheduler.schedule(MS, device);
        assertThat(device.requestsOf(0)).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(device.requestsOf(1)).containsExactly(6L, 7L, 8L, 9L, 10L);
    }

    @Test
    void refusedBestEffortRequestKeepsItsTokens() {
        scheduler.setBestEffort(0, 1e6);
        enqueue(0, READ, 2);
        var device = Recorder.accepting(0);
        scheduler.schedule(0, device);
        scheduler.schedule(200 * US, device);
        assertThat(scheduler.tokens(0)).isCloseTo(200, within(1e-6));
        assertThat(scheduler.queued(0)).isEqualTo(2);
        assertThat(scheduler.dispatchedRequests(0)).isZero();
    }

    @Test
    void enqueueRefusesWhenTheSlotQueueIsFull() {
        var small = new TokenScheduler(2, 3, bucket);
        small.setBestEffort(0, 0);
        assertThat(small.enqueue(0, 1, READ)).isTrue();
        assertThat(small.enqueue(0, 2, READ)).isTrue();
        assertThat(small.enqueue(0, 3, READ)).isTrue();
        assertThat(small.enqueue(0, 4, READ)).isFalse();
        assertThat(small.queued(0)).isEqualTo(3);
    }

    @Test
    void enqueueNeedsAConfiguredSlotAndAPositiveCost() {
        assertThatThrownBy(() -> scheduler.enqueue(0, 1, READ)).isInstanceOf(IllegalStateException.class);
        scheduler.setBestEffort(0, 0);
        assertThatThrownBy(() -> scheduler.enqueue(0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scheduler.enqueue(4, 1, READ)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void clearRequiresAnEmptyQueueAndResetsTheSlot() {
        scheduler.setLatencyCritical(0, 1e6);
        enqueue(0, WRITE, 3);
        scheduler.schedule(0, Recorder.accepting(1));
        assertThatThrownBy(() -> scheduler.clear(0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("drain");

        var failed = Recorder.unbounded();
        scheduler.drain(0, failed);
        scheduler.clear(0);
        assertThat(scheduler.dispatchedRequests(0)).isZero();
        assertThat(scheduler.tokens(0)).isZero();
        assertThat(bucket.registeredRate()).isZero();
        assertThatThrownBy(() -> scheduler.enqueue(0, 9, READ)).isInstanceOf(IllegalStateException.class);
        scheduler.clear(0); // clearing an empty slot is a no-op
        scheduler.clear(1);
    }

    @Test
    void drainHandsOverEveryQueuedRequestInOrderRegardlessOfTokens() {
        scheduler.setBestEffort(0, 0);
        enqueue(0, WRITE, 4);
        scheduler.schedule(0, Recorder.unbounded());
        assertThat(scheduler.queued(0)).isEqualTo(4);
        var sink = Recorder.accepting(0); // its answer is ignored
        scheduler.drain(0, sink);
        assertThat(scheduler.queued(0)).isZero();
        assertThat(scheduler.dispatchedRequests(0)).isZero();
        var sink2 = Recorder.unbounded();
        enqueue(0, READ, 2);
        scheduler.drain(0, sink2);
        assertThat(sink2.requestsOf(0)).containsExactly(5L, 6L);
    }

    @Test
    void rateUpdatesKeepCreditAndClassChangesResetIt() {
        scheduler.setLatencyCritical(0, 1e6);
        enqueue(0, WRITE, 2);
        scheduler.schedule(0, Recorder.unbounded());
        scheduler.setLatencyCritical(0, 2e6);
        assertThat(scheduler.tokens(0)).isEqualTo(-2.0 * WRITE);
        assertThat(bucket.registeredRate()).isEqualTo(2e6);
        scheduler.setBestEffort(0, 5e5);
        assertThat(scheduler.tokens(0)).isZero();
        assertThat(bucket.registeredRate()).isEqualTo(5e5);
        scheduler.setUnlimited(0);
        assertThat(bucket.registeredRate()).isZero();
    }

    @Test
    void slotSetAfterARoundAccruesFromThatRound() {
        var device = Recorder.unbounded();
        scheduler.schedule(0, device);
        scheduler.setBestEffort(0, 1e6);
        scheduler.schedule(300 * US, device);
        assertThat(scheduler.tokens(0)).isCloseTo(300, within(1e-6));
    }

    @Test
    void rejectsBadConfiguration() {
        assertThatThrownBy(() -> new TokenScheduler(0, 1, bucket)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenScheduler(1, 0, bucket)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scheduler.setLatencyCritical(0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scheduler.setBestEffort(0, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scheduler.setLatencyCritical(0, Double.POSITIVE_INFINITY))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scheduler.setDeficitLimit(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scheduler.setBurstWindowNanos(0)).isInstanceOf(IllegalArgumentException.class);
    }
}

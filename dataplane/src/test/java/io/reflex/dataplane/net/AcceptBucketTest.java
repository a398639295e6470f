package io.reflex.dataplane.net;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The accept bucket on explicit clock values: a burst, then one token per interval, never more than the burst saved. */
class AcceptBucketTest {
    private static final long MS = 1_000_000L;

    @Test
    void aFullBurstThenTheRateAndNoMoreThanABurstSaved() {
        long t = 5_000 * MS;
        AcceptBucket b = new AcceptBucket(10, 3, t); // a token every 100 ms
        assertThat(b.tokens(t)).isEqualTo(3);
        b.take(3, t);
        assertThat(b.tokens(t)).isZero();
        assertThat(b.tokensAt(1, t)).isEqualTo(t + 100 * MS);
        assertThat(b.tokensAt(2, t)).isEqualTo(t + 200 * MS);
        assertThat(b.tokens(t + 99 * MS)).isZero();
        assertThat(b.tokens(t + 100 * MS)).isEqualTo(1);
        assertThat(b.tokens(t + 250 * MS)).isEqualTo(2);
        b.take(1, t + 250 * MS); // the half token accrued stays
        assertThat(b.tokens(t + 250 * MS)).isEqualTo(1);
        assertThat(b.tokens(t + 300 * MS)).isEqualTo(2);
        // A long quiet spell saves a burst, not more.
        long later = t + 60_000 * MS;
        assertThat(b.tokens(later)).isEqualTo(3);
        b.take(1, later);
        assertThat(b.tokens(later)).isEqualTo(2);
        assertThat(b.tokensAt(1, later)).isLessThanOrEqualTo(later);
    }

    @Test
    void acceptsOverAnySpanAreAtMostTheBurstPlusTheRate() {
        AcceptBucket b = new AcceptBucket(200, 50, -7 * MS); // nanoTime may be negative: compared by difference
        long t = -7 * MS, accepted = 0;
        for (int step = 0; step < 10_000; step++, t += MS / 3) { // 3.33 s in 1/3-ms steps, taking whatever is there
            int n = b.tokens(t);
            b.take(n, t);
            accepted += n;
        }
        double seconds = (t - -7 * MS) / 1e9;
        assertThat(accepted).isLessThanOrEqualTo(50 + (long) Math.ceil(200 * seconds)).isGreaterThanOrEqualTo(50 + (long) (200 * seconds) - 1);
    }

    @Test
    void fractionalRates() {
        AcceptBucket b = new AcceptBucket(0.5, 1, 0);
        b.take(1, 0);
        assertThat(b.tokensAt(1, 0)).isEqualTo(2_000 * MS);
        assertThat(b.tokens(1_999 * MS)).isZero();
        assertThat(b.tokens(2_000 * MS)).isEqualTo(1);
    }
}

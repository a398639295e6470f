package io.reflex.dataplane.metrics;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.HdrHistogram.Histogram;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The Prometheus latency histogram counts every request once, whatever its latency. */
class LatencyBucketsProperties {

    private static Histogram histogram(List<Long> micros) {
        Histogram h = new Histogram(1, 60_000_000L, 2); // as DataplaneMetrics records
        micros.forEach(h::recordValue);
        return h;
    }

    @Property
    void everyRequestInExactlyOneBucket(@ForAll @Size(max = 200) List<@LongRange(min = 1, max = 60_000_000L) Long> micros) {
        assertThat(Arrays.stream(DataplaneMetrics.bucketCounts(histogram(micros))).sum()).isEqualTo(micros.size());
    }

    @Example
    void valuesAtBucketBoundsAreCountedOnce() {
        // 1000 µs and 1001 µs share an equivalence range at two significant digits; both were counted in two buckets.
        long[] c = DataplaneMetrics.bucketCounts(histogram(List.of(20L, 999L, 1000L, 1001L, 1_500_000L)));
        assertThat(Arrays.stream(c).sum()).isEqualTo(5);
        assertThat(c[0]).isEqualTo(1);              // le 25 µs
        assertThat(c[c.length - 1]).isEqualTo(1);   // +Inf
    }
}

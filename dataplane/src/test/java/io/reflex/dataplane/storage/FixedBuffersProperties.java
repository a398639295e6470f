package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class FixedBuffersProperties {
    /** Whatever the registration order, a lookup finds exactly the buffer that holds the whole range, or none. */
    @Property
    void findsTheBufferHoldingTheWholeRange(@ForAll @Size(min = 1, max = 40) List<@IntRange(min = 1, max = 64) Integer> pages,
                                            @ForAll @IntRange(min = 0, max = 4000) int probePage,
                                            @ForAll @IntRange(min = 1, max = 8) int probePages,
                                            @ForAll long seed) {
        // buffers laid out with a one-page gap between neighbours, registered in shuffled order
        List<long[]> ranges = new ArrayList<>();
        long at = 1L << 30;
        for (int i = 0; i < pages.size(); i++) {
            ranges.add(new long[] {at, pages.get(i) * 4096L, i});
            at += (pages.get(i) + 1) * 4096L;
        }
        List<long[]> order = new ArrayList<>(ranges);
        Collections.shuffle(order, new java.util.Random(seed));
        FixedBuffers fixed = new FixedBuffers();
        for (long[] r : order) fixed.add(r[0], r[1], (int) r[2]);

        long address = (1L << 30) + probePage * 4096L;
        int length = probePages * 4096;
        int expected = -1;
        for (long[] r : ranges) {
            if (address >= r[0] && address + length <= r[0] + r[1]) expected = (int) r[2];
        }
        assertThat(fixed.indexOf(address, length)).isEqualTo(expected);
        assertThat(fixed.size()).isEqualTo(pages.size());
    }
}

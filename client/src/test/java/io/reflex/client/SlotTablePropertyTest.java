package io.reflex.client;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SlotTablePropertyTest {

    /**
     * Random interleavings of submits, completions in any order, and replays of already-completed handles: a
     * current handle always resolves to the slot of the request that got it, and a completed handle never resolves
     * again (even after its slot was reused).
     */
    @Property(tries = 300)
    void aHandleOnlyEverMatchesTheRequestThatGotIt(@ForAll @IntRange(min = 1, max = 16) int capacity,
                                                   @ForAll @Size(max = 400) List<@IntRange(min = 0, max = 99) Integer> steps) {
        SlotTable table = new SlotTable(capacity);
        Map<Long, Integer> requestOfHandle = new HashMap<>(); // outstanding handle -> request id
        Map<Integer, Integer> requestInSlot = new HashMap<>();
        List<Long> outstanding = new ArrayList<>();
        Set<Long> completed = new HashSet<>();
        int nextRequest = 0;
        for (int step : steps) {
            if (step < 50) { // submit
                long h = table.acquire();
                if (outstanding.size() == capacity) {
                    assertThat(h).isEqualTo(-1);
                    continue;
                }
                assertThat(h).isNotIn(0L, -1L);
                assertThat(requestOfHandle).doesNotContainKey(h);
                assertThat(completed).doesNotContain(h);
                int slot = table.slotOf(h);
                assertThat(requestInSlot).doesNotContainKey(slot);
                requestInSlot.put(slot, nextRequest);
                requestOfHandle.put(h, nextRequest++);
                outstanding.add(h);
            } else if (step < 90 && !outstanding.isEmpty()) { // a reply for any outstanding request
                long h = outstanding.remove(step % outstanding.size());
                int slot = table.slotOf(h);
                assertThat(slot).isNotNegative();
                assertThat(requestInSlot.get(slot)).isEqualTo(requestOfHandle.remove(h));
                requestInSlot.remove(slot);
                table.release(slot);
                completed.add(h);
            } else if (!completed.isEmpty()) { // a duplicate or late reply
                long stale = completed.stream().skip(step % completed.size()).findFirst().orElseThrow();
                assertThat(table.slotOf(stale)).isEqualTo(-1);
            }
            assertThat(table.inFlight()).isEqualTo(outstanding.size());
        }
    }

    @Property
    void handlesOutsideTheTableNeverResolve(@ForAll long handle) {
        SlotTable table = new SlotTable(8);
        for (int i = 0; i < 8; i++) table.acquire();
        int slot = table.slotOf(handle);
        if (slot >= 0) assertThat(table.handleOf(slot)).isEqualTo(handle);
    }
}

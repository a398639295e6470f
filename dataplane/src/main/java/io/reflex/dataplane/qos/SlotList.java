package io.reflex.dataplane.qos;

/**
 * The slots of one tenant class, kept sorted by slot number so that iteration order — and therefore the dispatch
 * sequence — depends only on which slots are configured, not on the order they were configured in. Carries the
 * round-robin cursor: each round starts just after the tenant that was served first in the previous one, so a tenant
 * that got the scarce resource first goes to the back, whichever tenants are idle.
 */
final class SlotList {
    private final int[] slots;
    private int count;
    private int start;

    SlotList(int maxSlots) { slots = new int[maxSlots]; }

    int size() { return count; }

    int get(int i) { return slots[i]; }

    /** Index of the {@code k}-th slot to visit this round. */
    int rotated(int k) {
        return (start + k) % count;
    }

    /** The slot at {@code index} was served first this round: start after it next round. */
    void servedFirst(int index) {
        start = index + 1 == count ? 0 : index + 1;
    }

    void add(int slot) {
        int i = count;
        while (i > 0 && slots[i - 1] > slot) {
            slots[i] = slots[i - 1];
            i--;
        }
        slots[i] = slot;
        count++;
        start = 0;
    }

    void remove(int slot) {
        int i = 0;
        while (i < count && slots[i] != slot) i++;
        if (i == count) return;
        System.arraycopy(slots, i + 1, slots, i, count - i - 1);
        count--;
        start = 0;
    }
}

package io.reflex.dataplane.qos;

import java.util.ArrayList;
import java.util.List;

/** Test dispatcher: records what it is handed and accepts at most {@link #capacity} requests (a device queue). */
final class Recorder implements Dispatcher {
    record Dispatch(int slot, long request) {}

    final List<Dispatch> dispatched = new ArrayList<>();
    int capacity = Integer.MAX_VALUE;

    static Recorder unbounded() { return new Recorder(); }

    static Recorder accepting(int capacity) {
        Recorder r = new Recorder();
        r.capacity = capacity;
        return r;
    }

    @Override
    public boolean dispatch(int tenantSlot, long request) {
        if (capacity == 0) return false;
        if (capacity != Integer.MAX_VALUE) capacity--;
        dispatched.add(new Dispatch(tenantSlot, request));
        return true;
    }

    List<Long> requestsOf(int slot) {
        return dispatched.stream().filter(d -> d.slot() == slot).map(Dispatch::request).toList();
    }

    List<Integer> slots() {
        return dispatched.stream().map(Dispatch::slot).toList();
    }
}

package io.reflex.dataplane.qos;

/**
 * Called by the scheduler to hand one request to the device. Return false when the device queue is full: the
 * scheduler stops this round, keeps the request queued and does not charge it.
 *
 * <p>Implementations must not call back into the scheduler that invoked them.
 */
@FunctionalInterface
public interface Dispatcher {
    boolean dispatch(int tenantSlot, long request);
}

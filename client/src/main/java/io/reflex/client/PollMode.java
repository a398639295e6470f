package io.reflex.client;

/**
 * How a thread driving connections waits when there is nothing to do.
 *
 * <p>On VMs whose idle vCPUs halt, every wake-up from a blocking wait costs tens of microseconds, so the choice
 * shows directly in latency numbers.
 */
public enum PollMode {
    /** Never block: spin on non-blocking reads. Lowest latency, burns a core per driving thread. */
    BUSY,
    /**
     * Spin like BUSY, but offer the CPU to other runnable threads on every empty pass (sched_yield): for a client
     * sharing one core with the server (or other clients), where BUSY would starve them until preempted.
     */
    YIELD,
    /** Spin for a short while after the last activity (and when a deadline is near), then block in select. */
    ADAPTIVE,
    /** Block in select whenever idle (millisecond timer resolution). Cheapest on CPU, highest latency. */
    BLOCK
}

package io.reflex.dataplane.net;

/**
 * How an idle dataplane loop waits. This matters on VMs whose idle vCPUs halt (a wake-up costs ~50 µs):
 * {@code busy} spins like the original on dedicated cores; {@code yield} spins but offers the CPU to any other runnable
 * thread on every empty pass (a client or a second loop sharing the core runs at once, and the loop never halts the
 * vCPU); {@code adaptive} spins about as long as a wake-up costs, then blocks (shared nodes); {@code block} blocks at
 * once (lowest CPU, highest latency).
 */
public enum PollMode {
    BUSY(Long.MAX_VALUE), YIELD(Long.MAX_VALUE), ADAPTIVE(100_000), BLOCK(0);

    /** How long a loop with no work keeps spinning before it blocks. */
    final long spinNanos;

    PollMode(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    /** One empty pass of spinning: a CPU pause hint, or for YIELD the CPU offered to other runnable threads. */
    void spinOnce() {
        if (this == YIELD) Thread.yield();
        else Thread.onSpinWait();
    }
}

package io.reflex.dataplane.net;

/**
 * How an idle dataplane loop waits. This matters on VMs whose idle vCPUs halt (a wake-up costs ~50 µs):
 * {@code busy} spins like the original on dedicated cores; {@code adaptive} spins a while, then blocks (shared nodes);
 * {@code block} blocks at once (lowest CPU, highest latency).
 */
public enum PollMode {
    BUSY(Long.MAX_VALUE), ADAPTIVE(20_000), BLOCK(0);

    /** Idle iterations spent spinning before the loop blocks. */
    final long spinIterations;

    PollMode(long spinIterations) {
        this.spinIterations = spinIterations;
    }
}

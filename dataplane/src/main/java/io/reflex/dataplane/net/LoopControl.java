package io.reflex.dataplane.net;

import io.reflex.dataplane.metrics.TenantStats;
import io.reflex.dataplane.qos.TokenScheduler;
import io.reflex.dataplane.storage.IoQueue;
import io.reflex.dataplane.tenant.TenantSpec;

/**
 * A dataplane thread as {@link io.reflex.dataplane.Dataplane} drives it, whatever its network path: kernel TCP
 * ({@link DataplaneLoop}) or DPDK UDP ({@code io.reflex.dataplane.dpdk.UdpLoop}). Every change is a task posted to the
 * loop's control queue ({@link #execute}) and run on the loop thread between iterations; the caller never waits for
 * the loop and the loop never locks. Tenant slots are the dataplane's: the same slot on every loop.
 */
public interface LoopControl {
    int index();

    /** Runs {@code task} on the loop thread (cold path). */
    void execute(Runnable task);

    /**
     * Installs or updates a tenant on this loop: its LBA window, access token and (UDP) port; {@code stats} are this
     * loop's counters of the tenant, kept across updates.
     */
    void setTenant(int slot, TenantSpec spec, TenantStats stats);

    /** This loop's share of a tenant's token rate (infinite: unlimited), applied to its scheduler on the loop thread. */
    default void setRate(int slot, boolean latencyCritical, double tokensPerSec) {
        TokenScheduler scheduler = scheduler();
        execute(() -> {
            if (Double.isInfinite(tokensPerSec)) scheduler.setUnlimited(slot);
            else if (latencyCritical) scheduler.setLatencyCritical(slot, tokensPerSec);
            else scheduler.setBestEffort(slot, tokensPerSec);
        });
    }

    default void setSchedulerEnabled(boolean enabled) {
        TokenScheduler scheduler = scheduler();
        execute(() -> scheduler.setEnabled(enabled));
    }

    /** Stops serving a tenant on this loop and frees its slot (queued requests fail, those at the device complete). */
    void removeTenant(int slot);

    /** The loop's scheduler; other threads only read its gauges (metrics) or post changes to it through {@link #execute}. */
    TokenScheduler scheduler();

    /** The loop's device queue; other threads only read {@link IoQueue#inFlight()} (metrics). */
    IoQueue io();

    /** The network path, for the start-up summary: "epoll", "io_uring (…)", "dpdk". */
    String netPath();

    boolean isRunning();

    /** The loop thread's id (tests and benchmarks read its CPU time and allocations). */
    long threadId();

    void start();

    /** Stops the loop; waits for requests at the device to finish. */
    void stop();
}

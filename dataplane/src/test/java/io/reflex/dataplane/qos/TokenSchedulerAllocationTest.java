package io.reflex.dataplane.qos;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The data path (enqueue + schedule, with LC, BE, unlimited tenants and the shared pool) must not allocate. */
class TokenSchedulerAllocationTest {
    static final int CYCLES = 1_000_000;

    /** A device that accepts all but every 7th request, so refusals are on the measured path too. */
    static final class CountingDevice implements Dispatcher {
        long accepted;
        int calls;

        @Override
        public boolean dispatch(int tenantSlot, long request) {
            if (++calls % 7 == 0) return false;
            accepted++;
            return true;
        }
    }

    final GlobalBucket bucket = new GlobalBucket(1);
    final TokenScheduler scheduler = new TokenScheduler(4, 64, bucket);
    final CountingDevice device = new CountingDevice();
    long now;

    @Test
    void enqueueAndScheduleDoNotAllocate() {
        scheduler.setLatencyCritical(0, 2e6);
        scheduler.setLatencyCritical(1, 1e5); // mostly idle: donates to the pool
        scheduler.setBestEffort(2, 5e5);      // borrows from the pool
        scheduler.setUnlimited(3);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadAllocatedMemorySupported()).isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);

        cycles(200_000); // warm-up: JIT-compile the path
        long before = threads.getCurrentThreadAllocatedBytes();
        cycles(CYCLES);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(allocated).as("bytes allocated by %d enqueue/schedule cycles", CYCLES).isLessThan(4096);
        assertThat(device.accepted).isPositive();
        assertThat(scheduler.dispatchedRequests(2)).isPositive();
    }

    private void cycles(int n) {
        for (int i = 0; i < n; i++) {
            now += 2_000;
            scheduler.enqueue(0, i, 100);
            if ((i & 15) == 0) scheduler.enqueue(1, i, 1000);
            scheduler.enqueue(2, i, 100);
            if ((i & 3) == 0) scheduler.enqueue(3, i, 100);
            scheduler.schedule(now, device);
        }
    }
}

package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.Status;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The UDP loop allocates nothing per request once warm: receive, parse, schedule, device, reply, transmit. */
class UdpHotPathAllocationTest {
    @Test
    void theLoopAllocatesNothingPerRequest() {
        try (RingRig rig = new RingRig(0)) {
            byte[] block = new byte[4096];
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long loop = rig.server.loops()[0].threadId();
            run(rig, block, 20_000); // warm up: JIT of the whole path
            long before = mx.getThreadAllocatedBytes(loop);
            run(rig, block, 10_000);
            long after = mx.getThreadAllocatedBytes(loop);
            // a few stray bytes (the JIT's deoptimisation, a control task) but nothing per request: < 1 byte per request
            assertThat(after - before).as("bytes allocated by the loop for 10,000 requests").isLessThan(10_000);
        }
    }

    private static void run(RingRig rig, byte[] block, int n) {
        for (int i = 0; i < n; i++) {
            boolean write = i % 2 == 0;
            RingRig.Reply r = rig.call(write ? Opcode.SET : Opcode.GET, i, (i % 512) * 8L, 8, write ? block : null);
            assertThat(r.status()).isEqualTo(Status.OK);
        }
    }
}

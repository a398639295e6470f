package io.reflex.dataplane.hostile;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.metrics.ConnectionStats;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connect/disconnect storm on two loops, ReFlex and NBD: connections that close at once, reset, leave a partial
 * header, or send a read and leave without its reply. Afterwards nothing is left: no sessions, no request slots, no
 * descriptors; every opened connection was counted closed; the other tenant kept working throughout.
 */
class ConnectStormTest {
    private static final int THREADS = 6;
    private static final long STORM_NANOS = 3_000_000_000L;

    @Test
    void stormLeavesNoSessionsSlotsOrDescriptorsBehind() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 1, 16 << 20), 2);
             Hostile.Load good = new Hostile.Load(h.portB, 8)) {
            Thread.sleep(300);
            int fdsBefore = Hostile.openFds();
            AtomicLong connections = new AtomicLong();
            List<Thread> storm = new ArrayList<>();
            long end = System.nanoTime() + STORM_NANOS;
            for (int t = 0; t < THREADS; t++) {
                storm.add(Thread.ofPlatform().name("storm-" + t).start(() -> {
                    while (System.nanoTime() < end) {
                        try {
                            one(h, ThreadLocalRandom.current().nextInt(7));
                            connections.incrementAndGet();
                        } catch (IOException e) {
                            // a reset or refused connect is part of the storm
                        }
                    }
                }));
            }
            long goodBefore = good.completed.get();
            for (Thread t : storm) t.join();
            assertThat(good.completed.get() - goodBefore).as("the other tenant's requests during the storm").isPositive();

            Hostile.await("every storm connection closed", Duration.ofSeconds(15), () -> h.open() == 1); // the good one
            Hostile.await("request slots released", Duration.ofSeconds(5), () -> h.sum(ConnectionStats::requestsInUse) <= 8);
            Hostile.await("descriptors released", Duration.ofSeconds(10), () -> Hostile.openFds() <= fdsBefore + 2);
            long closed = 0;
            for (CloseReason r : CloseReason.values()) closed += h.closed(r);
            assertThat(h.sum(ConnectionStats::opened)).as("opened = closed + the good connection").isEqualTo(closed + 1);
            assertThat(h.sum(ConnectionStats::opened)).isGreaterThanOrEqualTo(connections.get() / 2); // NBD + native
            assertThat(good.completedDuring(300)).isPositive();
            assertThat(good.failed.get()).as("the other tenant's failures: %s", good.failure()).isZero();
        }
    }

    /** One hostile connection of kind {@code k}. */
    private static void one(Hostile h, int k) throws IOException {
        switch (k) {
            case 0 -> Hostile.connect(h.portA).close();
            case 1 -> { // reset instead of FIN
                Socket s = Hostile.connect(h.portA);
                s.setSoLinger(true, 0);
                s.close();
            }
            case 2 -> { // half a header, then gone
                try (Socket s = Hostile.connect(h.portA)) {
                    s.getOutputStream().write(Hostile.get(1, 0, 8), 0, 11);
                }
            }
            case 3 -> { // a read, gone before the reply (reset, so the reply cannot be written either)
                Socket s = Hostile.connect(h.portA);
                OutputStream out = s.getOutputStream();
                out.write(Hostile.get(1, 0, 256));
                s.setSoLinger(true, 0);
                s.close();
            }
            case 4 -> Hostile.connect(h.nbdPort).close(); // NBD: greeting unread
            case 5 -> { // NBD: client flags and half an option
                try (Socket s = Hostile.connect(h.nbdPort)) {
                    s.getOutputStream().write(new byte[] {0, 0, 0, 3, 'I', 'H', 'A', 'V'});
                }
            }
            default -> { // NBD transmission, a read, reset
                Socket s = Hostile.nbdTransmission(h.nbdPort, "a");
                s.getOutputStream().write(Hostile.nbdRead(9, 0, 65536));
                s.setSoLinger(true, 0);
                s.close();
            }
        }
    }
}

package io.reflex.dataplane.hostile;

import io.reflex.dataplane.net.TenantAdmission;
import io.reflex.dataplane.net.TenantAdmission.Reason;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Per-tenant connection admission on one loop shared by two tenants: a tenant storming its listener is accepted at its
 * connect rate and no faster (the rest wait in the kernel's backlog), a tenant at its connection cap is not accepted
 * from until one of its connections closes — and the other tenant keeps being served, new connections included.
 * Asserts counts and states, not timings: the rate bound is an upper bound over however long the storm really took.
 */
class ConnectAdmissionTest {
    private static final double RATE = 20;
    private static final int BURST = 10;

    @Test
    void aStormingTenantIsHeldAtItsRateWhileTheOtherTenantOnTheSameLoopIsServed() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20).withAdmission(RATE, BURST, 0));
             Hostile.Load good = new Hostile.Load(h.portB, 8)) {
            TenantAdmission a = h.admission("a"), b = h.admission("b");
            AtomicLong handshakes = new AtomicLong();
            long start = System.nanoTime(), end = start + 2_000_000_000L;
            List<Thread> storm = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int kind = t;
                storm.add(Thread.ofPlatform().name("storm-" + t).start(() -> {
                    while (System.nanoTime() < end) {
                        try (Socket s = new Socket()) {
                            s.connect(new InetSocketAddress("127.0.0.1", h.portA), 500); // a full backlog drops the SYN
                            handshakes.incrementAndGet();
                            if (kind % 2 == 1) s.setSoLinger(true, 0); // half of them reset
                        } catch (IOException e) {
                            // connect timed out: the backlog is full, as it should be
                        }
                    }
                }));
            }
            long goodBefore = good.completed.get();
            for (int i = 0; i < 5; i++) { // the other tenant connects anew during the storm, and is served at once
                try (Socket s = Hostile.connect(h.portB)) {
                    assertThat(roundTrip(s)).as("tenant b's new connection %d", i).isTrue();
                }
            }
            for (Thread t : storm) t.join();
            long accepted = a.accepted();
            double seconds = (System.nanoTime() - start) / 1e9;

            assertThat(handshakes.get()).as("the storm connected more often than the rate allows").isGreaterThan(BURST + (long) (RATE * 3));
            assertThat(accepted).as("accepted in %.2f s at %s/s, burst %d", seconds, RATE, BURST)
                    .isGreaterThanOrEqualTo(BURST).isLessThanOrEqualTo(BURST + (long) Math.ceil(RATE * seconds) + 1);
            assertThat(a.pauses(Reason.CONNECT_RATE)).as("tenant a's listener paused over its rate").isPositive();
            assertThat(a.pauses(Reason.MAX_CONNECTIONS)).isZero();
            assertThat(good.completed.get() - goodBefore).as("tenant b's requests during the storm").isPositive();
            assertThat(good.failed.get()).as("tenant b's failures: %s", good.failure()).isZero();
            assertThat(b.pauses(Reason.CONNECT_RATE)).as("tenant b was never held back").isZero();
            assertThat(b.accepted()).isGreaterThanOrEqualTo(6); // the load's connection and the five new ones
            // The storm's connections still waiting are accepted, at the rate, as it allows.
            long waiting = a.accepted();
            Hostile.await("tenant a accepted again", Duration.ofSeconds(10), () -> a.accepted() > waiting);
        }
    }

    @Test
    void atItsCapATenantsNewConnectionWaitsUntilOneClosesAndReconnectsWork() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, 30, 16 << 20).withAdmission(0, 0, 3))) {
            TenantAdmission a = h.admission("a");
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    open.add(Hostile.connect(h.portA));
                    assertThat(roundTrip(open.getLast())).isTrue();
                }
                Socket fourth = Hostile.connect(h.portA); // the kernel completes the handshake; the dataplane does not accept
                open.add(fourth);
                fourth.getOutputStream().write(Hostile.get(1, 0, 8));
                Hostile.await("the listener paused at the cap", Duration.ofSeconds(10), () -> a.pauses(Reason.MAX_CONNECTIONS) >= 1);
                assertThat(a.accepted()).isEqualTo(3);
                assertThat(h.dp.connectionCount("a")).isEqualTo(3);

                try (Socket other = Hostile.connect(h.portB)) { // the other tenant's cap is its own
                    assertThat(roundTrip(other)).as("tenant b while a is at its cap").isTrue();
                }

                open.removeFirst().close(); // one of a's closes: the waiting one is accepted and its request answered
                assertThat(readReply(fourth)).as("the waiting connection, once one closed").isTrue();
                assertThat(a.accepted()).isEqualTo(4);

                for (int i = 0; i < 20; i++) { // normal reconnects at the cap: close one, open one, use it
                    open.removeFirst().close();
                    open.add(Hostile.connect(h.portA));
                    assertThat(roundTrip(open.getLast())).as("reconnect %d", i).isTrue();
                }
                assertThat(a.accepted()).isEqualTo(24);
                Hostile.await("three open", Duration.ofSeconds(5), () -> h.dp.connectionCount("a") == 3 && a.open() == 3);
            } finally {
                for (Socket s : open) s.close();
            }
            Hostile.await("all released", Duration.ofSeconds(5), () -> a.open() == 0 && h.dp.connectionCount("a") == 0);
        }
    }

    /** A 4 KiB read and its reply (legacy framing: the header echoed, then the data). */
    private static boolean roundTrip(Socket s) throws IOException {
        s.getOutputStream().write(Hostile.get(7, 0, 8));
        return readReply(s);
    }

    private static boolean readReply(Socket s) throws IOException {
        s.setSoTimeout(10_000); // a hang detector only
        return s.getInputStream().readNBytes(24 + 4096).length == 24 + 4096;
    }
}

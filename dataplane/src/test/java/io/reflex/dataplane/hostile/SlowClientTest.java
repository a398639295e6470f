package io.reflex.dataplane.hostile;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.protocol.Opcode;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;

import static io.reflex.dataplane.hostile.Hostile.closedWithin;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slowloris: requests and handshakes that trickle in are closed after the request timeout, while another tenant's
 * client on the same loop keeps working; complete requests on a quiet connection are not.
 */
class SlowClientTest {
    private static final double REQUEST_TIMEOUT = 2;

    @Test
    void headerSentOneBytePerSecondIsClosedAfterTheRequestTimeoutWhileAnotherTenantKeepsWorking() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, REQUEST_TIMEOUT, 16 << 20));
             Hostile.Load good = new Hostile.Load(h.portB, 8);
             Socket slow = Hostile.connect(h.portA)) {
            byte[] header = Hostile.get(1, 0, 8);
            OutputStream out = slow.getOutputStream();
            long start = System.nanoTime();
            long goodBefore = good.completed.get();
            boolean closed = false;
            for (int i = 0; i < header.length - 1 && !closed; i++) {
                out.write(header[i]);
                out.flush();
                closed = closedWithin(slow, 1000);
            }
            double took = (System.nanoTime() - start) / 1e9;
            assertThat(closed).as("server closed the trickling connection before its header was complete").isTrue();
            assertThat(took).as("seconds until closed").isGreaterThanOrEqualTo(REQUEST_TIMEOUT);
            h.awaitClosed(CloseReason.REQUEST_TIMEOUT, 1);
            assertThat(good.completed.get() - goodBefore).as("the other tenant's requests during the attack").isPositive();
            assertThat(good.completedDuring(300)).as("the other tenant afterwards").isPositive();
            assertThat(good.failed.get()).as("the other tenant's failures: %s", good.failure()).isZero();
            assertThat(h.dp.metrics().scrape()).contains("reflex_connections_closed_total{reason=\"request_timeout\"} 1.0");
        }
    }

    @Test
    void payloadThatTricklesInIsClosedAfterTheRequestTimeout() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, REQUEST_TIMEOUT, 16 << 20));
             Socket slow = Hostile.connect(h.portA)) {
            OutputStream out = slow.getOutputStream();
            out.write(Hostile.header(Opcode.SET, 1, 0, 8)); // 4 KiB payload follows, 64 bytes every 250 ms
            boolean closed = false;
            for (int i = 0; i < 64 && !closed; i++) {
                out.write(new byte[64]);
                closed = closedWithin(slow, 250);
            }
            assertThat(closed).isTrue();
            h.awaitClosed(CloseReason.REQUEST_TIMEOUT, 1);
        }
    }

    @Test
    void nbdClientThatNeverFinishesItsHandshakeIsClosed() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, REQUEST_TIMEOUT, 16 << 20));
             Socket silent = Hostile.connect(h.nbdPort)) {
            assertThat(closedWithin(silent, 10_000)).as("closed (after reading the greeting)").isTrue();
            h.awaitClosed(CloseReason.HANDSHAKE_TIMEOUT, 1);
        }
    }

    @Test
    void nbdCommandHeaderCutShortIsClosedButAQuietNbdSessionIsNot() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(0, REQUEST_TIMEOUT, 16 << 20));
             Socket partial = Hostile.nbdTransmission(h.nbdPort, "a");
             Socket quiet = Hostile.nbdTransmission(h.nbdPort, "b")) {
            byte[] read = Hostile.nbdRead(7, 0, 4096);
            partial.getOutputStream().write(read, 0, 10);
            quiet.getOutputStream().write(read); // a complete request, answered; then nothing
            quiet.setSoTimeout(5000);
            assertThat(quiet.getInputStream().readNBytes(16 + 4096)).hasSize(16 + 4096);
            assertThat(closedWithin(partial, 10_000)).isTrue();
            h.awaitClosed(CloseReason.REQUEST_TIMEOUT, 1);
            assertThat(closedWithin(quiet, (long) (REQUEST_TIMEOUT * 1000 + 1000))).as("quiet session closed").isFalse();
        }
    }

    @Test
    void aPipeliningClientIsNeverTakenForASlowOne() throws Exception {
        // Requests split across reads at every boundary, for several request timeouts: never a request timeout.
        try (Hostile h = Hostile.start(Hostile.limits(0, 1, 16 << 20));
             Hostile.Load good = new Hostile.Load(h.portB, 32)) {
            Thread.sleep(3500);
            assertThat(good.failed.get()).as("failures: %s", good.failure()).isZero();
            assertThat(h.closed(CloseReason.REQUEST_TIMEOUT)).isZero();
            assertThat(h.dp.connectionCount("b")).isEqualTo(1);
        }
    }
}

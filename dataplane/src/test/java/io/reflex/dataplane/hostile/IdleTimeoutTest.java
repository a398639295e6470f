package io.reflex.dataplane.hostile;

import io.reflex.dataplane.metrics.CloseReason;
import io.reflex.dataplane.net.ConnectionLimits;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.reflex.dataplane.hostile.Hostile.closedWithin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Idle connections are closed after the idle timeout (when set); busy ones and, by default, quiet ones are not. */
class IdleTimeoutTest {
    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(1, 0, 16 << 20));
             Socket idle = Hostile.connect(h.portA)) {
            long start = System.nanoTime();
            assertThat(closedWithin(idle, 10_000)).isTrue();
            assertThat((System.nanoTime() - start) / 1e9).isGreaterThanOrEqualTo(0.9);
            h.awaitClosed(CloseReason.IDLE, 1);
        }
    }

    @Test
    void aConnectionInUseStaysOpenAndIsClosedOnceItFallsIdle() throws Exception {
        try (Hostile h = Hostile.start(Hostile.limits(1, 0, 16 << 20));
             Socket s = Hostile.connect(h.portA)) {
            InputStream in = s.getInputStream();
            s.setSoTimeout(5000);
            for (int i = 0; i < 10; i++) { // 3 s of one request every 300 ms: never 1 s without one
                s.getOutputStream().write(Hostile.get(i, 0, 8));
                assertThat(in.readNBytes(24 + 4096)).hasSize(24 + 4096);
                Thread.sleep(300);
            }
            assertThat(h.closed(CloseReason.IDLE)).isZero();
            long quietSince = System.nanoTime();
            assertThat(closedWithin(s, 10_000)).isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - quietSince)).isGreaterThanOrEqualTo(600);
            h.awaitClosed(CloseReason.IDLE, 1);
        }
    }

    @Test
    void byDefaultAQuietConnectionIsKeptForClientsThatDoNotReconnect() throws Exception {
        ConnectionLimits d = ConnectionLimits.DEFAULTS;
        assertThat(d.idleTimeout()).isZero();
        try (Hostile h = Hostile.start(d);
             Socket s = Hostile.connect(h.portA)) {
            s.getOutputStream().write(Hostile.get(1, 0, 8));
            s.setSoTimeout(5000);
            assertThat(s.getInputStream().readNBytes(24 + 4096)).hasSize(24 + 4096);
            assertThat(closedWithin(s, 2500)).isFalse();
            assertThat(h.open()).isEqualTo(1);
        }
    }

    @Test
    void acceptedConnectionsHaveTcpKeepaliveArmed() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/ss")) || Files.isExecutable(Path.of("/bin/ss")), "needs ss (iproute2)");
        try (Hostile h = Hostile.start(Hostile.limits(0, 0, 16 << 20));
             Socket s = Hostile.connect(h.portA)) {
            Hostile.await("server side accepted", java.time.Duration.ofSeconds(5), () -> h.open() == 1);
            Process p = new ProcessBuilder(List.of("ss", "-tnoH", "state", "established", "( sport = :" + h.portA + " )"))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            assertThat(out).as("ss of the server side").contains("keepalive");
            assertThat(s.isConnected()).isTrue();
        }
    }
}

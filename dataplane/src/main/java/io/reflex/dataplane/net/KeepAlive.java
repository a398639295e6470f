package io.reflex.dataplane.net;

import jdk.net.ExtendedSocketOptions;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;

/**
 * TCP keepalive on accepted connections, so a peer that vanished without a FIN or RST (host crash, cable pulled,
 * a NAT/conntrack entry gone) is found on an idle connection: the kernel probes after {@code idle} seconds, every
 * {@link #INTERVAL} s, and resets the connection after {@link #PROBES} unanswered probes; the loop then reads an error
 * and closes it (reason io_error).
 */
final class KeepAlive {
    static final int INTERVAL = 10;
    static final int PROBES = 6;
    private static final boolean TUNABLE = tunable();

    private KeepAlive() {}

    /** {@code idleSeconds} 0: keepalive off. */
    static void apply(SocketChannel ch, int idleSeconds) throws IOException {
        if (idleSeconds <= 0) return;
        ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        if (!TUNABLE) return; // the platform's defaults (Linux: 2 h) still catch a vanished peer, eventually
        ch.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, idleSeconds);
        ch.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, Math.min(INTERVAL, idleSeconds));
        ch.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, PROBES);
    }

    private static boolean tunable() {
        try (SocketChannel probe = SocketChannel.open()) {
            var options = probe.supportedOptions();
            return options.contains(ExtendedSocketOptions.TCP_KEEPIDLE) && options.contains(ExtendedSocketOptions.TCP_KEEPINTERVAL)
                    && options.contains(ExtendedSocketOptions.TCP_KEEPCOUNT);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}

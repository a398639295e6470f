package io.reflex.bench;

import io.reflex.client.ClientOptions;
import io.reflex.client.PollMode;
import io.reflex.client.UdpOptions;
import io.reflex.protocol.ReflexHeader;

import java.time.Duration;
import java.util.List;

/** Validated settings of one reflex-bench run. */
record BenchConfig(List<ServerAddress> servers, Mode mode, List<Double> rates, int qd, double durationSeconds,
                   double warmupSeconds, int readPct, int sizeBytes, boolean sequential, int connections, int threads,
                   long lbaRange, String token, boolean extended, PollMode poll, long seed, double drainSeconds,
                   boolean udp, UdpOptions udpOptions, List<Integer> cpus) {

    enum Mode { OPEN, CLOSED }

    int sectors() { return sizeBytes >>> ReflexHeader.SECTOR_SHIFT; }

    /** Slots per connection: enough for the queue depth, and room for an open loop to fall behind. */
    int maxInFlight() { return Math.max(qd, mode == Mode.OPEN ? 4096 : 1); }

    ClientOptions clientOptions() {
        ClientOptions o = ClientOptions.defaults().withMaxInFlight(maxInFlight()).withPollMode(poll)
                .withConnectTimeout(Duration.ofSeconds(5));
        if (token != null) return o.withToken(token);
        return o.withExtended(extended);
    }
}

package io.reflex.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.reflex.client.LoopbackServer;
import io.reflex.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench against the loopback server: exit codes, table and JSON shape, request counts — never timings. */
class ReflexBenchTest {
    private static final long SECTORS = 1 << 14;
    private static final String HEADER_START = "RqIOPS IOPS Avg 10th 20th 30th 40th 50th 60th 70th 80th 90th 95th 99th max missed";

    private LoopbackServer server;

    @BeforeEach
    void start() throws IOException {
        server = new LoopbackServer(SECTORS);
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    record Run(int exit, List<String> out, String err) {}

    private Run bench(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int exit = ReflexBench.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8).lines().toList(), err.toString(StandardCharsets.UTF_8));
    }

    private String server() {
        return "127.0.0.1:" + server.port();
    }

    private static String[] cells(String line) {
        return line.strip().split("\\s+");
    }

    @Test
    void openLoopPrintsTheOriginalTableAndJson(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("r.json");
        Run r = bench("--server", server(), "--iops", "2000", "--duration", "1", "--warmup", "0.2",
                "--lba-range", Long.toString(SECTORS), "--read-pct", "70", "--json", json.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).hasSize(2);
        assertThat(String.join(" ", cells(r.out().get(0)))).isEqualTo(HEADER_START + " 99.9th errors");
        String[] row = cells(r.out().get(1));
        assertThat(row).hasSize(18);
        assertThat(row[0]).isEqualTo("2000");
        assertThat(Long.parseLong(row[1])).isPositive();
        assertThat(row[17]).isEqualTo("0");

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.path("config").path("mode").asText()).isEqualTo("open");
        assertThat(root.path("config").path("read_pct").asInt()).isEqualTo(70);
        assertThat(root.path("config").path("size_bytes").asInt()).isEqualTo(4096);
        assertThat(root.path("config").path("pattern").asText()).isEqualTo("rand");
        assertThat(root.path("config").path("connections").asInt()).isEqualTo(1);
        // no --poll: chosen for this machine (ClientLayout), printed, and recorded
        String poll = root.path("config").path("poll").asText();
        assertThat(poll).isIn("busy", "yield", "adaptive");
        assertThat(r.err()).contains("client layout: poll " + poll + ": ");
        assertThat(root.path("config").path("target_iops").get(0).asDouble()).isEqualTo(2000);
        JsonNode row0 = root.path("rows").get(0);
        for (String f : List.of("target_iops", "iops", "mean_us", "p50_us", "p95_us", "p99_us", "p999_us", "max_us", "errors", "missed", "uncorrected")) {
            assertThat(row0.has(f)).as(f).isTrue();
        }
        // ~2000 requests in the 1 s window (loose bounds: counts, not timings)
        long requests = row0.path("requests").asLong();
        assertThat(requests).isBetween(500L, 2500L);
        assertThat(row0.path("reads").asLong() + row0.path("writes").asLong()).isEqualTo(requests);
        assertThat(row0.path("writes").asLong()).isPositive();
        assertThat(row0.path("p999_us").asDouble()).isGreaterThanOrEqualTo(row0.path("p50_us").asDouble());
    }

    @Test
    void sweepPrintsOneRowPerRate(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("s.json");
        Run r = bench("--server", server(), "--sweep", "500,1k:2k:1k", "--duration", "0.3", "--warmup", "0",
                "--lba-range", Long.toString(SECTORS), "--threads", "2", "--pattern", "seq", "--poll", "busy", "--json", json.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("client layout: poll busy (--poll)");
        assertThat(r.out()).hasSize(4);
        assertThat(r.out().subList(1, 4)).extracting(l -> cells(l)[0]).containsExactly("500", "1000", "2000");
        JsonNode rows = new ObjectMapper().readTree(json.toFile()).path("rows");
        assertThat(rows).hasSize(3);
        assertThat(rows.get(2).path("target_iops").asDouble()).isEqualTo(2000);
    }

    @Test
    void closedLoopKeepsQueueDepthOnEveryConnection(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("c.json");
        Run r = bench("--server", server() + "," + server(), "--mode", "closed", "--qd", "16", "--connections", "2",
                "--duration", "1", "--warmup", "0.1", "--lba-range", Long.toString(SECTORS), "--size", "8192",
                "--extended", "--poll", "block", "--json", json.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).hasSize(2);
        assertThat(cells(r.out().get(1))[0]).isEqualTo("-");
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.path("config").path("qd").asInt()).isEqualTo(16);
        assertThat(root.path("config").path("protocol").asText()).isEqualTo("extended");
        JsonNode row = root.path("rows").get(0);
        assertThat(row.path("requests").asLong()).isGreaterThan(100);
        assertThat(row.path("target_iops").isNull()).isTrue();
        assertThat(row.path("errors").asLong()).isZero();
    }

    @Test
    void failedRequestsAreCountedAndSetTheExitCode() {
        server.fail(0, Status.EIO);
        Run r = bench("--server", server(), "--mode", "closed", "--qd", "4", "--duration", "0.5", "--warmup", "0",
                "--lba-range", "64", "--size", "512", "--extended");
        assertThat(r.exit()).isEqualTo(ReflexBench.EXIT_ERRORS);
        assertThat(Long.parseLong(cells(r.out().get(1))[17])).isPositive();
        assertThat(r.err()).contains("request(s) failed");

        Run tolerated = bench("--server", server(), "--mode", "closed", "--qd", "4", "--duration", "0.3", "--warmup", "0",
                "--lba-range", "64", "--size", "512", "--extended", "--max-errors", "1000000000");
        assertThat(tolerated.exit()).isZero();
    }

    @Test
    void wrongTokenIsAClearConnectFailure() {
        server.requireToken("right");
        Run r = bench("--server", server(), "--iops", "100", "--duration", "0.2", "--token", "wrong");
        assertThat(r.exit()).isEqualTo(ReflexBench.EXIT_CONNECT);
        assertThat(r.err()).contains("EAUTH");
    }

    @Test
    void unreachableServerExitsWithAClearMessage() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run r = bench("--server", "127.0.0.1:" + port, "--iops", "100", "--duration", "1");
        assertThat(r.exit()).isEqualTo(ReflexBench.EXIT_CONNECT);
        assertThat(r.err()).contains("cannot connect to 127.0.0.1:" + port);
        assertThat(r.out()).isEmpty();
    }

    @Test
    void badArgumentsAreUsageErrors() {
        for (String[] args : List.of(
                new String[] {"--server", server(), "--iops", "100", "--size", "1000"},
                new String[] {"--server", server(), "--mode", "open"},
                new String[] {"--server", server(), "--iops", "100", "--sweep", "1,2"},
                new String[] {"--server", server(), "--sweep", "5:1:1"},
                new String[] {"--server", "nohostport", "--iops", "100"},
                new String[] {"--server", server(), "--qd", "4", "--poll", "sometimes"},
                new String[] {"--iops", "100"})) {
            Run r = bench(args);
            assertThat(r.exit()).as(Arrays.toString(args)).isEqualTo(2);
        }
        assertThat(server.requests()).isZero();
    }

    @Test
    void helpDocumentsTheSweepSyntaxAndExitCodes() {
        Run r = bench("--help");
        String help = String.join("\n", r.out());
        assertThat(r.exit()).isZero();
        assertThat(help).contains("--sweep", "START:END:STEP", "--lba-range", "2097152", "--poll", "Exit codes");
    }
}

package io.reflex.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --json} output: {@code {"tool", "config": {...}, "rows": [...]}}; latencies in µs. Each row has
 * {@code target_iops, iops, mean_us, p10_us … p99_us, p999_us, max_us, missed, errors, unfinished, reads, writes,
 * requests, uncorrected {mean_us, p50_us, p95_us, p99_us, p999_us, max_us}}.
 */
final class JsonReport {
    private JsonReport() {}

    static Map<String, Object> build(BenchConfig c, List<RowResult> rows) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("servers", c.servers().stream().map(ServerAddress::toString).toList());
        config.put("mode", c.mode().name().toLowerCase());
        config.put("qd", c.mode() == BenchConfig.Mode.CLOSED ? c.qd() : null);
        config.put("target_iops", c.mode() == BenchConfig.Mode.OPEN ? c.rates() : null);
        config.put("read_pct", c.readPct());
        config.put("size_bytes", c.sizeBytes());
        config.put("pattern", c.sequential() ? "seq" : "rand");
        config.put("connections", c.connections());
        config.put("threads", c.threads());
        config.put("lba_range_sectors", c.lbaRange());
        config.put("duration_s", c.durationSeconds());
        config.put("warmup_s", c.warmupSeconds());
        config.put("poll", c.poll().name().toLowerCase());
        config.put("protocol", c.clientOptions().extended() ? "extended" : "legacy");
        config.put("seed", c.seed());
        config.put("transport", c.udp() ? "udp" : "tcp");

        Map<String, Object> root = new LinkedHashMap<>();
        root.put("tool", "reflex-bench");
        root.put("config", config);
        root.put("rows", rows.stream().map(JsonReport::row).toList());
        return root;
    }

    private static Map<String, Object> row(RowResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target_iops", r.targetIops() > 0 ? r.targetIops() : null);
        m.put("iops", r.iops());
        m.put("requests", r.latency().count());
        m.put("reads", r.reads());
        m.put("writes", r.writes());
        latency(m, r.latency(), true);
        m.put("missed", r.missed());
        m.put("errors", r.errors());
        m.put("unfinished", r.unfinished());
        Map<String, Object> u = new LinkedHashMap<>();
        latency(u, r.uncorrected(), false);
        m.put("uncorrected", u);
        return m;
    }

    private static void latency(Map<String, Object> m, LatencySummary l, boolean all) {
        m.put("mean_us", l.meanUs());
        double[] p = LatencySummary.PERCENTILES;
        for (int i = 0; i < p.length; i++) {
            if (!all && p[i] != 50 && p[i] < 95) continue;
            String name = p[i] == 99.9 ? "p999_us" : "p" + (int) p[i] + "_us";
            m.put(name, l.percentilesUs()[i]);
        }
        m.put("max_us", l.maxUs());
    }

    static void write(Path file, BenchConfig c, List<RowResult> rows) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), build(c, rows));
    }
}

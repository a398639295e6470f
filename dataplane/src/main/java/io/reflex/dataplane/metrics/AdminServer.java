package io.reflex.dataplane.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.tenant.SloTableException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The dataplane's admin HTTP endpoint (JDK server, off the hot path):
 * {@code GET /metrics} (Prometheus), {@code GET /health/live}, {@code GET /health/ready}, {@code GET /tenants}
 * (what is served and why anything was rejected), {@code POST /reload} (re-read the SLO table; the admission result
 * is the response body, 422 when a tenant was rejected or the table is invalid).
 */
public final class AdminServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final Dataplane dataplane;

    public AdminServer(Dataplane dataplane, InetSocketAddress address) {
        this.dataplane = dataplane;
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the admin endpoint on " + address + ": " + e.getMessage(), e);
        }
        server.setExecutor(Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon(true).name("reflex-admin").unstarted(r)));
        server.createContext("/metrics", ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", dataplane.metrics().scrape()));
        server.createContext("/health/live", ex -> send(ex, 200, "application/json", "{\"status\":\"UP\"}"));
        server.createContext("/health/ready", this::ready);
        server.createContext("/tenants", ex -> send(ex, 200, "application/json", json(tenants())));
        server.createContext("/reload", this::reload);
        server.start();
    }

    public InetSocketAddress address() { return server.getAddress(); }

    private void ready(HttpExchange ex) throws IOException {
        boolean up = dataplane.netLoops().length > 0 && java.util.Arrays.stream(dataplane.netLoops()).allMatch(l -> l.isRunning());
        send(ex, up ? 200 : 503, "application/json", "{\"status\":\"" + (up ? "UP" : "DOWN") + "\"}");
    }

    private void reload(HttpExchange ex) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            send(ex, 405, "text/plain", "use POST\n");
            return;
        }
        try {
            Dataplane.ApplyResult r = dataplane.reload();
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("added", r.added());
            body.put("updated", r.updated());
            body.put("removed", r.removed());
            body.put("rejected", r.rejected().stream().map(x -> Map.of("tenant", x.spec().name(), "reason", x.reason())).toList());
            send(ex, r.allAdmitted() ? 200 : 422, "application/json", json(body));
        } catch (SloTableException | IllegalStateException e) {
            send(ex, 422, "application/json", json(Map.of("error", e.getMessage())));
        }
    }

    private List<Map<String, Object>> tenants() {
        return dataplane.tenants().stream().map(s -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.spec().name());
            m.put("port", s.spec().port());
            m.put("class", s.spec().tenantClass().name());
            m.put("iops", s.spec().iops());
            m.put("readPercent", s.spec().readPercent());
            m.put("p95Micros", s.spec().p95Micros());
            m.put("lbaBase", s.spec().lbaBase());
            m.put("lbaCount", s.spec().lbaCount());
            m.put("tokensPerSec", Double.isInfinite(s.tokensPerSec()) ? "unlimited" : s.tokensPerSec());
            m.put("connections", dataplane.connectionCount(s.spec().name()));
            if (!s.note().isEmpty()) m.put("note", s.note());
            return m;
        }).toList();
    }

    private static String json(Object o) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, b.length);
        try (var out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

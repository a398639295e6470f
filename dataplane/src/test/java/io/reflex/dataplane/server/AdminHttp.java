package io.reflex.dataplane.server;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** A test's client of the dataplane's admin endpoint ({@link io.reflex.dataplane.metrics.AdminServer}) on 127.0.0.1. */
public final class AdminHttp {
    private final HttpClient http = HttpClient.newHttpClient();
    private final InetSocketAddress address;

    public AdminHttp(InetSocketAddress address) {
        this.address = address;
    }

    public HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + address.getPort() + path);
    }
}

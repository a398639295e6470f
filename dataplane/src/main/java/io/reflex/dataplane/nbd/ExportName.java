package io.reflex.dataplane.nbd;

/**
 * How an NBD export name selects a tenant: {@code tenant} for tenants without a token, {@code tenant:TOKEN}
 * otherwise (tenant names never contain ':'; the token is everything after the first ':'). The empty name (the
 * NBD "default export") means the tenant named {@code default}. In a URI: {@code nbd://host:10809/tenant:TOKEN}
 * (characters outside RFC 3986 pchar in the token, e.g. '/', '?', '#', '%', must be percent-encoded).
 */
public record ExportName(String tenant, String token) {
    public static final String DEFAULT = "default";

    public static ExportName parse(String name) {
        if (name.isEmpty()) return new ExportName(DEFAULT, null);
        int colon = name.indexOf(':');
        if (colon < 0) return new ExportName(name, null);
        return new ExportName(name.substring(0, colon), name.substring(colon + 1));
    }
}

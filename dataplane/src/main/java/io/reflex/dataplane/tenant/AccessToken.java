package io.reflex.dataplane.tenant;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A tenant's access token as the dataplane keeps it: only its SHA-256. A table may give the token itself or, so that
 * whoever writes the table never needs the secret (the node agent reads it from the FlashTenant's status, not from
 * the tenant's Secret), {@code sha256:<64 hex digits>}. Clients always send the token itself; the comparison of
 * digests is constant-time and independent of the length of what was sent.
 */
public final class AccessToken {
    public static final String DIGEST_PREFIX = "sha256:";
    private static final int DIGEST_BYTES = 32;

    private AccessToken() {}

    /** Why a table's token value is unusable, or null. */
    public static String problem(String token) {
        if (token == null) return null;
        if (token.startsWith(DIGEST_PREFIX)) {
            String hex = token.substring(DIGEST_PREFIX.length());
            return hex.matches("[0-9a-fA-F]{64}") ? null : "token sha256:... must be 64 hex digits (the SHA-256 of the token)";
        }
        return token.isEmpty() || token.getBytes(StandardCharsets.UTF_8).length > 256 ? "token must be 1–256 bytes" : null;
    }

    /** The digest a table's token value stands for (the value is valid: see {@link #problem}). */
    public static byte[] digest(String token) {
        if (token.startsWith(DIGEST_PREFIX)) return HexFormat.of().parseHex(token.substring(DIGEST_PREFIX.length()));
        return sha256().digest(token.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code sha256:<hex>} of a token: what a table may carry instead of the token. */
    public static String digestValue(String token) {
        return DIGEST_PREFIX + HexFormat.of().formatHex(sha256().digest(token.getBytes(StandardCharsets.UTF_8)));
    }

    /** Does {@code given} hash to {@code digest}? Constant time in the digest; {@code sha} is the caller's (reused). */
    public static boolean matches(MessageDigest sha, byte[] given, byte[] digest) {
        sha.reset();
        byte[] d = sha.digest(given);
        return d.length == DIGEST_BYTES && MessageDigest.isEqual(d, digest);
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}

package io.reflex.dataplane.server;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.tenant.AccessToken;
import io.reflex.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokens given as their SHA-256 (what the node agent passes: it never reads the tenant's Secret), and a token rotated
 * by a new table: connections that were already let in stay, new ones need the new token.
 */
class TokenRotationTest {
    private Dataplane dp;
    private int port;

    @BeforeEach
    void start() {
        dp = TestServer.start(TestServer.memory(64L << 20, 1, "null", null));
        port = TestServer.freePort();
        apply(AccessToken.digestValue("first-token"));
    }

    @AfterEach
    void stop() {
        dp.close();
    }

    private void apply(String token) {
        var r = dp.apply(TestServer.table("""
                tenants:
                  - {name: t, port: %d, class: BE, lbaBase: 0, lbaCount: 2048, token: "%s"}
                """.formatted(port, token), dp.deviceSectors()));
        assertThat(r.allAdmitted()).isTrue();
    }

    @Test
    void aTableWithTheTokensDigestAdmitsTheTokenAndRefusesAnythingElse() throws Exception {
        try (RawClient c = new RawClient(port)) {
            c.hello(AccessToken.digestValue("first-token")); // the digest itself is not the token
            assertThat(c.read().status()).isEqualTo(Status.EAUTH);
        }
        try (RawClient c = new RawClient(port)) {
            c.hello("first-token");
            assertThat(c.read().status()).isEqualTo(Status.OK);
        }
    }

    @Test
    void aRotatedTokenKeepsAuthorisedConnectionsAndGatesNewOnes() throws Exception {
        try (RawClient old = new RawClient(port)) {
            old.hello("first-token");
            assertThat(old.read().status()).isEqualTo(Status.OK);

            apply(AccessToken.digestValue("second-token"));

            old.get(1, 0, 1);
            assertThat(old.read().status()).isEqualTo(Status.OK); // the authorised connection is still served
            try (RawClient stale = new RawClient(port)) {
                stale.hello("first-token");
                assertThat(stale.read().status()).isEqualTo(Status.EAUTH);
            }
            try (RawClient fresh = new RawClient(port)) {
                fresh.hello("second-token");
                assertThat(fresh.read().status()).isEqualTo(Status.OK);
            }
        }
    }

    @Test
    void aMalformedDigestIsRefusedWithTheReason() {
        var table = "tenants: [{name: t, port: %d, class: BE, lbaCount: 2048, token: \"sha256:abc\"}]".formatted(port);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dp.apply(TestServer.table(table, dp.deviceSectors())))
                .hasMessageContaining("64 hex digits");
    }
}

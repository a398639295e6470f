package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.Status;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A tenant with a token serves a client socket only after its HELLO carried the token (PROTOCOL.md, UDP transport). */
class UdpTokenTest {
    @Test
    void aTokenTenantAnswersEauthUntilHello() throws Exception {
        Path table = Files.createTempFile("rfxdp-token", ".yaml");
        Files.writeString(table, """
                tenants:
                  - {name: secret, port: 5000, class: BE, lbaBase: 0, lbaCount: 65536, token: s3cret}
                  - {name: open, port: 5001, class: BE, lbaBase: 65536, lbaCount: 65536}
                """);
        try (RingRig rig = new RingRig(0, "memory", null, table)) {
            assertThat(rig.call(Opcode.GET, 1, 0, 8, null).status()).isEqualTo(Status.EAUTH);
            byte[] wrong = "guess".getBytes(StandardCharsets.UTF_8);
            RingRig.Reply hello = rig.call(Opcode.HELLO, 2, Opcode.PROTOCOL_VERSION, wrong.length, wrong);
            assertThat(hello.status()).isEqualTo(Status.EAUTH);
            assertThat(rig.call(Opcode.GET, 3, 0, 8, null).status()).isEqualTo(Status.EAUTH);
            byte[] token = "s3cret".getBytes(StandardCharsets.UTF_8);
            assertThat(rig.call(Opcode.HELLO, 4, Opcode.PROTOCOL_VERSION, token.length, token).status()).isEqualTo(Status.OK);
            assertThat(rig.call(Opcode.GET, 5, 0, 8, null).status()).isEqualTo(Status.OK);
            // the other tenant has no token: served without HELLO
            rig.sendRequest(Opcode.GET, 6, 0, 8, null, 5001, null);
            assertThat(rig.receiveReply().status()).isEqualTo(Status.OK);
            assertThat(rig.server.count(Count.HELLOS)).isEqualTo(2);
        }
    }
}

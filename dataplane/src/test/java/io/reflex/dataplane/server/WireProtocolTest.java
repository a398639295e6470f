package io.reflex.dataplane.server;

import io.reflex.dataplane.Dataplane;
import io.reflex.protocol.Opcode;
import io.reflex.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The wire protocol end to end against a real dataplane (memory engine), with raw frames as old clients send them. */
class WireProtocolTest {
    private static final long DEVICE = 64L << 20;
    private Dataplane dp;
    private int portA, portB, portT;

    @BeforeEach
    void start() {
        dp = TestServer.start(TestServer.memory(DEVICE, 2, "null", null));
        portA = TestServer.freePort();
        portB = TestServer.freePort();
        portT = TestServer.freePort();
        var r = dp.apply(TestServer.table("""
                tenants:
                  - {name: a, port: %d, class: BE, lbaBase: 0, lbaCount: 2048}
                  - {name: b, port: %d, class: BE, lbaBase: 2048, lbaCount: 2048}
                  - {name: t, port: %d, class: BE, lbaBase: 4096, lbaCount: 2048, token: s3cret}
                """.formatted(portA, portB, portT), dp.deviceSectors()));
        assertThat(r.allAdmitted()).isTrue();
    }

    @AfterEach
    void stop() {
        dp.close();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void legacySetThenGetRoundTripsAndEchoesTheHeader() throws Exception {
        try (RawClient c = new RawClient(portA)) {
            byte[] data = random(8192, 1);
            c.set(0x1122334455667788L, 100, data);
            var ack = c.read();
            assertThat(ack.magic()).isEqualTo(24);
            assertThat(ack.opcode()).isEqualTo(Opcode.SET);
            assertThat(ack.handle()).isEqualTo(0x1122334455667788L);
            assertThat(ack.lba()).isEqualTo(100);
            assertThat(ack.lbaCount()).isZero();
            c.get(42, 100, 16);
            var r = c.read();
            assertThat(r.opcode()).isEqualTo(Opcode.GET);
            assertThat(r.handle()).isEqualTo(42);
            assertThat(r.lba()).isEqualTo(100);
            assertThat(r.lbaCount()).isEqualTo(16);
            assertThat(r.data()).isEqualTo(data);
        }
    }

    @Test
    void pipelinedRequestsAreAllAnsweredAndMatchedByHandle() throws Exception {
        try (RawClient c = new RawClient(portA)) {
            Map<Long, byte[]> written = new HashMap<>();
            for (long i = 0; i < 200; i++) {
                byte[] d = random(512, i);
                written.put(i, d);
                c.set(i, i * 2, d);
            }
            for (int i = 0; i < 200; i++) assertThat(written).containsKey(c.read().handle());
            for (long i = 0; i < 200; i++) c.get(1000 + i, i * 2, 1);
            for (int i = 0; i < 200; i++) {
                var r = c.read();
                assertThat(r.data()).isEqualTo(written.get(r.handle() - 1000));
            }
        }
    }

    @Test
    void tenantsSeeOnlyTheirOwnLbaSpace() throws Exception {
        try (RawClient a = new RawClient(portA); RawClient b = new RawClient(portB)) {
            byte[] da = random(512, 7), db = random(512, 8);
            a.set(1, 0, da);
            a.read();
            b.set(1, 0, db);
            b.read();
            a.get(2, 0, 1);
            assertThat(a.read().data()).isEqualTo(da);
            b.get(2, 0, 1);
            assertThat(b.read().data()).isEqualTo(db);
        }
    }

    @Test
    void legacyOutOfRangeClosesTheConnectionAndWritesNothing() throws Exception {
        try (RawClient b = new RawClient(portB)) {
            b.set(1, 0, random(512, 3));
            b.read();
        }
        try (RawClient a = new RawClient(portA)) {
            a.set(9, 2047, random(1024, 4)); // last sector + one past the end
            assertThat(a.closedByServer()).isTrue();
        }
        try (RawClient b = new RawClient(portB)) {
            b.get(1, 0, 1);
            assertThat(b.read().data()).isEqualTo(random(512, 3)); // the neighbour's first sector is intact
        }
    }

    @Test
    void malformedFramesCloseOnlyThatConnection() throws Exception {
        long huge = 0xFFFF_FFFF_FFFF_FFF0L;
        Object[][] bad = {
                {99, Opcode.GET, 0L, 1L},               // wrong magic
                {24, 7, 0L, 1L},                        // unknown opcode
                {24, Opcode.SET_NO_ACK, 0L, 1L},        // defined but never served
                {24, Opcode.GET, 0L, 0L},               // zero length
                {24, Opcode.GET, 0L, 2049L},            // over 1 MiB
                {24, Opcode.GET, huge, 32L},            // lba overflow
                {24, Opcode.FLUSH, 0L, 0L},             // extension opcode without HELLO
        };
        try (RawClient other = new RawClient(portB)) {
            for (Object[] f : bad) {
                try (RawClient c = new RawClient(portA)) {
                    c.send(RawClient.frame((int) f[0], (int) f[1], 5, (long) f[2], (long) f[3], null));
                    assertThat(c.closedByServer()).as("frame %s", java.util.Arrays.toString(f)).isTrue();
                }
            }
            other.get(1, 0, 1); // another tenant's connection was never disturbed
            assertThat(other.read().handle()).isEqualTo(1);
        }
    }

    @Test
    void truncatedFrameWaitsAndDisconnectDoesNotHurtOthers() throws Exception {
        try (RawClient c = new RawClient(portA)) {
            var f = RawClient.frame(24, Opcode.SET, 1, 0, 8, random(4096, 1));
            f.limit(24 + 1000);
            while (f.hasRemaining()) c.ch.write(f);
        }
        try (RawClient c = new RawClient(portA)) {
            c.get(3, 0, 8);
            assertThat(c.read().handle()).isEqualTo(3);
        }
    }

    @Test
    void extendedClientsGetStatusesAndKeepTheConnectionOnRangeErrors() throws Exception {
        try (RawClient c = new RawClient(portA)) {
            c.hello(null);
            var hello = c.read();
            assertThat(hello.opcode()).isEqualTo(Opcode.HELLO);
            assertThat(hello.status()).isEqualTo(Status.OK);
            c.set(1, 2047, random(1024, 1));
            var r = c.read();
            assertThat(r.status()).isEqualTo(Status.ERANGE);
            c.get(2, 5000, 1);
            assertThat(c.read().status()).isEqualTo(Status.ERANGE);
            byte[] d = random(512, 2);
            c.set(3, 1, d);
            assertThat(c.read().status()).isEqualTo(Status.OK);
            c.get(4, 1, 1);
            var g = c.read();
            assertThat(g.status()).isEqualTo(Status.OK);
            assertThat(g.data()).isEqualTo(d);
            c.send(RawClient.frame(24, Opcode.FLUSH, 5, 0, 0, null));
            assertThat(c.read().status()).isEqualTo(Status.OK);
            c.send(RawClient.frame(24, 99, 6, 0, 1, null));
            var bad = c.read();
            assertThat(bad.status()).isEqualTo(Status.EINVAL);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void tokenProtectedTenantRefusesWrongTokenAndLegacyClients() throws Exception {
        try (RawClient c = new RawClient(portT)) {
            c.hello("wrong");
            assertThat(c.read().status()).isEqualTo(Status.EAUTH);
            assertThat(c.closedByServer()).isTrue();
        }
        try (RawClient c = new RawClient(portT)) {
            c.get(1, 0, 1);
            assertThat(c.closedByServer()).isTrue();
        }
        try (RawClient c = new RawClient(portT)) {
            c.hello("s3cret");
            assertThat(c.read().status()).isEqualTo(Status.OK);
            c.get(1, 0, 1);
            assertThat(c.read().status()).isEqualTo(Status.OK);
        }
    }

    @Test
    void aClientThatStopsReadingDoesNotStallOthers() throws Exception {
        try (RawClient hog = new RawClient(portA); RawClient other = new RawClient(portB)) {
            hog.ch.socket().setReceiveBufferSize(4096);
            // ~40 MiB of GET replies that the hog never reads.
            for (int i = 0; i < 20_000; i++) {
                var f = RawClient.frame(24, Opcode.GET, i, 0, 4, null);
                f.rewind();
                hog.ch.configureBlocking(false);
                if (hog.ch.write(f) == 0) break;
            }
            for (int i = 0; i < 100; i++) {
                other.get(i, 0, 1);
                assertThat(other.read().handle()).isEqualTo(i);
            }
        }
    }

    @Test
    void reloadAddsAndRemovesTenantsWithoutDroppingOthers() throws Exception {
        try (RawClient a = new RawClient(portA)) {
            a.get(1, 0, 1);
            a.read();
            int portC = TestServer.freePort();
            var r = dp.apply(TestServer.table("""
                    tenants:
                      - {name: a, port: %d, class: BE, lbaBase: 0, lbaCount: 2048}
                      - {name: c, port: %d, class: BE, lbaBase: 8192, lbaCount: 2048}
                    """.formatted(portA, portC), dp.deviceSectors()));
            assertThat(r.added()).containsExactly("c");
            assertThat(r.removed()).containsExactlyInAnyOrder("b", "t");
            a.get(2, 0, 1);
            assertThat(a.read().handle()).isEqualTo(2); // same connection still served
            try (RawClient c = new RawClient(portC)) {
                c.get(1, 0, 1);
                assertThat(c.read().lbaCount()).isEqualTo(1);
            }
            assertThatThrownBy(() -> new RawClient(portB)).isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void removingATenantClosesItsConnections() throws Exception {
        try (RawClient b = new RawClient(portB)) {
            b.get(1, 0, 1);
            b.read();
            dp.apply(TestServer.table("tenants: [{name: a, port: %d, class: BE, lbaCount: 2048}]".formatted(portA), dp.deviceSectors()));
            assertThatThrownBy(() -> {
                b.get(2, 0, 1);
                b.read();
            }).isInstanceOf(java.io.IOException.class);
        }
    }
}

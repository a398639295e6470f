package io.reflex.dataplane.nbd;

import io.reflex.dataplane.Dataplane;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The NBD front-end with a raw-socket client: handshake options, commands, errors, and malformed input. */
class NbdSessionProtocolTest {
    private static final int MIB = 1 << 20;
    private Dataplane dp;
    private int port;

    @BeforeEach
    void start() {
        dp = NbdTestSupport.memory(64L << 20, 2, """
                tenants:
                  - {name: a, port: %PORT%, class: BE, lbaBase: 0, lbaCount: 2048}
                  - {name: b, port: %PORT%, class: BE, lbaBase: 2048, lbaCount: 2048}
                  - {name: t, port: %PORT%, class: BE, lbaBase: 4096, lbaCount: 8192, token: s3cret}
                """);
        port = dp.nbdAddress().getPort();
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

    // ---- handshake ----

    @Test
    void infoReportsSizeFlagsAndBlockSizes() throws Exception {
        try (var c = NbdRawClient.handshake(port)) {
            List<NbdRawClient.OptReply> r = c.go(Nbd.OPT_INFO, "a", Nbd.INFO_BLOCK_SIZE);
            assertThat(r.getLast().type()).isEqualTo(Nbd.REP_ACK);
            ByteBuffer export = ByteBuffer.wrap(r.get(0).data());
            assertThat(r.get(0).type()).isEqualTo(Nbd.REP_INFO);
            assertThat(export.getShort()).isEqualTo((short) Nbd.INFO_EXPORT);
            assertThat(export.getLong()).isEqualTo(2048L * 512);
            int flags = export.getShort() & 0xFFFF;
            assertThat(flags).isEqualTo(Nbd.TFLAG_HAS_FLAGS | Nbd.TFLAG_SEND_FLUSH | Nbd.TFLAG_SEND_FUA | Nbd.TFLAG_SEND_TRIM
                    | Nbd.TFLAG_SEND_WRITE_ZEROES | Nbd.TFLAG_CAN_MULTI_CONN);
            ByteBuffer bs = ByteBuffer.wrap(r.get(1).data());
            assertThat(bs.getShort()).isEqualTo((short) Nbd.INFO_BLOCK_SIZE);
            assertThat(new int[]{bs.getInt(), bs.getInt(), bs.getInt()}).containsExactly(512, 4096, MIB);
            // INFO leaves the client in option haggling: GO to another export still works.
            var go = c.go(Nbd.OPT_GO, "b");
            assertThat(go.getLast().type()).isEqualTo(Nbd.REP_ACK);
            c.read(1, 0, 512);
            assertThat(c.reply(512).error()).isZero();
        }
    }

    @Test
    void listNamesOnlyTenantsWithoutAToken() throws Exception {
        try (var c = NbdRawClient.handshake(port)) {
            c.option(Nbd.OPT_LIST, new byte[0]);
            List<String> names = new java.util.ArrayList<>();
            while (true) {
                var r = c.optReply();
                if (r.type() == Nbd.REP_ACK) break;
                assertThat(r.type()).isEqualTo(Nbd.REP_SERVER);
                ByteBuffer b = ByteBuffer.wrap(r.data());
                byte[] name = new byte[b.getInt()];
                b.get(name);
                names.add(new String(name, StandardCharsets.UTF_8));
            }
            assertThat(names).containsExactlyInAnyOrder("a", "b");
            c.option(Nbd.OPT_LIST, new byte[3]);
            assertThat(c.optReply().type()).isEqualTo(Nbd.REP_ERR_INVALID);
        }
    }

    @Test
    void tokensAreCheckedAndUnknownExportsRefused() throws Exception {
        try (var c = NbdRawClient.handshake(port)) {
            var missing = c.go(Nbd.OPT_GO, "t").getLast();
            assertThat(missing.type()).isEqualTo(Nbd.REP_ERR_POLICY);
            assertThat(missing.message()).contains("requires a token").doesNotContain("s3cret");
            var wrong = c.go(Nbd.OPT_GO, "t:guess").getLast();
            assertThat(wrong.type()).isEqualTo(Nbd.REP_ERR_POLICY);
            assertThat(wrong.message()).contains("wrong token");
            var unknown = c.go(Nbd.OPT_INFO, "nope").getLast();
            assertThat(unknown.type()).isEqualTo(Nbd.REP_ERR_UNKNOWN);
            assertThat(unknown.message()).doesNotContain("\"a\"").contains("nope");
            // still negotiating: the right token gets in
            assertThat(c.go(Nbd.OPT_GO, "t:s3cret").getLast().type()).isEqualTo(Nbd.REP_ACK);
            c.write(1, 0, random(4096, 1));
            assertThat(c.reply(0).error()).isZero();
        }
        try (var c = NbdRawClient.handshake(port)) {
            c.option(Nbd.OPT_EXPORT_NAME, "t:bad".getBytes(StandardCharsets.UTF_8));
            assertThat(c.closedByServer()).as("EXPORT_NAME cannot report errors: the server closes").isTrue();
        }
    }

    @Test
    void unsupportedOptionsAreRefusedAndAbortIsAcknowledged() throws Exception {
        try (var c = NbdRawClient.handshake(port)) {
            for (int opt : new int[]{Nbd.OPT_STRUCTURED_REPLY, Nbd.OPT_STARTTLS, Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT,
                    Nbd.OPT_EXTENDED_HEADERS, 4, 12, 0x7fffffff}) {
                c.option(opt, new byte[0]);
                var r = c.optReply();
                assertThat(r.option()).isEqualTo(opt);
                assertThat(r.type()).as("option %d", opt).isEqualTo(Nbd.REP_ERR_UNSUP);
            }
            c.option(Nbd.OPT_INFO, new byte[]{0, 0, 0, 9, 'a'}); // name length beyond the data
            assertThat(c.optReply().type()).isEqualTo(Nbd.REP_ERR_INVALID);
            c.option(99, new byte[100_000]); // too big: skipped and refused, the stream stays in sync
            assertThat(c.optReply().type()).isEqualTo(Nbd.REP_ERR_TOO_BIG);
            c.option(Nbd.OPT_ABORT, new byte[0]);
            assertThat(c.optReply().type()).isEqualTo(Nbd.REP_ACK);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void exportNameEntersTransmissionWithSizeAndFlags() throws Exception {
        try (var c = new NbdRawClient(port)) {
            c.greeting();
            c.clientFlags(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE); // no NO_ZEROES: 124 zero bytes follow
            c.option(Nbd.OPT_EXPORT_NAME, "b".getBytes(StandardCharsets.UTF_8));
            assertThat(c.in.readLong()).isEqualTo(2048L * 512);
            assertThat(c.in.readUnsignedShort()).isEqualTo(Nbd.TRANSMISSION_FLAGS);
            byte[] zeros = new byte[124];
            c.in.readFully(zeros);
            assertThat(zeros).containsOnly(0);
            c.read(7, 0, 512);
            assertThat(c.reply(512).handle()).isEqualTo(7);
        }
    }

    @Test
    void emptyExportNameIsTheDefaultTenant() throws Exception {
        try (var c = NbdRawClient.handshake(port)) {
            assertThat(c.go(Nbd.OPT_GO, "").getLast().type()).isEqualTo(Nbd.REP_ERR_UNKNOWN); // no tenant "default" here
        }
    }

    @Test
    void malformedHandshakesCloseOnlyThatConnection() throws Exception {
        try (var good = NbdRawClient.open(port, "a")) {
            try (var c = new NbdRawClient(port)) {
                c.greeting();
                c.clientFlags(0x80);
                assertThat(c.closedByServer()).as("unknown client flags").isTrue();
            }
            try (var c = NbdRawClient.handshake(port)) {
                c.out.writeLong(0x1234); // bad option magic
                c.out.writeInt(Nbd.OPT_GO);
                c.out.writeInt(0);
                c.out.flush();
                assertThat(c.closedByServer()).as("bad option magic").isTrue();
            }
            try (var c = NbdRawClient.handshake(port)) {
                c.out.writeLong(Nbd.IHAVEOPT);
                c.out.writeInt(Nbd.OPT_GO);
                c.out.writeInt(1000); // truncated option: waits, then the client leaves
                c.out.write(new byte[10]);
                c.out.flush();
            }
            good.read(1, 0, 4096);
            assertThat(good.reply(4096).error()).isZero();
        }
    }

    // ---- transmission ----

    @Test
    void writeReadRoundTripAndTenantsAreIsolated() throws Exception {
        byte[] data = random(MIB, 42);
        try (var a = NbdRawClient.open(port, "a"); var b = NbdRawClient.open(port, "b")) {
            a.write(1, 0, data);
            var w = a.reply(0);
            assertThat(w.error()).isZero();
            assertThat(w.handle()).isEqualTo(1);
            b.read(2, 0, MIB);
            assertThat(b.reply(MIB).data()).containsOnly(0); // b's LBA 0 is device LBA 2048
            a.read(3, 0, MIB);
            assertThat(a.reply(MIB).data()).isEqualTo(data);
            // pipelined: many small requests, answered by handle
            for (int i = 0; i < 200; i++) a.read(100 + i, (i % 256) * 4096L, 4096);
            java.util.Set<Long> handles = new java.util.HashSet<>();
            for (int i = 0; i < 200; i++) {
                var r = a.reply(4096);
                assertThat(r.error()).isZero();
                int k = (int) (r.handle() - 100) % 256;
                assertThat(r.data()).isEqualTo(Arrays.copyOfRange(data, k * 4096, k * 4096 + 4096));
                handles.add(r.handle());
            }
            assertThat(handles).hasSize(200);
        }
    }

    @Test
    void outOfRangeAndMisalignedRequestsGetErrorsAndTheConnectionStays() throws Exception {
        long size = 2048L * 512;
        try (var a = NbdRawClient.open(port, "a")) {
            a.read(1, size, 512);
            assertThat(a.reply(512).error()).isEqualTo(Nbd.EINVAL);
            a.read(2, size - 512, 1024);
            assertThat(a.reply(1024).error()).isEqualTo(Nbd.EINVAL);
            a.read(3, -512L, 1024); // u64 offset that would wrap
            assertThat(a.reply(1024).error()).isEqualTo(Nbd.EINVAL);
            a.write(4, size - 512, random(4096, 4)); // past the end: payload is consumed and discarded
            assertThat(a.reply(0).error()).isEqualTo(Nbd.ENOSPC);
            a.read(5, 100, 512);
            assertThat(a.reply(512).error()).isEqualTo(Nbd.EINVAL);
            a.write(6, 0, new byte[1000]); // misaligned length, payload skipped
            assertThat(a.reply(0).error()).isEqualTo(Nbd.EINVAL);
            a.read(7, 0, 2 * MIB); // over the 1 MiB maximum
            assertThat(a.reply(0).error()).isEqualTo(Nbd.EINVAL);
            a.write(8, 0, new byte[2 * MIB]); // over the maximum but under 32 MiB: discarded, EINVAL
            assertThat(a.reply(0).error()).isEqualTo(Nbd.EINVAL);
            a.request(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 9, 0, 512, null); // DF never negotiated
            assertThat(a.reply(0).error()).isEqualTo(Nbd.EINVAL);
            a.request(0, Nbd.CMD_BLOCK_STATUS, 10, 0, 512, null);
            assertThat(a.reply(0).error()).isEqualTo(Nbd.EINVAL);
            a.request(0, 0x1234, 11, 0, 0x7fffffff, null); // unknown command with a garbage length: no payload assumed
            assertThat(a.reply(0).error()).isEqualTo(Nbd.EINVAL);
            a.request(0, Nbd.CMD_WRITE_ZEROES, 12, size - 512, 1024, null);
            assertThat(a.reply(0).error()).isEqualTo(Nbd.ENOSPC);
            a.request(0, Nbd.CMD_TRIM, 13, size, 512, null);
            assertThat(a.reply(0).error()).isEqualTo(Nbd.EINVAL);
            a.read(14, 0, 0); // zero length: nothing to do
            assertThat(a.reply(0).error()).isZero();
            // the connection is still good, and nothing outside the export was touched
            a.read(15, size - 512, 512);
            assertThat(a.reply(512).error()).isZero();
        }
        try (var b = NbdRawClient.open(port, "b")) {
            b.read(1, 0, MIB);
            assertThat(b.reply(MIB).data()).as("neighbour untouched").containsOnly(0);
        }
    }

    @Test
    void protocolViolationsInTransmissionCloseOnlyThatConnection() throws Exception {
        try (var good = NbdRawClient.open(port, "b")) {
            try (var c = NbdRawClient.open(port, "a")) {
                c.out.writeInt(0xdeadbeef); // bad request magic
                c.out.write(new byte[24]);
                c.out.flush();
                assertThat(c.closedByServer()).isTrue();
            }
            try (var c = NbdRawClient.open(port, "a")) {
                c.request(0, Nbd.CMD_WRITE, 1, 0, 0x7fff_fe00L, null); // a 2 GiB write is not worth reading
                assertThat(c.closedByServer()).isTrue();
            }
            try (var c = NbdRawClient.open(port, "a")) {
                c.request(0, Nbd.CMD_WRITE, 1, 0, 4096, new byte[100]); // truncated payload, then the client leaves
            }
            good.write(1, 0, random(4096, 9));
            assertThat(good.reply(0).error()).isZero();
        }
    }

    @Test
    void flushFuaTrimAndWriteZeroes() throws Exception {
        byte[] data = random(4 * MIB, 5);
        try (var t = NbdRawClient.open(port, "t:s3cret")) {
            for (int i = 0; i < 4; i++) t.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, i, (long) i * MIB, MIB, Arrays.copyOfRange(data, i * MIB, (i + 1) * MIB));
            for (int i = 0; i < 4; i++) assertThat(t.reply(0).error()).isZero();
            t.request(0, Nbd.CMD_FLUSH, 10, 0, 0, null);
            var f = t.reply(0);
            assertThat(f.error()).isZero();
            assertThat(f.handle()).isEqualTo(10);
            t.request(0, Nbd.CMD_TRIM, 11, 0, 4 * MIB, null);
            assertThat(t.reply(0).error()).isZero();
            t.read(12, 0, 4096);
            assertThat(t.reply(4096).data()).as("TRIM is a no-op: data stays").isEqualTo(Arrays.copyOf(data, 4096));
            // zero 2.5 MiB starting at 512 KiB: spans three chunks of ≤ 1 MiB
            t.request(Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE_ZEROES, 13, MIB / 2, 5L * MIB / 2, null);
            assertThat(t.reply(0).error()).isZero();
            for (int i = 0; i < 4; i++) t.read(20 + i, (long) i * MIB, MIB);
            byte[] all = new byte[4 * MIB];
            for (int i = 0; i < 4; i++) {
                var r = t.reply(MIB);
                System.arraycopy(r.data(), 0, all, (int) (r.handle() - 20) * MIB, MIB);
            }
            byte[] expected = data.clone();
            Arrays.fill(expected, MIB / 2, 3 * MIB, (byte) 0);
            assertThat(all).isEqualTo(expected);
            t.request(Nbd.CMD_FLAG_FAST_ZERO, Nbd.CMD_WRITE_ZEROES, 14, 0, 4096, null); // fast zero not offered
            assertThat(t.reply(0).error()).isEqualTo(Nbd.EINVAL);
        }
    }

    @Test
    void discAnswersWhatIsInFlightThenCloses() throws Exception {
        try (var a = NbdRawClient.open(port, "a")) {
            for (int i = 0; i < 16; i++) a.read(i, i * 4096L, 4096);
            a.request(0, Nbd.CMD_DISC, 99, 0, 0, null);
            for (int i = 0; i < 16; i++) assertThat(a.reply(4096).error()).isZero();
            assertThat(a.closedByServer()).isTrue();
        }
    }

    @Test
    void reloadRemovingATenantClosesItsNbdSessions() throws Exception {
        try (var a = NbdRawClient.open(port, "a"); var b = NbdRawClient.open(port, "b")) {
            int portA = dp.tenants().stream().filter(s -> s.spec().name().equals("a")).findFirst().orElseThrow().spec().port();
            NbdTestSupport.apply(dp, "tenants: [{name: a, port: " + portA + ", class: BE, lbaBase: 0, lbaCount: 2048}]");
            assertThat(b.closedByServer()).isTrue();
            a.read(1, 0, 512);
            assertThat(a.reply(512).error()).isZero();
        }
        try (var c = NbdRawClient.handshake(port)) {
            assertThat(c.go(Nbd.OPT_GO, "b").getLast().type()).isEqualTo(Nbd.REP_ERR_UNKNOWN);
        }
    }
}

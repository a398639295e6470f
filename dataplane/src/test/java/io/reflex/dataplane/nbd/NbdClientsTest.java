package io.reflex.dataplane.nbd;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.storage.Engines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.reflex.dataplane.nbd.NbdTestSupport.assumeTool;
import static io.reflex.dataplane.nbd.NbdTestSupport.run;
import static io.reflex.dataplane.nbd.NbdTestSupport.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unmodified Linux NBD clients (libnbd's nbdinfo and nbdcopy, qemu-img, fio's nbd engine) against a real dataplane:
 * memory engine with three tenants, and io_uring on a file. Skipped only when a tool is not installed.
 */
class NbdClientsTest {
    private static final int MIB = 1 << 20;
    private static Dataplane dp;

    @BeforeAll
    static void start() {
        dp = NbdTestSupport.memory(64L << 20, 2, """
                tenants:
                  - {name: default, port: %PORT%, class: BE, lbaBase: 0, lbaCount: 65536}
                  - {name: sec, port: %PORT%, class: BE, lbaBase: 65536, lbaCount: 32768, token: s3cret}
                  - {name: other, port: %PORT%, class: BE, lbaBase: 98304, lbaCount: 32768}
                """);
    }

    @AfterAll
    static void stop() {
        if (dp != null) dp.close();
    }

    @Test
    void nbdinfoListsTokenlessExportsAndDescribesOne() throws Exception {
        assumeTool("nbdinfo");
        var list = run(30, "nbdinfo", "--list", "nbd://127.0.0.1:" + dp.nbdAddress().getPort());
        assertThat(list.exit()).as(list.out()).isZero();
        assertThat(list.out()).contains("export=\"default\"", "export=\"other\"").doesNotContain("sec", "s3cret");
        var info = run(30, "nbdinfo", uri(dp, "default"));
        assertThat(info.exit()).as(info.out()).isZero();
        assertThat(info.out()).contains("export-size: 33554432", "can_flush: true", "can_fua: true", "can_trim: true",
                "can_zero: true", "can_multi_conn: true", "block_size_minimum: 512", "block_size_preferred: 4096",
                "block_size_maximum: 1048576");
    }

    @Test
    void tokenGoesInTheExportName() throws Exception {
        assumeTool("nbdinfo");
        var ok = run(30, "nbdinfo", "--size", uri(dp, "sec:s3cret"));
        assertThat(ok.exit()).as(ok.out()).isZero();
        assertThat(ok.out().trim()).isEqualTo(String.valueOf(16 * MIB));
        var wrong = run(30, "nbdinfo", "--size", uri(dp, "sec:nope"));
        assertThat(wrong.exit()).isNotZero();
        // libnbd reports the reply type (NBD_REP_ERR_POLICY) without our message; qemu shows it (see below)
        assertThat(wrong.out()).contains("policy").doesNotContain("s3cret");
        var missing = run(30, "nbdinfo", "--size", uri(dp, "sec"));
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.out()).contains("policy");
        var unknown = run(30, "nbdinfo", "--size", uri(dp, "nope"));
        assertThat(unknown.exit()).isNotZero();
    }

    @Test
    void nbdcopyRoundTripsARandomFile() throws Exception {
        assumeTool("nbdcopy");
        Path src = NbdTestSupport.randomFile("nbdcopy-src.bin", 16 * MIB, 1);
        Path back = NbdTestSupport.DIR.resolve("nbdcopy-back.bin");
        var w = run(60, "nbdcopy", src.toString(), uri(dp, "other"));
        assertThat(w.exit()).as(w.out()).isZero();
        Files.deleteIfExists(back);
        var r = run(60, "nbdcopy", uri(dp, "other"), back.toString());
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(Files.size(back)).isEqualTo(16L * MIB);
        assertThat(Files.mismatch(src, back)).isEqualTo(-1);
    }

    @Test
    void qemuImgConvertsToAndFromAnExportWithAToken() throws Exception {
        assumeTool("qemu-img");
        Path src = NbdTestSupport.randomFile("qemu-src.bin", 8 * MIB, 2);
        Path back = NbdTestSupport.DIR.resolve("qemu-back.bin");
        var w = run(60, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", src.toString(), uri(dp, "sec:s3cret"));
        assertThat(w.exit()).as(w.out()).isZero();
        Files.deleteIfExists(back);
        var r = run(60, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri(dp, "sec:s3cret"), back.toString());
        assertThat(r.exit()).as(r.out()).isZero();
        byte[] got = Files.readAllBytes(back);
        assertThat(got.length).isEqualTo(16 * MIB);
        assertThat(Arrays.copyOf(got, 8 * MIB)).isEqualTo(Files.readAllBytes(src));
        var denied = run(30, "qemu-img", "info", uri(dp, "sec:wrong"));
        assertThat(denied.exit()).isNotZero();
        assertThat(denied.out()).contains("wrong token");
    }

    @Test
    void fioNbdEngineVerifiesRandomWrites() throws Exception {
        assumeTool("fio");
        var r = run(120, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri(dp, "default"), "--rw=randwrite", "--bs=4k",
                "--size=16m", "--iodepth=16", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("err= 0").doesNotContain("verify: bad");
    }

    @Test
    void uringFileEngineServesNbdClientsAndFuaWritesReachTheFile() throws Exception {
        assumeTool("qemu-img");
        assumeTool("nbdcopy");
        assumeTrue(Engines.uringAvailable(), "io_uring is not available on this kernel");
        Path device = NbdTestSupport.sparseFile("uring-nbd.img", 32L * MIB);
        Path src = NbdTestSupport.randomFile("uring-src.bin", 8 * MIB, 3);
        // sync writes off: FUA writes (qemu's writethrough cache mode) become write + FLUSH before the reply
        try (Dataplane f = NbdTestSupport.file(device, "uring", false)) {
            var w = run(60, "qemu-img", "convert", "-n", "-t", "writethrough", "-f", "raw", "-O", "raw", src.toString(), uri(f, "default"));
            assertThat(w.exit()).as(w.out()).isZero();
            Path back = NbdTestSupport.DIR.resolve("uring-back.bin");
            Files.deleteIfExists(back);
            var r = run(60, "nbdcopy", uri(f, "default"), back.toString());
            assertThat(r.exit()).as(r.out()).isZero();
            assertThat(Arrays.copyOf(Files.readAllBytes(back), 8 * MIB)).isEqualTo(Files.readAllBytes(src));
            if (Files.isExecutable(Path.of("/usr/bin/fio"))) {
                var v = run(120, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri(f, "default"), "--rw=randwrite", "--bs=4k",
                        "--offset=16m", "--size=8m", "--iodepth=32", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0");
                assertThat(v.exit()).as(v.out()).isZero();
            }
        }
        // what the clients wrote is in the file itself
        byte[] onDisk = Arrays.copyOf(Files.readAllBytes(device), 8 * MIB);
        assertThat(onDisk).isEqualTo(Files.readAllBytes(src));
    }
}

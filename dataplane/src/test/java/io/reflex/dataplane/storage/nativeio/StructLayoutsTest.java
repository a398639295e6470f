package io.reflex.dataplane.storage.nativeio;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Offsets agree with the layouts, with the C compiler's view of the uapi header, and accessors round-trip. */
class StructLayoutsTest {
    @Test
    void offsetConstantsMatchTheLayouts() {
        assertThat(IoUringSqe.LAYOUT.byteSize()).isEqualTo(IoUringSqe.SIZE);
        assertThat(IoUringCqe.LAYOUT.byteSize()).isEqualTo(IoUringCqe.SIZE);
        assertThat(IoUringParams.LAYOUT.byteSize()).isEqualTo(120);
        assertThat(SqRingOffsets.LAYOUT.byteSize()).isEqualTo(40);
        assertThat(CqRingOffsets.LAYOUT.byteSize()).isEqualTo(40);
        assertThat(IoUringGeteventsArg.LAYOUT.byteSize()).isEqualTo(IoUringGeteventsArg.ARG_SIZE);
        assertOffset(IoUringSqe.LAYOUT, "fd", IoUringSqe.FD_OFFSET);
        assertOffset(IoUringSqe.LAYOUT, "off", IoUringSqe.OFF_OFFSET);
        assertOffset(IoUringSqe.LAYOUT, "addr", IoUringSqe.ADDR_OFFSET);
        assertOffset(IoUringSqe.LAYOUT, "len", IoUringSqe.LEN_OFFSET);
        assertOffset(IoUringSqe.LAYOUT, "rw_flags", IoUringSqe.RW_FLAGS_OFFSET);
        assertOffset(IoUringSqe.LAYOUT, "user_data", IoUringSqe.USER_DATA_OFFSET);
        assertOffset(IoUringSqe.LAYOUT, "file_index", IoUringSqe.FILE_INDEX_OFFSET);
        assertOffset(IoUringSqe.LAYOUT, "addr3", IoUringSqe.ADDR3_OFFSET);
        assertOffset(IoUringCqe.LAYOUT, "res", IoUringCqe.RES_OFFSET);
        assertOffset(IoUringCqe.LAYOUT, "flags", IoUringCqe.FLAGS_OFFSET);
        assertOffset(IoUringParams.LAYOUT, "features", IoUringParams.FEATURES_OFFSET);
        assertOffset(IoUringParams.LAYOUT, "sq_off", IoUringParams.SQ_OFF_OFFSET);
        assertOffset(IoUringParams.LAYOUT, "cq_off", IoUringParams.CQ_OFF_OFFSET);
        assertOffset(SqRingOffsets.LAYOUT, "array", SqRingOffsets.ARRAY_OFFSET);
        assertOffset(SqRingOffsets.LAYOUT, "flags", SqRingOffsets.FLAGS_OFFSET);
        assertOffset(CqRingOffsets.LAYOUT, "cqes", CqRingOffsets.CQES_OFFSET);
        assertOffset(IoUringGeteventsArg.LAYOUT, "ts", IoUringGeteventsArg.TS_OFFSET);
    }

    @Test
    void offsetsMatchTheKernelHeaderAsCompiled() throws IOException, InterruptedException {
        Path header = Path.of("/usr/include/linux/io_uring.h");
        assumeTrue(Files.exists(header), "no " + header + " (install linux-libc-dev)");
        Path dir = Files.createDirectories(Path.of("target", "struct-check"));
        Path src = dir.resolve("offsets.c");
        Files.writeString(src, """
                #include <stdio.h>
                #include <stddef.h>
                #include <linux/io_uring.h>
                #define P(s, f) printf(#s "." #f " %zu\\n", offsetof(struct s, f))
                int main(void) {
                  P(io_uring_sqe, fd); P(io_uring_sqe, off); P(io_uring_sqe, addr); P(io_uring_sqe, len);
                  P(io_uring_sqe, rw_flags); P(io_uring_sqe, user_data); P(io_uring_sqe, buf_index);
                  P(io_uring_sqe, personality); P(io_uring_sqe, file_index); P(io_uring_sqe, addr3);
                  P(io_uring_cqe, res); P(io_uring_cqe, flags);
                  P(io_uring_params, features); P(io_uring_params, sq_off); P(io_uring_params, cq_off);
                  P(io_sqring_offsets, array); P(io_sqring_offsets, flags); P(io_cqring_offsets, cqes);
                  P(io_uring_getevents_arg, ts);
                  printf("sizeof.sqe %zu\\nsizeof.cqe %zu\\nsizeof.params %zu\\n", sizeof(struct io_uring_sqe),
                         sizeof(struct io_uring_cqe), sizeof(struct io_uring_params));
                  printf("op.read %d\\nop.write %d\\nop.fsync %d\\n", IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC);
                  return 0;
                }
                """);
        Path exe = dir.resolve("offsets");
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-o", exe.toString(), src.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no C compiler: " + e.getMessage());
            return;
        }
        String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "cc failed: " + ccOut);
        Process run = new ProcessBuilder(exe.toString()).start();
        Map<String, Long> c = new HashMap<>();
        for (String line : new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            String[] kv = line.trim().split(" ");
            c.put(kv[0], Long.parseLong(kv[1]));
        }
        assertThat(c).containsEntry("io_uring_sqe.fd", IoUringSqe.FD_OFFSET)
                .containsEntry("io_uring_sqe.off", IoUringSqe.OFF_OFFSET)
                .containsEntry("io_uring_sqe.addr", IoUringSqe.ADDR_OFFSET)
                .containsEntry("io_uring_sqe.len", IoUringSqe.LEN_OFFSET)
                .containsEntry("io_uring_sqe.rw_flags", IoUringSqe.RW_FLAGS_OFFSET)
                .containsEntry("io_uring_sqe.user_data", IoUringSqe.USER_DATA_OFFSET)
                .containsEntry("io_uring_sqe.buf_index", IoUringSqe.BUF_INDEX_OFFSET)
                .containsEntry("io_uring_sqe.personality", IoUringSqe.PERSONALITY_OFFSET)
                .containsEntry("io_uring_sqe.file_index", IoUringSqe.FILE_INDEX_OFFSET)
                .containsEntry("io_uring_sqe.addr3", IoUringSqe.ADDR3_OFFSET)
                .containsEntry("io_uring_cqe.res", IoUringCqe.RES_OFFSET)
                .containsEntry("io_uring_cqe.flags", IoUringCqe.FLAGS_OFFSET)
                .containsEntry("io_uring_params.features", IoUringParams.FEATURES_OFFSET)
                .containsEntry("io_uring_params.sq_off", IoUringParams.SQ_OFF_OFFSET)
                .containsEntry("io_uring_params.cq_off", IoUringParams.CQ_OFF_OFFSET)
                .containsEntry("io_sqring_offsets.array", SqRingOffsets.ARRAY_OFFSET)
                .containsEntry("io_sqring_offsets.flags", SqRingOffsets.FLAGS_OFFSET)
                .containsEntry("io_cqring_offsets.cqes", CqRingOffsets.CQES_OFFSET)
                .containsEntry("io_uring_getevents_arg.ts", IoUringGeteventsArg.TS_OFFSET)
                .containsEntry("sizeof.sqe", IoUringSqe.SIZE)
                .containsEntry("sizeof.cqe", IoUringCqe.SIZE)
                .containsEntry("sizeof.params", 120L)
                .containsEntry("op.read", (long) IoUringSqe.IORING_OP_READ)
                .containsEntry("op.write", (long) IoUringSqe.IORING_OP_WRITE)
                .containsEntry("op.fsync", (long) IoUringSqe.IORING_OP_FSYNC);
    }

    @Test
    void sqeAccessorsRoundTrip() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sqes = arena.allocate(IoUringSqe.SIZE * 2, 64);
            sqes.fill((byte) 0xFF); // stale garbage the prep must overwrite
            long base = IoUringSqe.SIZE;
            IoUringSqe.prep(sqes, base, IoUringSqe.IORING_OP_WRITE, IoUringSqe.IOSQE_FIXED_FILE, 7, 0x1234_5678_9000L,
                    0xdead_beef_0000L, 65536, IoUringSqe.RWF_DSYNC, 0x0102_0304_0506_0708L);
            assertThat(IoUringSqe.opcode(sqes, base)).isEqualTo(IoUringSqe.IORING_OP_WRITE);
            assertThat(IoUringSqe.flags(sqes, base)).isEqualTo(IoUringSqe.IOSQE_FIXED_FILE);
            assertThat(IoUringSqe.fd(sqes, base)).isEqualTo(7);
            assertThat(IoUringSqe.off(sqes, base)).isEqualTo(0x1234_5678_9000L);
            assertThat(IoUringSqe.addr(sqes, base)).isEqualTo(0xdead_beef_0000L);
            assertThat(IoUringSqe.len(sqes, base)).isEqualTo(65536);
            assertThat(IoUringSqe.rwFlags(sqes, base)).isEqualTo(IoUringSqe.RWF_DSYNC);
            assertThat(IoUringSqe.userData(sqes, base)).isEqualTo(0x0102_0304_0506_0708L);
            assertThat(sqes.asSlice(base + IoUringSqe.BUF_INDEX_OFFSET, 24).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                    .containsOnly((byte) 0);
            assertThat(sqes.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).as("neighbour untouched").isEqualTo((byte) -1);
        }
    }

    @Test
    void cqeParamsAndWaitArgAccessorsRoundTrip() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cqes = arena.allocate(IoUringCqe.SIZE * 2);
            IoUringCqe.set(cqes, 16, 42L, -5, 3);
            assertThat(IoUringCqe.userData(cqes, 16)).isEqualTo(42L);
            assertThat(IoUringCqe.res(cqes, 16)).isEqualTo(-5);
            assertThat(IoUringCqe.flags(cqes, 16)).isEqualTo(3);

            MemorySegment params = arena.allocate(IoUringParams.LAYOUT);
            IoUringParams.flags(params, IoUringParams.IORING_SETUP_SQPOLL);
            IoUringParams.sqThreadIdle(params, 250);
            assertThat(IoUringParams.flags(params)).isEqualTo(IoUringParams.IORING_SETUP_SQPOLL);
            assertThat(IoUringParams.sqThreadIdle(params)).isEqualTo(250);
            assertThat(params.get(java.lang.foreign.ValueLayout.JAVA_INT, IoUringParams.SQ_THREAD_IDLE_OFFSET))
                    .isEqualTo(250);

            MemorySegment arg = arena.allocate(IoUringGeteventsArg.WITH_TIMESPEC);
            IoUringGeteventsArg.init(arg);
            IoUringGeteventsArg.timeout(arg, 2_500_000_001L);
            assertThat(IoUringGeteventsArg.ts(arg)).isEqualTo(arg.address() + IoUringGeteventsArg.TIMESPEC_OFFSET);
            assertThat(IoUringGeteventsArg.tvSec(arg)).isEqualTo(2);
            assertThat(IoUringGeteventsArg.tvNsec(arg)).isEqualTo(500_000_001L);
        }
    }

    @Test
    void ringReportsWhatTheKernelSetUp() {
        assumeTrue(IoUring.isAvailable(), "io_uring is not available on this kernel");
        try (IoUring ring = IoUring.create(5, 0)) {
            assertThat(ring.sqEntries()).isEqualTo(8);
            assertThat(ring.cqEntries()).isEqualTo(16);
            assertThat(ring.cqReady()).isZero();
            assertThat(ring.sqPending()).isZero();
            assertThat(ring.features() & IoUringParams.IORING_FEAT_NODROP).isNotZero();
        }
    }

    @Test
    void errnoIsCapturedFromTheCall() {
        try (Arena arena = Arena.ofConfined()) {
            Errno errno = new Errno(arena);
            assertThat(LibC.close(errno, -1)).isEqualTo(-1);
            assertThat(errno.get()).isEqualTo(Errno.EBADF);
            assertThat(LibC.open(errno, "/nonexistent/reflex", LibC.O_RDONLY)).isEqualTo(-1);
            assertThat(errno.get()).isEqualTo(Errno.ENOENT);
            assertThat(LibC.strerror(Errno.EBUSY)).isEqualTo("Device or resource busy");
        }
    }

    private static void assertOffset(StructLayout layout, String field, long expected) {
        assertThat(layout.byteOffset(groupElement(field))).as(field).isEqualTo(expected);
    }
}

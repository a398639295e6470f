package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reflex.dataplane.storage.nativeio.Errno;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The behaviour every engine promises ({@link StorageEngine}, {@link IoQueue}); one subclass per engine and backing
 * (regular file, loop device, memory). Tests write only below {@link #WRITABLE}, so the last MiB stays never-written.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class StorageEngineContractTest {
    static final long SIZE = 64L << 20;
    static final long WRITABLE = SIZE - (1L << 20);
    static final int MIB = 1 << 20;

    enum Backing { FILE, LOOP, MEMORY }

    protected abstract String engineName();

    protected abstract Backing backing();

    /** Wraps an already opened device in this engine (to force kernel errors with a read-only fd). */
    protected abstract StorageEngine engineOn(NativeDevice device, boolean syncWrites);

    protected Path devicePath;
    private Path backingFile;
    private TestDevices.LoopDevice loop;
    protected StorageEngine engine;
    protected final Random random = new Random(42);

    @BeforeAll
    void createBacking() {
        if (backing() != Backing.MEMORY) {
            backingFile = TestDevices.sparseFile(getClass().getSimpleName() + ".img", SIZE);
            devicePath = backingFile;
        }
        if (backing() == Backing.LOOP) {
            loop = TestDevices.attachLoop(backingFile);
            devicePath = loop.path();
        }
    }

    @AfterAll
    void removeBacking() throws IOException {
        if (loop != null) {
            loop.close();
        }
        if (backingFile != null) {
            Files.deleteIfExists(backingFile);
        }
    }

    @BeforeEach
    void openEngine() {
        engine = open(false);
    }

    @AfterEach
    void closeEngine() {
        engine.close();
    }

    protected StorageEngine open(boolean syncWrites) {
        return Engines.open(engineName(), devicePath, new EngineOptions(syncWrites, backing() == Backing.MEMORY ? SIZE : 0));
    }

    @Test
    void reportsCapacityAndName() {
        assertThat(engine.capacityBytes()).isEqualTo(SIZE);
        assertThat(engine.name()).isEqualTo(engineName());
        try (IoQueue q = engine.openQueue(16)) {
            assertThat(q.depth()).isEqualTo(16);
            assertThat(q.inFlight()).isZero();
        }
    }

    /**
     * A file's access time stays put: with relatime, every read after a write (its mtime moved) would otherwise update
     * it, a journal update inside the submitting syscall, i.e. on the dataplane loop.
     */
    @Test
    void readsOfAFileLeaveItsAccessTimeAlone() throws IOException {
        assumeTrue(backing() == Backing.FILE, "only a regular file has an access time we own");
        FileTime old = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
        Files.setAttribute(devicePath, "lastAccessTime", old); // older than mtime: relatime would update it
        try (IoQueue q = engine.openQueue(2)) {
            MemorySegment buffer = q.allocateBuffer(4096);
            assertThat(q.prepRead(1, 0, buffer, 4096)).isTrue();
            assertThat(Completions.runOne(q, 1)).isEqualTo(4096);
        }
        assertThat(Files.getAttribute(devicePath, "lastAccessTime")).isEqualTo(old);
    }

    @Test
    void roundTripsRandomDataAtManyOffsetsAndSizes() {
        try (IoQueue q = engine.openQueue(4)) {
            MemorySegment out = q.allocateBuffer(MIB);
            MemorySegment in = q.allocateBuffer(MIB);
            List<Integer> sizes = new ArrayList<>(List.of(512, 1024, 4096, 8192, 65536 + 512, 131072, MIB));
            for (int i = 0; i < 24; i++) {
                sizes.add(512 * (1 + random.nextInt(MIB / 512)));
            }
            long ud = 0;
            for (int size : sizes) {
                long offset = 512L * random.nextLong((WRITABLE - size) / 512 + 1);
                fillRandom(out, size);
                assertThat(q.prepWrite(++ud, offset, out, size)).isTrue();
                assertThat(Completions.runOne(q, ud)).as("write %d at %d", size, offset).isEqualTo(size);
                in.fill((byte) 0x5A);
                assertThat(q.prepRead(++ud, offset, in, size)).isTrue();
                assertThat(Completions.runOne(q, ud)).as("read %d at %d", size, offset).isEqualTo(size);
                assertThat(in.asSlice(0, size).mismatch(out.asSlice(0, size))).as("data at %d", offset).isEqualTo(-1);
            }
        }
    }

    /** Buffers the queue did not allocate (so never registered with a kernel) work like its own. */
    @Test
    void acceptsAlignedBuffersFromElsewhere() {
        try (IoQueue q = engine.openQueue(4); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment own = q.allocateBuffer(8192);
            MemorySegment foreign = arena.allocate(8192, 4096);
            writeThenReadBack(q, 4096, foreign, own, 1);
            writeThenReadBack(q, 65536, own, foreign, 3);
        }
    }

    /** Writes {@code from} at {@code offset}, reads it back into {@code to}, and checks the two match. */
    private void writeThenReadBack(IoQueue q, long offset, MemorySegment from, MemorySegment to, long userData) {
        int size = (int) from.byteSize();
        fillRandom(from, size);
        assertThat(q.prepWrite(userData, offset, from, size)).isTrue();
        assertThat(Completions.runOne(q, userData)).isEqualTo(size);
        assertThat(q.prepRead(userData + 1, offset, to, size)).isTrue();
        assertThat(Completions.runOne(q, userData + 1)).isEqualTo(size);
        assertThat(to.mismatch(from)).isEqualTo(-1);
    }

    /**
     * A loop's epoll fd that is readable (a request waiting in a socket) may end device waits early, but never
     * becomes a completion or disturbs the requests in flight; engines that cannot watch it simply ignore it.
     */
    @Test
    void aReadableWakeFdNeverBecomesACompletion() throws IOException {
        try (Selector selector = Selector.open();
             ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             SocketChannel client = SocketChannel.open(server.getLocalAddress());
             SocketChannel accepted = server.accept();
             IoQueue q = engine.openQueue(64)) {
            accepted.configureBlocking(false);
            accepted.register(selector, SelectionKey.OP_READ);
            client.write(ByteBuffer.wrap(new byte[] {1})); // readable from now on: every wait's poll fires at once
            int epfd = io.reflex.dataplane.net.SelectorFd.epollFd(selector);
            assertThat(epfd).as("epoll fd (needs --add-opens java.base/sun.nio.ch)").isNotNegative();
            q.wakeOnReadable(epfd);
            int n = 48, len = 4096;
            MemorySegment out = q.allocateBuffer((long) n * len);
            fillRandom(out, n * len);
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < n; i++) {
                    assertThat(q.prepWrite(i, (long) i * len, out.asSlice((long) i * len, len), len)).isTrue();
                }
                q.submit();
                Completions c = new Completions().drain(q, n);
                assertThat(c.results.keySet()).containsExactlyInAnyOrderElementsOf(
                        java.util.stream.LongStream.range(0, n).boxed().toList());
                assertThat(c.results.values()).containsOnly(len);
                assertThat(q.inFlight()).isZero();
                assertThat(q.reap(c, 1024)).as("nothing left to deliver").isZero();
            }
        }
    }

    @Test
    void keepsABatchOf96RequestsInFlight() {
        int n = 96;
        int len = 4096;
        try (IoQueue q = engine.openQueue(128)) {
            MemorySegment out = q.allocateBuffer((long) n * len);
            MemorySegment in = q.allocateBuffer((long) n * len);
            fillRandom(out, n * len);
            for (int i = 0; i < n; i++) {
                assertThat(q.prepWrite(i, (long) i * 3 * len, out.asSlice((long) i * len, len), len)).isTrue();
            }
            assertThat(q.inFlight()).isEqualTo(n);
            assertThat(q.submit()).isEqualTo(n);
            Completions writes = new Completions().drain(q, n);
            assertThat(writes.results.values()).containsOnly(len);
            assertThat(q.inFlight()).isZero();

            for (int i = 0; i < n; i++) {
                assertThat(q.prepRead(1000 + i, (long) i * 3 * len, in.asSlice((long) i * len, len), len)).isTrue();
            }
            assertThat(q.submit()).isEqualTo(n);
            Completions reads = new Completions().drain(q, n);
            assertThat(reads.results.values()).containsOnly(len);
            assertThat(in.mismatch(out)).isEqualTo(-1);
        }
    }

    @Test
    void refusesRequestsWhenTheQueueIsFull() {
        try (IoQueue q = engine.openQueue(8)) {
            MemorySegment buf = q.allocateBuffer(4096);
            for (int i = 0; i < 8; i++) {
                assertThat(q.prepRead(i, 0, buf, 4096)).isTrue();
            }
            assertThat(q.prepRead(8, 0, buf, 4096)).isFalse();
            assertThat(q.prepWrite(8, 0, buf, 4096)).isFalse();
            assertThat(q.prepFlush(8)).isFalse();
            assertThat(q.inFlight()).isEqualTo(8);
            q.submit();
            new Completions().drain(q, 8);
            assertThat(q.prepRead(9, 0, buf, 4096)).isTrue();
            assertThat(Completions.runOne(q, 9)).isEqualTo(4096);
        }
    }

    @Test
    void flushCompletesWithZeroAfterWrites() {
        try (IoQueue q = engine.openQueue(8)) {
            MemorySegment buf = q.allocateBuffer(8192);
            fillRandom(buf, 8192);
            q.prepWrite(1, 0, buf, 8192);
            assertThat(Completions.runOne(q, 1)).isEqualTo(8192);
            assertThat(q.prepFlush(2)).isTrue();
            assertThat(Completions.runOne(q, 2)).isZero();
        }
    }

    @Test
    void syncWritesRoundTrip() {
        engine.close();
        engine = open(true);
        try (IoQueue q = engine.openQueue(8)) {
            MemorySegment out = q.allocateBuffer(16384);
            MemorySegment in = q.allocateBuffer(16384);
            fillRandom(out, 16384);
            q.prepWrite(1, 1 << 20, out, 16384);
            assertThat(Completions.runOne(q, 1)).isEqualTo(16384);
            q.prepRead(2, 1 << 20, in, 16384);
            assertThat(Completions.runOne(q, 2)).isEqualTo(16384);
            assertThat(in.mismatch(out)).isEqualTo(-1);
        }
    }

    @Test
    void readsNeverWrittenAreasAsZeros() {
        try (IoQueue q = engine.openQueue(4)) {
            MemorySegment in = q.allocateBuffer(MIB);
            in.fill((byte) 0xAB);
            q.prepRead(7, WRITABLE, in, MIB);
            assertThat(Completions.runOne(q, 7)).isEqualTo(MIB);
            assertThat(in.mismatch(MemorySegment.ofArray(new byte[MIB]))).isEqualTo(-1);
        }
    }

    @Test
    void rejectsInvalidRequestsWithNegativeErrno() {
        try (IoQueue q = engine.openQueue(16)) {
            MemorySegment buf = q.allocateBuffer(8192);
            long cap = engine.capacityBytes();
            q.prepRead(1, 100, buf, 4096); // misaligned offset
            q.prepRead(2, 0, buf, 0); // empty
            q.prepWrite(3, 0, buf, 1000); // misaligned length
            q.prepRead(4, 0, MemorySegment.ofArray(new byte[4096]), 4096); // heap buffer
            q.prepRead(5, 0, buf.asSlice(512, 4096), 8192); // buffer too small
            q.prepRead(6, -4096, buf, 4096);
            q.prepRead(7, cap, buf, 4096); // past the end
            q.prepWrite(8, cap - 512, buf, 4096); // straddles the end
            q.prepRead(9, 0, buf.asSlice(100, 4096), 4096); // misaligned buffer
            q.submit();
            Completions c = new Completions().drain(q, 9);
            assertThat(c.results).containsEntry(1L, -Errno.EINVAL).containsEntry(2L, -Errno.EINVAL)
                    .containsEntry(3L, -Errno.EINVAL).containsEntry(4L, -Errno.EINVAL).containsEntry(5L, -Errno.EINVAL)
                    .containsEntry(6L, -Errno.EINVAL).containsEntry(7L, -Errno.ERANGE).containsEntry(8L, -Errno.ERANGE)
                    .containsEntry(9L, -Errno.EINVAL);
            assertThat(q.inFlight()).isZero();
        }
    }

    @Test
    void surfacesKernelErrorsAsNegativeErrno() {
        assumeTrue(backing() != Backing.MEMORY, "the memory engine has no kernel I/O path to fail");
        engine.close(); // a block device is held exclusively: release it before the read-only open
        try (StorageEngine readOnly = engineOn(NativeDevice.open(devicePath, false, true), false);
                IoQueue q = readOnly.openQueue(4)) {
            MemorySegment buf = q.allocateBuffer(4096);
            q.prepWrite(1, 0, buf, 4096);
            int result = Completions.runOne(q, 1);
            assertThat(result).as("write to a read-only fd").isEqualTo(-Errno.EBADF);
            q.prepRead(2, 0, buf, 4096);
            assertThat(Completions.runOne(q, 2)).isEqualTo(4096);
        } finally {
            engine = open(false);
        }
    }

    @Test
    void reportsAShortReadAtEndOfFileAsEio() throws IOException {
        assumeTrue(backing() == Backing.FILE, "needs a regular file that can shrink under the engine");
        Path file = TestDevices.sparseFile(getClass().getSimpleName() + "-shrink.img", MIB);
        try (StorageEngine e = Engines.open(engineName(), file, new EngineOptions(false, 0));
                IoQueue q = e.openQueue(4)) {
            try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(MIB / 2);
            }
            MemorySegment buf = q.allocateBuffer(8192);
            q.prepRead(1, MIB / 2 - 4096, buf, 8192); // first half transfers, the rest hits EOF
            q.prepRead(2, MIB / 2 + 65536, buf, 4096); // wholly past EOF
            q.submit();
            Completions c = new Completions().drain(q, 2);
            assertThat(c.results).containsEntry(1L, -Errno.EIO).containsEntry(2L, -Errno.EIO);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void queuesOnSeveralThreadsWorkIndependently() throws Exception {
        int threads = 3;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long base = (long) t * (8L << 20);
                IoQueue q = engine.openQueue(32); // opened here, used on the pool thread
                done.add(pool.submit(() -> {
                    try (q) {
                        MemorySegment out = q.allocateBuffer(32 * 4096);
                        MemorySegment in = q.allocateBuffer(32 * 4096);
                        fillRandom(out, 32 * 4096);
                        for (int i = 0; i < 32; i++) {
                            q.prepWrite(i, base + i * 4096L, out.asSlice(i * 4096L, 4096), 4096);
                        }
                        q.submit();
                        assertThat(new Completions().drain(q, 32).results.values()).containsOnly(4096);
                        for (int i = 0; i < 32; i++) {
                            q.prepRead(i, base + i * 4096L, in.asSlice(i * 4096L, 4096), 4096);
                        }
                        q.submit();
                        assertThat(new Completions().drain(q, 32).results.values()).containsOnly(4096);
                        assertThat(in.mismatch(out)).isEqualTo(-1);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void awaitCompletionReturnsAtOnceWithNothingInFlight() {
        try (IoQueue q = engine.openQueue(4)) {
            q.awaitCompletion(Long.MAX_VALUE / 2); // must not block: nothing in flight
            assertThat(q.reap(new Completions(), 16)).isZero();
        }
    }

    @Test
    void closeReleasesEverything() throws IOException {
        engine.close();
        long fdsBefore = ourFds();
        long threadsBefore = fileWorkerThreads();
        StorageEngine e = open(false);
        IoQueue q1 = e.openQueue(8);
        IoQueue q2 = e.openQueue(8);
        MemorySegment buf = q1.allocateBuffer(4096);
        q1.prepRead(1, 0, buf, 4096);
        assertThat(Completions.runOne(q1, 1)).isEqualTo(4096);
        q2.prepFlush(2);
        q2.submit(); // left in flight: close must wait for it
        e.close();
        assertThat(buf.scope().isAlive()).as("queue buffers freed").isFalse();
        assertThatThrownBy(() -> q1.prepRead(3, 0, buf, 4096)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> e.openQueue(4)).isInstanceOf(IllegalStateException.class);
        q2.close(); // idempotent
        e.close();
        assertThat(ourFds()).as("device and ring fds closed").isEqualTo(fdsBefore);
        assertThat(fileWorkerThreads()).as("worker threads stopped").isEqualTo(threadsBefore);
        engine = open(false); // a block device can be claimed again (O_EXCL)
    }

    /** Open fds of this process that point at the device or an io_uring instance. */
    private long ourFds() throws IOException {
        String target = devicePath == null ? "\0" : devicePath.toRealPath().toString();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException ex) {
                    return "";
                }
            }).filter(link -> link.equals(target) || link.contains("io_uring")).count();
        }
    }

    private static long fileWorkerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("reflex-file-") && t.isAlive()).count();
    }

    protected final void fillRandom(MemorySegment buf, long bytes) {
        for (long i = 0; i < bytes; i += 8) {
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
    }
}

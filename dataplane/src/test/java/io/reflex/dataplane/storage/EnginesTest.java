package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EnginesTest {
    private static final EngineOptions DEFAULTS = EngineOptions.defaults();

    @Test
    void unknownEngineNameListsTheValidOnes() {
        assertThatThrownBy(() -> Engines.open("spdk2", Path.of("/dev/null"), DEFAULTS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown storage engine 'spdk2'")
                .hasMessageContaining("uring, file, memory, auto");
    }

    @Test
    void missingPathIsNamed() {
        Path missing = TestDevices.DIR.resolve("does-not-exist.img");
        for (String engine : new String[] {"uring", "file", "auto"}) {
            assertThatThrownBy(() -> Engines.open(engine, missing, DEFAULTS))
                    .isInstanceOf(StorageException.class)
                    .hasMessage("device " + missing + " does not exist");
        }
    }

    @Test
    void sizeThatIsNotAMultipleOf512IsRefused() throws IOException {
        Path odd = TestDevices.sparseFile("odd-size.img", 1000);
        try {
            assertThatThrownBy(() -> Engines.open("uring", odd, DEFAULTS))
                    .isInstanceOf(StorageException.class)
                    .hasMessageContaining("(1000 bytes) is not a multiple of 512");
            assertThatThrownBy(() -> Engines.open("memory", odd, DEFAULTS))
                    .isInstanceOf(StorageException.class)
                    .hasMessageContaining("not a positive multiple of 512");
        } finally {
            Files.delete(odd);
        }
    }

    @Test
    void emptyFileIsRefused() throws IOException {
        Path empty = TestDevices.sparseFile("empty.img", 0);
        try {
            assertThatThrownBy(() -> Engines.open("file", empty, DEFAULTS))
                    .isInstanceOf(StorageException.class)
                    .hasMessageContaining("is empty");
        } finally {
            Files.delete(empty);
        }
    }

    @Test
    void filesystemWithoutODirectIsExplained() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && isTmpfs(shm), "/dev/shm is not a tmpfs here");
        Path file = Files.createTempFile(shm, "reflex-", ".img");
        try {
            Files.write(file, new byte[4096]);
            try (StorageEngine e = Engines.open("uring", file, DEFAULTS)) {
                assumeTrue(false, "tmpfs accepts O_DIRECT on this kernel (Linux >= 6.6)");
            } catch (StorageException e) {
                assertThat(e).hasMessageContaining("does not support direct I/O");
            }
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void openErrorsSayWhatToFix() {
        Path p = Path.of("/dev/sdz");
        assertThat(NativeDevice.openError(p, io.reflex.dataplane.storage.nativeio.Errno.EINVAL))
                .hasMessageContaining("filesystem does not support direct I/O (tmpfs? overlayfs?)");
        assertThat(NativeDevice.openError(p, io.reflex.dataplane.storage.nativeio.Errno.EBUSY))
                .hasMessage("device /dev/sdz is in use (mounted or held by the kernel)");
        assertThat(NativeDevice.openError(p, io.reflex.dataplane.storage.nativeio.Errno.EACCES))
                .hasMessage("permission denied opening /dev/sdz read-write");
        assertThat(NativeDevice.openError(p, 6).errno()).isEqualTo(6);
    }

    @Test
    void blockDeviceHeldByAnotherOpenerIsInUse() throws IOException {
        Path file = TestDevices.sparseFile("busy.img", 4 << 20);
        try (TestDevices.LoopDevice loop = TestDevices.attachLoop(file);
                StorageEngine first = Engines.open("uring", loop.path(), DEFAULTS)) {
            assertThat(first.capacityBytes()).isEqualTo(4 << 20);
            assertThatThrownBy(() -> Engines.open("file", loop.path(), DEFAULTS))
                    .isInstanceOf(StorageException.class)
                    .hasMessage("device " + loop.path() + " is in use (mounted or held by the kernel)");
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void autoPicksUringWhereItWorks() throws IOException {
        Path file = TestDevices.sparseFile("auto.img", 1 << 20);
        try (StorageEngine e = Engines.open("auto", file, DEFAULTS)) {
            assertThat(e.name()).isEqualTo(Engines.uringAvailable() ? "uring" : "file");
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void memoryEngineTakesItsCapacityFromOptionsOrThePath() throws IOException {
        try (StorageEngine e = Engines.open("memory", null, new EngineOptions(false, 8 << 20))) {
            assertThat(e.capacityBytes()).isEqualTo(8 << 20);
        }
        Path file = TestDevices.sparseFile("memory-size.img", 3 << 20);
        try (StorageEngine e = Engines.open("memory", file, DEFAULTS)) {
            assertThat(e.capacityBytes()).isEqualTo(3 << 20);
        } finally {
            Files.delete(file);
        }
        assertThatThrownBy(() -> Engines.open("memory", null, DEFAULTS))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("memoryCapacityBytes > 0");
        assertThatThrownBy(() -> new EngineOptions(false, 1000))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void queueDepthIsChecked() {
        try (StorageEngine e = Engines.open("memory", null, new EngineOptions(false, 1 << 20))) {
            assertThatThrownBy(() -> e.openQueue(0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> e.openQueue(1 << 20)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static boolean isTmpfs(Path dir) throws IOException {
        FileStore store = Files.getFileStore(dir);
        return "tmpfs".equals(store.type());
    }
}

package io.reflex.dataplane.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class UringOnFileContractTest extends StorageEngineContractTest {
    /** The queue's own buffers become io_uring fixed buffers, and I/O through them (READ/WRITE_FIXED) is correct. */
    @Test
    void registersItsBuffersWithTheKernel() {
        try (IoQueue q = engine.openQueue(8)) {
            MemorySegment a = q.allocateBuffer(4096);
            MemorySegment b = q.allocateBuffer(1 << 20);
            assertThat(UringEngine.fixedBuffersOf(q)).isEqualTo(2);
            fillRandom(a, 4096);
            assertThat(q.prepWrite(1, 1 << 20, a, 4096)).isTrue();
            assertThat(Completions.runOne(q, 1)).isEqualTo(4096);
            assertThat(q.prepRead(2, 1 << 20, b.asSlice(8192), 4096)).isTrue(); // inside a registered buffer
            assertThat(Completions.runOne(q, 2)).isEqualTo(4096);
            assertThat(b.asSlice(8192, 4096).mismatch(a)).isEqualTo(-1);
        }
    }

    @Override
    protected String engineName() {
        return "uring";
    }

    @Override
    protected Backing backing() {
        return Backing.FILE;
    }

    @Override
    protected StorageEngine engineOn(NativeDevice device, boolean syncWrites) {
        return new UringEngine(device, syncWrites);
    }
}

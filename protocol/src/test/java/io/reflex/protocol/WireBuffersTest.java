package io.reflex.protocol;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

class WireBuffersTest {
    @Test
    void startsOnAPageAndHoldsExactlyWhatWasAsked() {
        for (int bytes : new int[] {24, 4096, 4120, ReflexHeader.LENGTH + ReflexHeader.MAX_BYTES + 65536}) {
            ByteBuffer b = WireBuffers.pageAligned(bytes, ByteOrder.LITTLE_ENDIAN);
            assertThat(b.isDirect()).isTrue();
            assertThat(MemorySegment.ofBuffer(b).address() % 4096).isZero();
            assertThat(b.capacity()).isEqualTo(bytes);
            assertThat(b.position()).isZero();
            assertThat(b.limit()).isEqualTo(bytes);
            assertThat(b.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        }
    }
}

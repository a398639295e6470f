package io.reflex.protocol;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

class ReflexHeaderPropertyTest {
    private static final BigInteger U64 = BigInteger.ONE.shiftLeft(64);

    @Property
    void fieldsRoundTripAtAnyOffsetInLittleEndian(@ForAll @IntRange(min = 0, max = 40) int offset, @ForAll int opcode16,
                                                  @ForAll long handle, @ForAll long lba, @ForAll int count) {
        ByteBuffer b = ByteBuffer.allocate(offset + ReflexHeader.LENGTH + 8).order(ByteOrder.LITTLE_ENDIAN);
        ReflexHeader h = new ReflexHeader().wrap(b, offset);
        h.set(opcode16 & 0xFFFF, handle, lba, Integer.toUnsignedLong(count));
        assertThat(h.magic()).isEqualTo(24);
        assertThat(h.opcode()).isEqualTo(opcode16 & 0xFFFF);
        assertThat(h.handle()).isEqualTo(handle);
        assertThat(h.lba()).isEqualTo(lba);
        assertThat(h.lbaCount()).isEqualTo(Integer.toUnsignedLong(count));
        assertThat(b.position()).isZero();
        // Byte layout as the original's packed x86 struct.
        assertThat(b.get(offset) & 0xFF).isEqualTo(24);
        assertThat(b.get(offset + 1)).isZero();
        assertThat(b.get(offset + 12) & 0xFF).isEqualTo((int) (lba & 0xFF));
        assertThat(b.get(offset + 20) & 0xFF).isEqualTo(count & 0xFF);
    }

    @Property
    void rangeCheckMatchesArbitraryPrecisionArithmetic(@ForAll("u64") long lba, @ForAll("u32") long count,
                                                       @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long sectors) {
        BigInteger end = new BigInteger(Long.toUnsignedString(lba)).add(BigInteger.valueOf(count));
        boolean inside = end.compareTo(BigInteger.valueOf(sectors)) <= 0
                && new BigInteger(Long.toUnsignedString(lba)).compareTo(BigInteger.valueOf(sectors)) < 0;
        assertThat(RequestCheck.range(lba, count, sectors) == Status.OK).isEqualTo(inside);
        assertThat(end.compareTo(U64.add(U64))).isNegative();
    }

    @Property
    void frameAcceptsExactlyTheServedShapes(@ForAll int magic16, @ForAll int opcode16, @ForAll("u32") long count) {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        ReflexHeader h = new ReflexHeader().wrap(b, 0).magic(magic16 & 0xFFFF).opcode(opcode16 & 0xFFFF).lbaCount(count);
        int magic = magic16 & 0xFFFF, op = opcode16 & 0xFFFF;
        boolean ok = magic == 24 && switch (op) {
            case Opcode.GET, Opcode.SET -> count >= 1 && count <= 2048;
            case Opcode.HELLO -> count <= Opcode.MAX_TOKEN_BYTES;
            case Opcode.FLUSH -> count == 0;
            default -> false;
        };
        assertThat(RequestCheck.frame(h) == Status.OK).isEqualTo(ok);
    }

    @Provide
    Arbitrary<Long> u64() {
        return Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(0, 1 << 24),
                Arbitraries.of(0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, -2048L));
    }

    @Provide
    Arbitrary<Long> u32() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0, 0xFFFF_FFFFL), Arbitraries.longs().between(0, 4096),
                Arbitraries.of(0L, 1L, 2048L, 2049L, 0xFFFF_FFFFL));
    }
}

package io.reflex.dataplane.nbd;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Properties of the NBD request parser: header codec and the serve/refuse/close decision. */
class NbdRequestCheckProperties {
    private static final BigInteger U64 = BigInteger.ONE.shiftLeft(64);

    record Header(int magic, int flags, int type, long handle, long offset, long length) {}

    @Provide
    Arbitrary<Header> headers() {
        Arbitrary<Integer> magic = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(9, Arbitraries.just(Nbd.REQUEST_MAGIC)), net.jqwik.api.Tuple.of(1, Arbitraries.integers()));
        Arbitrary<Integer> flags = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of(0, Nbd.CMD_FLAG_FUA, Nbd.CMD_FLAG_NO_HOLE)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 0xFFFF)));
        Arbitrary<Integer> type = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(9, Arbitraries.integers().between(0, 8)), net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 0xFFFF)));
        Arbitrary<Long> sectors = Arbitraries.longs().between(0, 1L << 22);
        Arbitrary<Long> offset = Arbitraries.oneOf(sectors.map(s -> s * 512), Arbitraries.longs(), Arbitraries.longs().between(0, 1L << 31));
        Arbitrary<Long> length = Arbitraries.oneOf(Arbitraries.integers().between(0, 4096).map(s -> s * 512L),
                Arbitraries.longs().between(0, 0xFFFF_FFFFL));
        return Combinators.combine(magic, flags, type, Arbitraries.longs(), offset, length).as(Header::new);
    }

    @Property(tries = 3000)
    void verdictIsCloseOkOrAKnownErrno(@ForAll("headers") Header h, @ForAll @LongRange(min = 0, max = 1L << 24) long exportSectors) {
        long size = exportSectors * 512;
        int v = NbdRequestCheck.check(h.magic(), h.flags(), h.type(), h.offset(), h.length(), size);
        assertThat(v).isIn(NbdRequestCheck.CLOSE, NbdRequestCheck.OK, Nbd.EINVAL, Nbd.ENOSPC);
        if (h.magic() != Nbd.REQUEST_MAGIC) assertThat(v).isEqualTo(NbdRequestCheck.CLOSE);
        if (v == NbdRequestCheck.CLOSE) {
            assertThat(h.magic() != Nbd.REQUEST_MAGIC || h.type() == Nbd.CMD_WRITE && h.length() > Nbd.MAX_DISCARDED_PAYLOAD).isTrue();
        }
    }

    /** Whatever is served never reaches outside the export, and READ/WRITE are aligned and at most 1 MiB. */
    @Property(tries = 3000)
    void servedRequestsStayInsideTheExport(@ForAll("headers") Header h, @ForAll @LongRange(min = 0, max = 1L << 24) long exportSectors) {
        long size = exportSectors * 512;
        int v = NbdRequestCheck.check(h.magic(), h.flags(), h.type(), h.offset(), h.length(), size);
        if (v != NbdRequestCheck.OK) return;
        assertThat(h.flags() & ~(Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE)).isZero();
        assertThat(h.type()).isIn(Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_FLUSH, Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES, Nbd.CMD_DISC);
        if (h.type() == Nbd.CMD_FLUSH || h.type() == Nbd.CMD_DISC) return;
        BigInteger end = new BigInteger(Long.toUnsignedString(h.offset())).add(BigInteger.valueOf(h.length()));
        assertThat(end).isLessThanOrEqualTo(BigInteger.valueOf(size));
        assertThat(h.offset() % 512).isZero();
        assertThat(h.length() % 512).isZero();
        if (h.type() == Nbd.CMD_READ || h.type() == Nbd.CMD_WRITE) assertThat(h.length()).isLessThanOrEqualTo(Nbd.MAX_BLOCK);
    }

    /** Every well-formed in-range request is served. */
    @Property(tries = 2000)
    void wellFormedRequestsAreServed(@ForAll @IntRange(min = 0, max = 4) int typeIndex, @ForAll @LongRange(min = 1, max = 1L << 24) long exportSectors,
                                     @ForAll @LongRange(min = 0, max = 1L << 24) long startSector, @ForAll @IntRange(min = 0, max = 2048) int sectors,
                                     @ForAll boolean fua) {
        int type = new int[]{Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES, Nbd.CMD_FLUSH}[typeIndex];
        long start = startSector % exportSectors;
        long count = Math.min(sectors, exportSectors - start);
        int v = NbdRequestCheck.check(Nbd.REQUEST_MAGIC, fua ? Nbd.CMD_FLAG_FUA : 0, type, start * 512, count * 512, exportSectors * 512);
        assertThat(v).isEqualTo(NbdRequestCheck.OK);
    }

    /** Out of range: writes get ENOSPC, everything else EINVAL; never served, never a closed connection. */
    @Property(tries = 2000)
    void outOfRangeIsAnErrorReply(@ForAll @IntRange(min = 0, max = 3) int typeIndex, @ForAll @LongRange(min = 0, max = 1L << 24) long exportSectors,
                                  @ForAll @LongRange(min = 1, max = 1L << 30) long beyond, @ForAll @IntRange(min = 1, max = 2048) int sectors) {
        int type = new int[]{Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES}[typeIndex];
        long start = exportSectors - sectors + beyond; // end = exportSectors + beyond > exportSectors
        if (start < 0) return;
        int v = NbdRequestCheck.check(Nbd.REQUEST_MAGIC, 0, type, start * 512, sectors * 512L, exportSectors * 512);
        assertThat(v).isEqualTo(type == Nbd.CMD_WRITE || type == Nbd.CMD_WRITE_ZEROES ? Nbd.ENOSPC : Nbd.EINVAL);
    }

    /** The flyweight decodes what it encodes, whatever the buffer's byte order, and the wire is big-endian. */
    @Property(tries = 1000)
    void headerRoundTrips(@ForAll("headers") Header h, @ForAll boolean littleEndianBuffer, @ForAll @IntRange(min = 0, max = 16) int at) {
        ByteBuffer b = ByteBuffer.allocate(at + Nbd.REQUEST_LENGTH).order(littleEndianBuffer ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        NbdRequest r = new NbdRequest().wrap(b, at).set(h.magic(), h.flags(), h.type(), h.handle(), h.offset(), (int) h.length());
        assertThat(r.magic()).isEqualTo(h.magic());
        assertThat(r.flags()).isEqualTo(h.flags() & 0xFFFF);
        assertThat(r.type()).isEqualTo(h.type() & 0xFFFF);
        assertThat(r.handle()).isEqualTo(h.handle());
        assertThat(r.offset()).isEqualTo(h.offset());
        assertThat(r.length()).isEqualTo(h.length() & 0xFFFF_FFFFL);
        ByteBuffer be = b.duplicate().order(ByteOrder.BIG_ENDIAN);
        assertThat(be.getInt(at)).isEqualTo(h.magic());
        assertThat(be.getLong(at + 16)).isEqualTo(h.offset());
    }

    /**
     * Framing: a stream of requests (writes with payloads) is split back into exactly the requests sent, by reading
     * headers and skipping {@link NbdRequestCheck#payload} — whether each is served or refused.
     */
    @Property(tries = 500)
    void streamFramingRecoversEveryRequest(@ForAll("streams") List<Header> sent, @ForAll @LongRange(min = 0, max = 1 << 16) long exportSectors) {
        int total = 0;
        for (Header h : sent) total += Nbd.REQUEST_LENGTH + (int) NbdRequestCheck.payload(h.type(), h.length());
        ByteBuffer stream = ByteBuffer.allocate(total);
        NbdRequest codec = new NbdRequest();
        for (Header h : sent) {
            codec.wrap(stream, stream.position()).set(h.magic(), h.flags(), h.type(), h.handle(), h.offset(), (int) h.length());
            stream.position(stream.position() + Nbd.REQUEST_LENGTH + (int) NbdRequestCheck.payload(h.type(), h.length()));
        }
        List<Long> handles = new ArrayList<>();
        int p = 0;
        while (p < total) {
            codec.wrap(stream, p);
            int v = NbdRequestCheck.check(codec.magic(), codec.flags(), codec.type(), codec.offset(), codec.length(), exportSectors * 512);
            assertThat(v).isNotEqualTo(NbdRequestCheck.CLOSE);
            handles.add(codec.handle());
            p += Nbd.REQUEST_LENGTH + (int) NbdRequestCheck.payload(codec.type(), codec.length());
        }
        assertThat(p).isEqualTo(total);
        assertThat(handles).containsExactlyElementsOf(sent.stream().map(Header::handle).toList());
    }

    @Provide
    Arbitrary<List<Header>> streams() {
        Arbitrary<Header> h = Combinators.combine(Arbitraries.of(0, Nbd.CMD_FLAG_FUA, 0x40), Arbitraries.integers().between(0, 9),
                Arbitraries.longs(), Arbitraries.integers().between(0, 4096).map(s -> s * 512L - (s % 3 == 0 ? 1 : 0)),
                Arbitraries.integers().between(0, 16).map(s -> s * 512L + (s % 5 == 0 ? 3 : 0)))
                .as((f, t, handle, off, len) -> new Header(Nbd.REQUEST_MAGIC, f, t, handle, off, len));
        return h.list().ofMaxSize(40);
    }
}

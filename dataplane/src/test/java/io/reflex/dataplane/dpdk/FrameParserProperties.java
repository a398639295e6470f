package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Ethernet/ARP/IPv4/UDP over plain memory (no DPDK needed): nothing a peer can send makes the parser throw or read
 * outside the frame; frames we build parse back; any single corrupted byte under a checksum is caught.
 */
class FrameParserProperties {
    static final long SERVER_MAC = 0x02_00_00_00_00_02L;
    static final long CLIENT_MAC = 0x02_00_00_00_00_01L;
    static final int SERVER_IP = Frames.ip("10.1.2.3");
    static final int CLIENT_IP = Frames.ip("10.1.2.4");

    @Property(tries = 2000)
    void randomBytesNeverThrow(@ForAll @Size(max = 300) byte[] frame, @ForAll long olFlags) {
        // exactly-sized heap segment: any read past the frame would throw IndexOutOfBounds
        int code = FrameParser.classify(MemorySegment.ofArray(frame), 0, frame.length, SERVER_MAC, SERVER_IP, olFlags);
        assertThat(code).isBetween(-Drop.values().length, FrameParser.UDP_FOR_US);
    }

    @Property(tries = 500)
    void aRequestWeBuildParsesAsOurs(@ForAll @IntRange(max = 8948) int payload, @ForAll @IntRange(min = 1, max = 65535) int sport,
                                     @ForAll @IntRange(min = 1, max = 65535) int dport, @ForAll long seed) {
        byte[] f = request(payload, sport, dport, seed);
        MemorySegment s = MemorySegment.ofArray(f);
        assertThat(FrameParser.classify(s, 0, f.length, SERVER_MAC, SERVER_IP, 0)).isEqualTo(FrameParser.UDP_FOR_US);
        assertThat(FrameParser.u16(s, Frames.UDP_DPORT)).isEqualTo(dport);
        assertThat(FrameParser.u16(s, Frames.UDP_LEN)).isEqualTo(8 + payload);
        // padding after the datagram (Ethernet minimum size) is allowed
        byte[] padded = java.util.Arrays.copyOf(f, f.length + 20);
        assertThat(FrameParser.classify(MemorySegment.ofArray(padded), 0, padded.length, SERVER_MAC, SERVER_IP, 0))
                .isEqualTo(FrameParser.UDP_FOR_US);
    }

    @Property(tries = 2000)
    void anyCorruptedByteUnderAChecksumIsCaught(@ForAll @IntRange(max = 600) int payload, @ForAll long seed,
                                                @ForAll @IntRange(min = 0, max = 10_000) int where, @ForAll @IntRange(min = 1, max = 255) int xor) {
        byte[] f = request(payload, 40000, 5000, seed);
        int at = Frames.IP + where % (f.length - Frames.IP);
        f[at] ^= (byte) xor;
        MemorySegment s = MemorySegment.ofArray(f);
        int code = FrameParser.classify(s, 0, f.length, SERVER_MAC, SERVER_IP, 0);
        boolean checksumOff = FrameParser.u16(s, Frames.UDP_CSUM) == 0; // "no checksum" is legal UDP over IPv4
        if (!checksumOff) assertThat(code).as("byte %d ^ %d", at, xor).isNotEqualTo(FrameParser.UDP_FOR_US);
    }

    @Property(tries = 1000)
    void truncatedFramesAreDroppedNotRead(@ForAll @IntRange(max = 600) int payload, @ForAll @IntRange(min = 0, max = 10_000) int cut) {
        byte[] f = request(payload, 40000, 5000, 7);
        int length = cut % f.length; // strictly shorter
        byte[] t = java.util.Arrays.copyOf(f, length);
        int code = FrameParser.classify(MemorySegment.ofArray(t), 0, length, SERVER_MAC, SERVER_IP, 0);
        assertThat(code).isLessThan(0);
    }

    @Property(tries = 500)
    void aReplyInPlaceParsesAtTheClient(@ForAll @IntRange(max = 4200) int request, @ForAll @IntRange(max = 8948) int reply, @ForAll long seed) {
        byte[] f = java.util.Arrays.copyOf(request(request, 40001, 5000, seed), Frames.PAYLOAD + Math.max(request, reply));
        MemorySegment s = MemorySegment.ofArray(f);
        int length = FrameWriter.udpReplyInPlace(s, 0, SERVER_MAC, reply);
        assertThat(length).isEqualTo(Frames.PAYLOAD + reply);
        assertThat(FrameParser.classify(s, 0, length, CLIENT_MAC, CLIENT_IP, 0)).isEqualTo(FrameParser.UDP_FOR_US);
        assertThat(FrameParser.u16(s, Frames.UDP_DPORT)).isEqualTo(40001);
        assertThat(FrameParser.u16(s, Frames.UDP_SPORT)).isEqualTo(5000);
        assertThat(FrameParser.mac48(s, Frames.ETH_SRC)).isEqualTo(SERVER_MAC);
    }

    @Example
    void arpRequestForUsRoundTripsToAReply() {
        byte[] f = new byte[Frames.ARP_LEN];
        MemorySegment s = MemorySegment.ofArray(f);
        FrameWriter.arpRequest(s, 0, CLIENT_MAC, CLIENT_IP, SERVER_IP);
        assertThat(FrameParser.classify(s, 0, f.length, SERVER_MAC, SERVER_IP, 0)).isEqualTo(FrameParser.ARP_FOR_US);
        FrameWriter.arpReplyInPlace(s, 0, SERVER_MAC, SERVER_IP);
        assertThat(FrameParser.u16(s, Frames.ARP_OPER)).isEqualTo(Frames.ARP_REPLY);
        assertThat(FrameParser.mac48(s, Frames.ARP_SHA)).isEqualTo(SERVER_MAC);
        assertThat(FrameParser.mac48(s, Frames.ARP_THA)).isEqualTo(CLIENT_MAC);
        assertThat(FrameParser.be32(s, Frames.ARP_TPA)).isEqualTo(CLIENT_IP);
        // a reply is not a request: the requester (or another of us) never answers it (no ARP storms)
        assertThat(FrameParser.classify(s, 0, f.length, CLIENT_MAC, CLIENT_IP, 0)).isEqualTo(FrameParser.drop(Drop.ARP_IGNORED));
    }

    @Example
    void deviceChecksumFlagsAreHonoured() {
        byte[] f = request(100, 1, 5000, 1);
        f[Frames.IP_TTL] = 1; // IP checksum now wrong
        MemorySegment s = MemorySegment.ofArray(f);
        assertThat(FrameParser.classify(s, 0, f.length, SERVER_MAC, SERVER_IP, 0)).isEqualTo(FrameParser.drop(Drop.IP_BAD_CHECKSUM));
        long good = Mbuf.RX_IP_CKSUM_GOOD | Mbuf.RX_L4_CKSUM_GOOD; // the device verified (and we trust it)
        assertThat(FrameParser.classify(s, 0, f.length, SERVER_MAC, SERVER_IP, good)).isEqualTo(FrameParser.UDP_FOR_US);
        byte[] ok = request(100, 1, 5000, 1);
        assertThat(FrameParser.classify(MemorySegment.ofArray(ok), 0, ok.length, SERVER_MAC, SERVER_IP, Mbuf.RX_L4_CKSUM_BAD))
                .isEqualTo(FrameParser.drop(Drop.UDP_BAD_CHECKSUM));
    }

    @Property(tries = 1000)
    void checksumMatchesAWordByWordReference(@ForAll @Size(max = 200) byte[] data, @ForAll @IntRange(max = 7) int offset) {
        byte[] buf = new byte[data.length + offset];
        System.arraycopy(data, 0, buf, offset, data.length);
        long ref = 0;
        for (int i = 0; i < data.length; i += 2) {
            int hi = data[i] & 0xFF, lo = i + 1 < data.length ? data[i + 1] & 0xFF : 0;
            ref += hi << 8 | lo;
        }
        assertThat(Checksum.fold(Checksum.sum(MemorySegment.ofArray(buf), offset, data.length))).isEqualTo(Checksum.fold(ref));
    }

    @Provide
    Arbitrary<Integer> ports() { return Arbitraries.integers().between(1, 65535); }

    /** A valid UDP request frame from the client to the server with {@code payload} random bytes. */
    static byte[] request(int payload, int sport, int dport, long seed) {
        byte[] f = new byte[Frames.PAYLOAD + payload];
        byte[] p = new byte[payload];
        new java.util.Random(seed).nextBytes(p);
        System.arraycopy(p, 0, f, Frames.PAYLOAD, payload);
        FrameWriter.udpFrame(MemorySegment.ofArray(f), 0, CLIENT_MAC, SERVER_MAC, CLIENT_IP, SERVER_IP, sport, dport, payload);
        return f;
    }
}

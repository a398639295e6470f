package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.protocol.Opcode;
import io.reflex.protocol.ReflexHeader;
import io.reflex.protocol.Status;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The UDP engine end to end in process: a {@link DpdkServer} on a net_ring port with the memory engine, a test client
 * on the crossed ring port. Skips where DPDK is not installed.
 */
class UdpEngineRingTest {
    private static RingRig rig;

    @BeforeAll
    static void start() {
        rig = new RingRig(0);
    }

    @AfterAll
    static void stop() {
        if (rig == null) return;
        rig.close();
        // every mbuf the client sent came back as a reply (freed by the client) or was freed by the server
        assertThat(Mempools.inUse(rig.clientPool)).isZero();
    }

    private static byte[] random(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void writesThenReadsBackTheSameData() {
        byte[] data = random(4096, 1);
        RingRig.Reply w = rig.call(Opcode.SET, 0x1111, 64, 8, data);
        assertThat(w.status()).isEqualTo(Status.OK);
        assertThat(w.handle()).isEqualTo(0x1111);
        assertThat(w.opcode()).isEqualTo(Opcode.SET);
        assertThat(w.lbaCount()).isZero();
        RingRig.Reply r = rig.call(Opcode.GET, 0x2222, 64, 8, null);
        assertThat(r.status()).isEqualTo(Status.OK);
        assertThat(r.lbaCount()).isEqualTo(8);
        assertThat(r.data()).isEqualTo(data);
    }

    @Test
    void answersArpForItsAddressOnly() {
        byte[] req = new byte[60];
        var s = java.lang.foreign.MemorySegment.ofArray(req);
        FrameWriter.arpRequest(s, 0, RingRig.CLIENT_MAC, RingRig.CLIENT_IP, RingRig.SERVER_IP);
        rig.sendBytes(req);
        byte[] reply = rig.receiveFrame();
        assertThat(reply).isNotNull();
        var r = java.lang.foreign.MemorySegment.ofArray(reply);
        assertThat(FrameParser.u16(r, Frames.ETH_TYPE)).isEqualTo(Frames.TYPE_ARP);
        assertThat(FrameParser.u16(r, Frames.ARP_OPER)).isEqualTo(Frames.ARP_REPLY);
        assertThat(FrameParser.mac48(r, Frames.ARP_SHA)).isEqualTo(rig.server.mac());
        assertThat(FrameParser.be32(r, Frames.ARP_SPA)).isEqualTo(RingRig.SERVER_IP);
        assertThat(FrameParser.mac48(r, Frames.ETH_DST)).isEqualTo(RingRig.CLIENT_MAC);
        assertThat(FrameParser.be32(r, Frames.ARP_TPA)).isEqualTo(RingRig.CLIENT_IP);

        long ignored = rig.server.drops(Drop.ARP_IGNORED);
        FrameWriter.arpRequest(s, 0, RingRig.CLIENT_MAC, RingRig.CLIENT_IP, Frames.ip("10.99.0.77"));
        rig.sendBytes(req);
        assertThat(rig.nothingWithin(200)).isTrue();
        assertThat(rig.server.drops(Drop.ARP_IGNORED)).isEqualTo(ignored + 1);
    }

    @Test
    void refusesOutOfRangeAndOversizedRequestsWithAStatus() {
        long sectors = (64L << 20) / 512;
        RingRig.Reply r = rig.call(Opcode.GET, 7, sectors - 4, 8, null);
        assertThat(r.status()).isEqualTo(Status.ERANGE);
        assertThat(r.data()).isEmpty();
        r = rig.call(Opcode.GET, 8, -1L, 8, null); // lba 2^64-1
        assertThat(r.status()).isEqualTo(Status.ERANGE);
        r = rig.call(Opcode.GET, 9, 0, 64, null); // 32 KiB: more than one 9000-byte datagram carries
        assertThat(r.status()).isEqualTo(Status.EINVAL);
        r = rig.call(Opcode.GET, 10, 0, 0, null);
        assertThat(r.status()).isEqualTo(Status.EINVAL);
    }

    @Test
    void dropsMalformedFramesWithACounterAndKeepsServing() {
        record Case(Drop reason, Runnable send) {}
        Case[] cases = {
                new Case(Drop.TRUNCATED, () -> rig.sendBytes(new byte[10])),
                new Case(Drop.IP_BAD_CHECKSUM, () -> rig.sendRequest(Opcode.GET, 1, 0, 8, null, RingRig.UDP_PORT,
                        base -> Native.ALL.set(java.lang.foreign.ValueLayout.JAVA_BYTE, base + Frames.IP_TTL, (byte) 3))),
                new Case(Drop.UDP_BAD_CHECKSUM, () -> rig.sendRequest(Opcode.GET, 1, 0, 8, null, RingRig.UDP_PORT,
                        base -> Native.ALL.set(java.lang.foreign.ValueLayout.JAVA_BYTE, base + Frames.PAYLOAD + 13, (byte) 0x5A))),
                new Case(Drop.REFLEX_BAD_MAGIC, () -> rig.sendRequest(Opcode.GET, 1, 0, 8, null, RingRig.UDP_PORT, base -> {
                    Native.ALL.set(java.lang.foreign.ValueLayout.JAVA_BYTE, base + Frames.PAYLOAD, (byte) 25);
                    fixUdpChecksum(base);
                })),
                new Case(Drop.REFLEX_BAD_LENGTH, () -> rig.sendRequest(Opcode.SET, 1, 0, 8, new byte[512])),
                new Case(Drop.NO_TENANT, () -> rig.sendRequest(Opcode.GET, 1, 0, 8, null, 5001, null)),
                new Case(Drop.IP_FRAGMENT, () -> rig.sendRequest(Opcode.GET, 1, 0, 8, null, RingRig.UDP_PORT, base -> {
                    Native.ALL.set(Native.BE16, base + Frames.IP_FRAG, (short) 0x2000); // MF
                    fixIpChecksum(base);
                })),
                new Case(Drop.OTHER_IP, () -> rig.sendRequest(Opcode.GET, 1, 0, 8, null, RingRig.UDP_PORT, base -> {
                    Native.ALL.set(Native.BE32, base + Frames.IP_DST, Frames.ip("10.99.0.3"));
                    fixIpChecksum(base);
                })),
        };
        for (Case c : cases) {
            long before = rig.server.drops(c.reason());
            c.send().run();
            byte[] data = random(512, c.reason().ordinal());
            RingRig.Reply w = rig.call(Opcode.SET, 0x500 + c.reason().ordinal(), 8, 1, data); // served right after
            assertThat(w.status()).as("after %s", c.reason()).isEqualTo(Status.OK);
            assertThat(rig.server.drops(c.reason())).as(c.reason().label()).isEqualTo(before + 1);
        }
    }

    @Test
    void survivesAFloodOfGarbageAndStillServes() {
        Random rnd = new Random(42);
        long before = rig.server.drops(Drop.OTHER_ETHERTYPE) + rig.server.drops(Drop.TRUNCATED) + rig.server.drops(Drop.OTHER_MAC);
        for (int i = 0; i < 2000; i++) {
            byte[] f = new byte[1 + rnd.nextInt(200)];
            rnd.nextBytes(f);
            rig.sendBytes(f);
        }
        byte[] data = random(4096, 9);
        assertThat(rig.call(Opcode.SET, 0xAAAA, 1024, 8, data).status()).isEqualTo(Status.OK);
        assertThat(rig.call(Opcode.GET, 0xAAAB, 1024, 8, null).data()).isEqualTo(data);
        long after = rig.server.drops(Drop.OTHER_ETHERTYPE) + rig.server.drops(Drop.TRUNCATED) + rig.server.drops(Drop.OTHER_MAC);
        assertThat(rig.server.count(Count.RX_FRAMES)).isGreaterThanOrEqualTo(2002);
        assertThat(after - before).isGreaterThan(1900); // random frames: almost all fail at the first check
        assertThat(rig.server.loops()[0].isRunning()).isTrue();
    }

    @Test
    void aRetriedWriteIsAppliedOnceAndAnsweredFromTheTable() {
        byte[] first = random(4096, 3);
        long applied = rig.server.count(Count.WRITES_APPLIED);
        long replayed = rig.server.count(Count.DUPLICATES_REPLAYED);
        assertThat(rig.call(Opcode.SET, 0xD00D, 2048, 8, first).status()).isEqualTo(Status.OK);
        // the same handle again, as a retry after a lost reply, even with other bytes: not applied again
        RingRig.Reply retry = rig.call(Opcode.SET, 0xD00D, 2048, 8, random(4096, 4));
        assertThat(retry.status()).isEqualTo(Status.OK);
        assertThat(retry.handle()).isEqualTo(0xD00D);
        assertThat(rig.server.count(Count.WRITES_APPLIED)).isEqualTo(applied + 1);
        assertThat(rig.server.count(Count.DUPLICATES_REPLAYED)).isEqualTo(replayed + 1);
        assertThat(rig.call(Opcode.GET, 0xD00E, 2048, 8, null).data()).isEqualTo(first);
    }

    @Test
    void repliesAreChecksummedForTheKernel() {
        RingRig.Reply r = rig.call(Opcode.GET, 0x77, 0, 8, null);
        // receiveReply parsed it with FrameParser: IP and UDP checksums verified in software
        assertThat(r.frameLength()).isEqualTo(Frames.PAYLOAD + ReflexHeader.LENGTH + 4096);
    }

    static void fixIpChecksum(long base) {
        Native.ALL.set(Native.BE16, base + Frames.IP_CSUM, (short) 0);
        Native.ALL.set(Native.BE16, base + Frames.IP_CSUM, (short) Checksum.finish(Checksum.sum(Native.ALL, base + Frames.IP, Frames.IP_HLEN)));
    }

    static void fixUdpChecksum(long base) {
        int len = FrameParser.u16(Native.ALL, base + Frames.UDP_LEN);
        Native.ALL.set(Native.BE16, base + Frames.UDP_CSUM, (short) 0);
        long sum = Checksum.pseudoHeader(FrameParser.be32(Native.ALL, base + Frames.IP_SRC), FrameParser.be32(Native.ALL, base + Frames.IP_DST),
                Frames.PROTO_UDP, len) + Checksum.sum(Native.ALL, base + Frames.UDP, len);
        Native.ALL.set(Native.BE16, base + Frames.UDP_CSUM, (short) Checksum.finish(sum));
    }
}

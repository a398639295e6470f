package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.client.ClientOptions;
import io.reflex.client.CompletionListener;
import io.reflex.client.UdpConnection;
import io.reflex.client.UdpOptions;
import io.reflex.protocol.Status;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DPDK engine on a real (virtual) wire: net_af_packet on one end of a veth pair at MTU 9000, the Java UDP client
 * on kernel sockets in the other namespace. Two tenants (UDP 5000 and 5001); every 10th completed reply is dropped by
 * the server (test hook), so every test also runs through the client's retries. Needs root and DPDK (CI has both).
 */
class DpdkVethTest {
    private static VethRig rig;
    private static final UdpOptions RETRY = new UdpOptions(Duration.ofMillis(20), 8, 8972);

    @BeforeAll
    static void start() throws Exception {
        VethRig.assumeUsable();
        rig = new VethRig(100 + (int) (ProcessHandle.current().pid() % 100));
        Path table = Files.createTempFile("rfxdp-table", ".yaml");
        Files.writeString(table, """
                tenants:
                  - {name: a, port: 5000, class: BE, lbaBase: 0, lbaCount: 65536}
                  - {name: b, port: 5001, class: BE, lbaBase: 65536, lbaCount: 65536}
                """);
        rig.startServer(List.of("--no-huge", "--no-shconf", "-m", "256"),
                List.of("--slo-table", table.toString(), "--dpdk-drop-reply-every", "10"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) rig.close();
    }

    private static UdpConnection connect(int port) throws Exception {
        return NetNs.call(rig.clientNs, () -> UdpConnection.open(rig.serverIp, port, ClientOptions.defaults().withMaxInFlight(32), RETRY));
    }

    /** Writes {@code n} random 4 KiB blocks from lba {@code start} at QD ≤ 32, reads them back, compares. */
    static void writeReadVerify(UdpConnection c, long start, int n, long seed) {
        Random rnd = new Random(seed);
        byte[][] blocks = new byte[n][4096];
        int[] failures = {0};
        CompletionListener ok = (tag, status, data) -> {
            if (status != Status.OK) failures[0]++;
        };
        for (int i = 0; i < n; i++) {
            rnd.nextBytes(blocks[i]);
            while (!c.submitWrite(start + 8L * i, ByteBuffer.wrap(blocks[i]), i)) c.poll(ok);
        }
        while (c.inFlight() > 0) c.poll(ok);
        assertThat(failures[0]).as("failed writes").isZero();
        byte[][] back = new byte[n][];
        CompletionListener keep = (tag, status, data) -> {
            assertThat(status).isEqualTo(Status.OK);
            back[(int) tag] = new byte[data.remaining()];
            data.get(back[(int) tag]);
        };
        for (int i = 0; i < n; i++) while (!c.submitRead(start + 8L * i, 8, null, i)) c.poll(keep);
        while (c.inFlight() > 0) c.poll(keep);
        for (int i = 0; i < n; i++) assertThat(back[i]).as("block %d", i).isEqualTo(blocks[i]);
    }

    @Test
    void writesReadsBackAndVerifiesOverTheVeth() throws Exception {
        try (UdpConnection c = connect(5000)) {
            writeReadVerify(c, 0, 300, 1);
        }
        // the client's kernel resolved our address by ARP: the engine answered it
        assertThat(rig.inClient("ip", "neigh", "show", rig.serverIp)).contains("lladdr");
    }

    @Test
    void lostRepliesAreRetriedAndNoWriteIsAppliedTwice() throws Exception {
        Map<String, Long> before = rig.stats();
        int writes = 400;
        try (UdpConnection c = connect(5001)) {
            writeReadVerify(c, 0, writes, 2);
            assertThat(c.retransmits()).isGreaterThan(0);
        }
        Map<String, Long> after = rig.stats();
        assertThat(after.get("writes_applied") - before.get("writes_applied")).isEqualTo(writes);
        assertThat(after.get("drop.injected_reply_loss")).isGreaterThan(before.getOrDefault("drop.injected_reply_loss", 0L));
        assertThat(after.get("duplicates_replayed")).isGreaterThan(before.getOrDefault("duplicates_replayed", 0L));
    }

    @Test
    void hostileFramesAreDroppedCountedAndOtherTenantsStayServed() throws Exception {
        long serverMac = serverMac();
        int client = Frames.ip(rig.clientIp), server = Frames.ip(rig.serverIp);
        long clientMac = Long.parseLong(rig.inClient("cat", "/sys/class/net/" + rig.clientIf + "/address").trim().replace(":", ""), 16);
        List<String> frames = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        byte[] good = udp(clientMac, serverMac, client, server, 5000, 24, 0);
        frames.add(hex.formatHex(java.util.Arrays.copyOf(good, 30)));                           // truncated
        byte[] badIp = good.clone();
        badIp[Frames.IP_TTL] ^= 1;
        frames.add(hex.formatHex(badIp));                                                         // IP checksum
        byte[] badUdp = good.clone();
        badUdp[Frames.PAYLOAD + 14] ^= 1;
        frames.add(hex.formatHex(badUdp));                                                        // UDP checksum
        frames.add(hex.formatHex(udp(clientMac, serverMac, client, server, 5000, 24, 25)));     // wrong magic
        List<String> flood = new ArrayList<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 3000; i++) {                                                        // garbage flood
            byte[] g = new byte[14 + rnd.nextInt(1500)];
            rnd.nextBytes(g);
            if (i % 2 == 0) { // half of it addressed to us as IPv4, to get past the first checks
                System.arraycopy(good, 0, g, 0, 14);
            }
            flood.add(hex.formatHex(g));
        }
        Map<String, Long> before = rig.stats();
        try (UdpConnection b = connect(5001)) {
            rig.sendFrames(frames);
            rig.sendFrames(flood); // as fast as a packet socket sends: some may overflow the kernel's ring (fine)
            writeReadVerify(b, 4096, 100, 3); // the other tenant is served after the flood
        }
        try (UdpConnection a = connect(5000)) {
            // out of the tenant's 65536 sectors: refused with ERANGE, nothing reaches the device
            int[] status = {-100};
            a.submitRead(65536 - 4, 8, null, 1);
            while (a.inFlight() > 0) a.poll((t, s, d) -> status[0] = s);
            assertThat(status[0]).isEqualTo(Status.ERANGE);
            writeReadVerify(a, 8192, 50, 4);
        }
        Map<String, Long> after = rig.stats();
        for (String d : List.of("drop.truncated", "drop.ip_bad_checksum", "drop.udp_bad_checksum", "drop.reflex_bad_magic")) {
            assertThat(after.getOrDefault(d, 0L)).as(d).isGreaterThan(before.getOrDefault(d, 0L));
        }
        long garbage = after.getOrDefault("drop.other_ethertype", 0L) + after.getOrDefault("drop.ip_bad_header", 0L)
                - before.getOrDefault("drop.other_ethertype", 0L) - before.getOrDefault("drop.ip_bad_header", 0L);
        assertThat(garbage).as("garbage frames received and dropped").isGreaterThan(100);
        assertThat(rig.serverAlive()).isTrue();
    }

    private static long serverMac() throws Exception {
        // the server's interface MAC, read in its namespace (DPDK's af_packet port uses it)
        var p = new ProcessBuilder("ip", "netns", "exec", rig.serverNs, "cat", "/sys/class/net/" + rig.serverIf + "/address").start();
        String mac = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        return Long.parseLong(mac.replace(":", ""), 16);
    }

    /** A well-formed GET datagram frame (magic overridable, 0 = correct). */
    static byte[] udp(long srcMac, long dstMac, int srcIp, int dstIp, int port, int payload, int magic) {
        byte[] f = new byte[Frames.PAYLOAD + payload];
        MemorySegment s = MemorySegment.ofArray(f);
        ByteBuffer h = ByteBuffer.wrap(f, Frames.PAYLOAD, payload).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        h.putShort(Frames.PAYLOAD, (short) (magic == 0 ? 24 : magic)).putShort(Frames.PAYLOAD + 2, (short) 0)
                .putLong(Frames.PAYLOAD + 4, 99).putLong(Frames.PAYLOAD + 12, 0).putInt(Frames.PAYLOAD + 20, 8);
        FrameWriter.udpFrame(s, 0, srcMac, dstMac, srcIp, dstIp, 40999, port, payload);
        return f;
    }
}

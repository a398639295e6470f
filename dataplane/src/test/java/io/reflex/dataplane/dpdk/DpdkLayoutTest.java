package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The struct layouts and constants the bindings pin (rte_eth_fp_ops, rte_mbuf, rte_eth_conf, rte_eth_dev_info,
 * rte_eth_stats, flag bits) agree with the installed DPDK headers as the C compiler sees them: a tiny offsetof probe
 * compiled with {@code pkg-config --cflags libdpdk}. Skips where the headers or a compiler are missing (CI installs
 * libdpdk-dev).
 */
class DpdkLayoutTest {
    private static final String PROBE = """
            #include <stdio.h>
            #include <stddef.h>
            #include <rte_mbuf.h>
            #include <rte_ethdev.h>
            #define O(t, f, k) printf(k " %zu\\n", offsetof(t, f))
            #define V(k, v) printf(k " %llu\\n", (unsigned long long)(v))
            int main(void) {
              O(struct rte_mbuf, buf_addr, "mbuf.buf_addr"); O(struct rte_mbuf, data_off, "mbuf.data_off");
              O(struct rte_mbuf, refcnt, "mbuf.refcnt"); O(struct rte_mbuf, nb_segs, "mbuf.nb_segs");
              O(struct rte_mbuf, port, "mbuf.port"); O(struct rte_mbuf, ol_flags, "mbuf.ol_flags");
              O(struct rte_mbuf, pkt_len, "mbuf.pkt_len"); O(struct rte_mbuf, data_len, "mbuf.data_len");
              O(struct rte_mbuf, buf_len, "mbuf.buf_len"); O(struct rte_mbuf, pool, "mbuf.pool");
              O(struct rte_mbuf, next, "mbuf.next"); O(struct rte_mbuf, tx_offload, "mbuf.tx_offload");
              V("mbuf.size", sizeof(struct rte_mbuf));
              O(struct rte_eth_fp_ops, rx_pkt_burst, "fp.rx_pkt_burst"); O(struct rte_eth_fp_ops, rxq.data, "fp.rxq.data");
              O(struct rte_eth_fp_ops, rxq.clbk, "fp.rxq.clbk"); O(struct rte_eth_fp_ops, tx_pkt_burst, "fp.tx_pkt_burst");
              O(struct rte_eth_fp_ops, txq.data, "fp.txq.data"); O(struct rte_eth_fp_ops, txq.clbk, "fp.txq.clbk");
              V("fp.size", sizeof(struct rte_eth_fp_ops)); V("fp.max_ethports", RTE_MAX_ETHPORTS);
              O(struct rte_eth_conf, rxmode.mq_mode, "conf.rxmode.mq_mode"); O(struct rte_eth_conf, rxmode.mtu, "conf.rxmode.mtu");
              O(struct rte_eth_conf, rxmode.offloads, "conf.rxmode.offloads"); O(struct rte_eth_conf, txmode.offloads, "conf.txmode.offloads");
              O(struct rte_eth_conf, rx_adv_conf.rss_conf.rss_key, "conf.rss_key");
              O(struct rte_eth_conf, rx_adv_conf.rss_conf.rss_key_len, "conf.rss_key_len");
              O(struct rte_eth_conf, rx_adv_conf.rss_conf.rss_hf, "conf.rss_hf");
              V("conf.size", sizeof(struct rte_eth_conf));
              O(struct rte_eth_dev_info, driver_name, "info.driver_name"); O(struct rte_eth_dev_info, min_mtu, "info.min_mtu");
              O(struct rte_eth_dev_info, max_mtu, "info.max_mtu"); O(struct rte_eth_dev_info, max_rx_pktlen, "info.max_rx_pktlen");
              O(struct rte_eth_dev_info, max_rx_queues, "info.max_rx_queues"); O(struct rte_eth_dev_info, max_tx_queues, "info.max_tx_queues");
              O(struct rte_eth_dev_info, rx_offload_capa, "info.rx_offload_capa"); O(struct rte_eth_dev_info, tx_offload_capa, "info.tx_offload_capa");
              O(struct rte_eth_dev_info, flow_type_rss_offloads, "info.flow_type_rss_offloads");
              V("info.size", sizeof(struct rte_eth_dev_info));
              O(struct rte_eth_stats, ipackets, "stats.ipackets"); O(struct rte_eth_stats, opackets, "stats.opackets");
              O(struct rte_eth_stats, imissed, "stats.imissed"); O(struct rte_eth_stats, oerrors, "stats.oerrors");
              O(struct rte_eth_stats, rx_nombuf, "stats.rx_nombuf"); V("stats.size", sizeof(struct rte_eth_stats));
              V("link.size", sizeof(struct rte_eth_link));
              V("headroom", RTE_PKTMBUF_HEADROOM);
              V("flag.rx_l4_bad", RTE_MBUF_F_RX_L4_CKSUM_BAD); V("flag.rx_ip_bad", RTE_MBUF_F_RX_IP_CKSUM_BAD);
              V("flag.rx_ip_good", RTE_MBUF_F_RX_IP_CKSUM_GOOD); V("flag.rx_l4_good", RTE_MBUF_F_RX_L4_CKSUM_GOOD);
              V("offload.rx_ipv4", RTE_ETH_RX_OFFLOAD_IPV4_CKSUM); V("offload.rx_udp", RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
              V("offload.tx_multi_segs", RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
              V("rss.ipv4", RTE_ETH_RSS_IPV4); V("rss.frag_ipv4", RTE_ETH_RSS_FRAG_IPV4);
              V("rss.nonfrag_ipv4_udp", RTE_ETH_RSS_NONFRAG_IPV4_UDP); V("mq.rx_rss", RTE_ETH_MQ_RX_RSS);
              return 0;
            }
            """;

    @Test
    void bindingsMatchTheInstalledHeaders() throws IOException, InterruptedException {
        assumeTrue(Files.exists(Path.of("/usr/include/dpdk/rte_ethdev.h")), "no DPDK headers (apt-get install libdpdk-dev)");
        String cflags = run(List.of("pkg-config", "--cflags", "libdpdk"));
        assumeTrue(cflags != null, "pkg-config libdpdk unavailable");
        Path dir = Files.createDirectories(Path.of("target", "dpdk-layout"));
        Path src = dir.resolve("probe.c");
        Files.writeString(src, PROBE);
        Path exe = dir.resolve("probe");
        List<String> cc = new java.util.ArrayList<>(List.of("cc", "-o", exe.toString(), src.toString()));
        cc.addAll(1, List.of(cflags.trim().split("\\s+")));
        assumeTrue(run(List.of("cc", "--version")) != null, "no C compiler");
        assertThat(run(cc)).as("the probe compiles against the installed headers (output above)").isNotNull();
        Map<String, Long> c = new LinkedHashMap<>();
        for (String line : run(List.of(exe.toString())).split("\n")) {
            String[] kv = line.trim().split(" ");
            c.put(kv[0], Long.parseUnsignedLong(kv[1]));
        }
        Map<String, Long> ours = new LinkedHashMap<>();
        ours.put("mbuf.buf_addr", Mbuf.BUF_ADDR);
        ours.put("mbuf.data_off", Mbuf.DATA_OFF);
        ours.put("mbuf.refcnt", Mbuf.REFCNT);
        ours.put("mbuf.nb_segs", Mbuf.NB_SEGS);
        ours.put("mbuf.port", Mbuf.PORT);
        ours.put("mbuf.ol_flags", Mbuf.OL_FLAGS);
        ours.put("mbuf.pkt_len", Mbuf.PKT_LEN);
        ours.put("mbuf.data_len", Mbuf.DATA_LEN);
        ours.put("mbuf.buf_len", Mbuf.BUF_LEN);
        ours.put("mbuf.pool", Mbuf.POOL);
        ours.put("mbuf.next", Mbuf.NEXT);
        ours.put("mbuf.tx_offload", Mbuf.TX_OFFLOAD);
        ours.put("mbuf.size", Mbuf.SIZE);
        ours.put("fp.rx_pkt_burst", FpOps.RX_PKT_BURST);
        ours.put("fp.rxq.data", FpOps.RXQ_DATA);
        ours.put("fp.rxq.clbk", FpOps.RXQ_CLBK);
        ours.put("fp.tx_pkt_burst", FpOps.TX_PKT_BURST);
        ours.put("fp.txq.data", FpOps.TXQ_DATA);
        ours.put("fp.txq.clbk", FpOps.TXQ_CLBK);
        ours.put("fp.size", FpOps.SIZE);
        ours.put("fp.max_ethports", (long) FpOps.MAX_ETHPORTS);
        ours.put("conf.rxmode.mq_mode", EthConf.RXMODE_MQ_MODE);
        ours.put("conf.rxmode.mtu", EthConf.RXMODE_MTU);
        ours.put("conf.rxmode.offloads", EthConf.RXMODE_OFFLOADS);
        ours.put("conf.txmode.offloads", EthConf.TXMODE_OFFLOADS);
        ours.put("conf.rss_key", EthConf.RSS_KEY);
        ours.put("conf.rss_key_len", EthConf.RSS_KEY_LEN);
        ours.put("conf.rss_hf", EthConf.RSS_HF);
        ours.put("info.driver_name", EthDevInfo.DRIVER_NAME);
        ours.put("info.min_mtu", EthDevInfo.MIN_MTU);
        ours.put("info.max_mtu", EthDevInfo.MAX_MTU);
        ours.put("info.max_rx_pktlen", EthDevInfo.MAX_RX_PKTLEN);
        ours.put("info.max_rx_queues", EthDevInfo.MAX_RX_QUEUES);
        ours.put("info.max_tx_queues", EthDevInfo.MAX_TX_QUEUES);
        ours.put("info.rx_offload_capa", EthDevInfo.RX_OFFLOAD_CAPA);
        ours.put("info.tx_offload_capa", EthDevInfo.TX_OFFLOAD_CAPA);
        ours.put("info.flow_type_rss_offloads", EthDevInfo.FLOW_TYPE_RSS_OFFLOADS);
        ours.put("stats.ipackets", EthStats.IPACKETS);
        ours.put("stats.opackets", EthStats.OPACKETS);
        ours.put("stats.imissed", EthStats.IMISSED);
        ours.put("stats.oerrors", EthStats.OERRORS);
        ours.put("stats.rx_nombuf", EthStats.RX_NOMBUF);
        ours.put("stats.size", EthStats.SIZE);
        ours.put("link.size", 8L);
        ours.put("headroom", (long) Mempools.HEADROOM);
        ours.put("flag.rx_l4_bad", Mbuf.RX_L4_CKSUM_BAD);
        ours.put("flag.rx_ip_bad", Mbuf.RX_IP_CKSUM_BAD);
        ours.put("flag.rx_ip_good", Mbuf.RX_IP_CKSUM_GOOD);
        ours.put("flag.rx_l4_good", Mbuf.RX_L4_CKSUM_GOOD);
        ours.put("offload.rx_ipv4", EthConf.RX_OFFLOAD_IPV4_CKSUM);
        ours.put("offload.rx_udp", EthConf.RX_OFFLOAD_UDP_CKSUM);
        ours.put("offload.tx_multi_segs", EthConf.TX_OFFLOAD_MULTI_SEGS);
        ours.put("rss.ipv4", EthConf.RSS_IPV4);
        ours.put("rss.frag_ipv4", EthConf.RSS_FRAG_IPV4);
        ours.put("rss.nonfrag_ipv4_udp", EthConf.RSS_NONFRAG_IPV4_UDP);
        ours.put("mq.rx_rss", (long) EthConf.MQ_RX_RSS);
        Map<String, Long> theirs = new LinkedHashMap<>();
        ours.keySet().forEach(k -> theirs.put(k, c.get(k)));
        assertThat(ours).isEqualTo(theirs);
        assertThat(c.get("conf.size")).isLessThanOrEqualTo(EthConf.ALLOC);
        assertThat(c.get("info.size")).isLessThanOrEqualTo(EthDevInfo.ALLOC);
    }

    /** stdout of a command, or null if it cannot run or fails (then its output is printed). */
    private static String run(List<String> cmd) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return null;
        }
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            System.err.println(cmd + " failed:\n" + out);
            return null;
        }
        return out;
    }
}

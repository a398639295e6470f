// floor-dpdk: the least a DPDK/UDP ReFlex server can do, as a reference point for bench/dpdk/run.sh (issue 14).
// One lcore busy-polls one RX/TX queue pair: rx_burst, answer ARP for our address, turn each UDP datagram carrying a
// ReFlex GET into its reply in place (addresses and ports swapped, the extended header with status OK, lba_count × 512
// bytes copied from one static buffer), and send the burst's replies with one tx_burst. Checksums are done as the Java
// engine does them on a device without offloads (net_af_packet has none): IPv4 header and UDP checksums verified on
// receive and filled on send, in software. No scheduler, no tenants, no device, no range checks, no write window, no
// metrics beyond a few counters: not a server, a floor.
//
//   floor-dpdk EAL-ARGS... -- IP PORT [MTU]
//
// SIGUSR1 prints what the loop did since the previous SIGUSR1: frames, and its own work per request, whatever the
// client's rate: the TSC time of the iterations that received or sent something over the frames they handled. An
// iteration longer than 1 ms was preempted (others' work on a loaded machine, counted as "preempted"), not ours: it is
// left out of that figure. "busy" is the share of the window in working iterations. SIGINT/SIGTERM stop it.
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#define BURST 32
#define TX_CAP 256
#define DESCRIPTORS 512       // as DpdkServer
#define MBUFS 4095            // as --dpdk-mbufs' default
#define HDR 24                // ReFlex header
#define OP_GET 0
#define OP_HELLO 16
#define L2 sizeof(struct rte_ether_hdr)
#define L3 (L2 + sizeof(struct rte_ipv4_hdr))
#define L4 (L3 + sizeof(struct rte_udp_hdr))

struct rfx { uint16_t magic, opcode; uint64_t handle; uint32_t status, reserved, count; } __attribute__((packed));

static volatile sig_atomic_t stop, report;
static uint8_t data[9216];     // every GET's payload: the floor has no device
static struct rte_mbuf *txq[TX_CAP];
static int ntx;
#define NSTAT 14
static uint64_t rx_frames, requests, replies, arp_replies, dropped, tx_full, iterations, idle_iterations, busy_tsc, preempted,
                work_tsc, work_frames, rx_tsc, tx_tsc, start_tsc;

static void on_signal(int sig) { if (sig == SIGUSR1) report = 1; else stop = 1; }

static void send_frame(struct rte_mbuf *m) {
    if (ntx == TX_CAP) { rte_pktmbuf_free(m); tx_full++; return; }
    txq[ntx++] = m;
}

static void arp(struct rte_mbuf *m, struct rte_ether_hdr *e, const struct rte_ether_addr *mac, uint32_t ip) {
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);
    if (m->data_len < L2 + sizeof *a || a->arp_opcode != htons(RTE_ARP_OP_REQUEST) || a->arp_data.arp_tip != ip) {
        rte_pktmbuf_free(m); dropped++; return;
    }
    e->dst_addr = a->arp_data.arp_sha;
    e->src_addr = *mac;
    a->arp_opcode = htons(RTE_ARP_OP_REPLY);
    a->arp_data.arp_tha = a->arp_data.arp_sha;
    a->arp_data.arp_tip = a->arp_data.arp_sip;
    a->arp_data.arp_sha = *mac;
    a->arp_data.arp_sip = ip;
    arp_replies++;
    send_frame(m);
}

// A GET (or HELLO, answered OK: the client sends one only with a token) becomes its reply in the same mbuf.
static void udp(struct rte_mbuf *m, struct rte_ether_hdr *e, const struct rte_ether_addr *mac, uint32_t ip, uint16_t port,
                uint32_t max_data) {
    struct rte_ipv4_hdr *iph = (struct rte_ipv4_hdr *)(e + 1);
    struct rte_udp_hdr *u = (struct rte_udp_hdr *)(iph + 1);
    struct rfx *h = (struct rfx *)(u + 1);
    if (m->data_len < L4 + HDR || iph->version_ihl != 0x45 || iph->next_proto_id != IPPROTO_UDP || iph->dst_addr != ip
            || u->dst_port != port || ntohs(u->dgram_len) < sizeof *u + HDR
            || ntohs(iph->total_length) != ntohs(u->dgram_len) + sizeof *iph
            || L3 + ntohs(u->dgram_len) > m->data_len
            || rte_raw_cksum(iph, sizeof *iph) != 0xffff
            || (u->dgram_cksum != 0 && rte_ipv4_udptcp_cksum_verify(iph, u) != 0)
            || h->magic != HDR || (h->opcode != OP_GET && h->opcode != OP_HELLO)) {
        rte_pktmbuf_free(m); dropped++; return;
    }
    requests++;
    uint32_t bytes = h->opcode == OP_GET ? h->count * 512u : 0;
    if (bytes > max_data || L4 + HDR + bytes > (uint32_t)(rte_pktmbuf_data_room_size(m->pool) - m->data_off)) {
        rte_pktmbuf_free(m); dropped++; return;
    }
    e->dst_addr = e->src_addr;
    e->src_addr = *mac;
    iph->dst_addr = iph->src_addr;
    iph->src_addr = ip;
    iph->total_length = htons(sizeof *iph + sizeof *u + HDR + bytes);
    iph->packet_id = 0;
    iph->fragment_offset = htons(RTE_IPV4_HDR_DF_FLAG);
    iph->time_to_live = 64;
    iph->hdr_checksum = 0;
    iph->hdr_checksum = rte_ipv4_cksum(iph);
    u->dst_port = u->src_port;
    u->src_port = port;
    u->dgram_len = htons(sizeof *u + HDR + bytes);
    h->status = 0;
    h->reserved = 0;
    h->count = bytes / 512;
    memcpy(h + 1, data, bytes);
    u->dgram_cksum = 0;
    u->dgram_cksum = rte_ipv4_udptcp_cksum(iph, u); // 0xffff for 0
    m->data_len = m->pkt_len = L4 + HDR + bytes;
    replies++;
    send_frame(m);
}

static void print_report(const char *what, uint64_t *last) {
    uint64_t now[NSTAT] = { rx_frames, requests, replies, arp_replies, dropped, tx_full, iterations, idle_iterations, busy_tsc,
                            preempted, work_tsc, work_frames, rx_tsc, tx_tsc };
    uint64_t d[NSTAT + 1];
    for (int i = 0; i < NSTAT; i++) { d[i] = now[i] - last[i]; last[i] = now[i]; }
    uint64_t t = rte_rdtsc();
    d[NSTAT] = t - last[NSTAT];
    last[NSTAT] = t;
    double hz = (double)rte_get_tsc_hz();
    double f = d[11] ? 1e6 / hz / d[11] : 0.0; // TSC ticks per frame -> µs
    printf("floor-dpdk %s: rx %lu requests %lu replies %lu arp %lu dropped %lu tx_full %lu iterations %lu idle %lu"
           " busy %.2f%% preempted %lu work %.3f us/frame (rx_burst %.3f, build %.3f, tx_burst %.3f)\n", what, d[0], d[1],
           d[2], d[3], d[4], d[5], d[6], d[7], d[NSTAT] ? 100.0 * d[8] / d[NSTAT] : 0.0, d[9], d[10] * f, d[12] * f,
           (d[10] - d[12] - d[13]) * f, d[13] * f);
    fflush(stdout);
}

int main(int argc, char **argv) {
    int eal = rte_eal_init(argc, argv);
    if (eal < 0) { fprintf(stderr, "floor-dpdk: rte_eal_init failed: %s\n", rte_strerror(rte_errno)); return 1; }
    argc -= eal; argv += eal;
    if (argc < 3) { fprintf(stderr, "usage: floor-dpdk EAL-ARGS... -- IP PORT [MTU]\n"); return 2; }
    struct in_addr a;
    if (inet_pton(AF_INET, argv[1], &a) != 1) { fprintf(stderr, "floor-dpdk: bad IP %s\n", argv[1]); return 2; }
    uint32_t ip = a.s_addr;
    uint16_t port = htons((uint16_t)atoi(argv[2]));
    int mtu = argc > 3 ? atoi(argv[3]) : 9000;
    uint32_t max_data = (uint32_t)(mtu - 52) / 512 * 512; // as UdpFraming.maxDataBytes
    memset(data, 0x5a, sizeof data);
    if (rte_eth_dev_count_avail() == 0) { fprintf(stderr, "floor-dpdk: no port (--vdev net_af_packet0,iface=...)\n"); return 1; }

    // As DpdkServer on af_packet: ethdev keeps MTU 1500 (the PMD claims 1518-byte frames; the interface's MTU rules),
    // one frame per mbuf, no offloads (the device has none for checksums).
    uint16_t pid = 0;
    struct rte_eth_conf conf = { 0 };
    int data_room = RTE_PKTMBUF_HEADROOM + ((mtu + 14 + 4 + 1023) & ~1023);
    struct rte_mempool *pool = rte_pktmbuf_pool_create("floor", MBUFS, 256, 0, data_room, rte_socket_id());
    if (pool == NULL) { fprintf(stderr, "floor-dpdk: mbuf pool: %s\n", rte_strerror(rte_errno)); return 1; }
    if (rte_eth_dev_configure(pid, 1, 1, &conf) < 0 || rte_eth_rx_queue_setup(pid, 0, DESCRIPTORS, rte_socket_id(), NULL, pool) < 0
            || rte_eth_tx_queue_setup(pid, 0, DESCRIPTORS, rte_socket_id(), NULL) < 0 || rte_eth_dev_start(pid) < 0) {
        fprintf(stderr, "floor-dpdk: port setup failed\n");
        return 1;
    }
    struct rte_ether_addr mac;
    rte_eth_macaddr_get(pid, &mac);
    signal(SIGINT, on_signal); signal(SIGTERM, on_signal); signal(SIGUSR1, on_signal);
    printf("floor-dpdk serving %s:%d (mtu %d, lcore %u)\n", argv[1], ntohs(port), mtu, rte_lcore_id());
    fflush(stdout);

    uint64_t last[NSTAT + 1] = { 0 };
    last[NSTAT] = start_tsc = rte_rdtsc();
    uint64_t preempt_tsc = rte_get_tsc_hz() / 1000;
    struct rte_mbuf *rx[BURST];
    while (!stop) {
        uint64_t t0 = rte_rdtsc();
        uint16_t n = rte_eth_rx_burst(pid, 0, rx, BURST);
        uint64_t t1 = rte_rdtsc(), t2 = 0;
        for (uint16_t i = 0; i < n; i++) {
            struct rte_mbuf *m = rx[i];
            struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
            rx_frames++;
            if (m->nb_segs != 1 || m->data_len < L2) { rte_pktmbuf_free(m); dropped++; continue; }
            if (e->ether_type == htons(RTE_ETHER_TYPE_ARP)) arp(m, e, &mac, ip);
            else if (e->ether_type == htons(RTE_ETHER_TYPE_IPV4) && rte_is_same_ether_addr(&e->dst_addr, &mac)) udp(m, e, &mac, ip, port, max_data);
            else { rte_pktmbuf_free(m); dropped++; }
        }
        int had = n + ntx;
        if (ntx > 0) { // what the device did not take waits for the next iteration (as UdpLoop)
            t2 = rte_rdtsc();
            uint16_t sent = rte_eth_tx_burst(pid, 0, txq, ntx);
            if (sent < ntx) memmove(txq, txq + sent, (ntx - sent) * sizeof txq[0]);
            ntx -= sent;
        }
        iterations++;
        if (had) {
            uint64_t t3 = rte_rdtsc(), dt = t3 - t0;
            busy_tsc += dt;
            if (dt < preempt_tsc) {
                work_tsc += dt; work_frames += n; rx_tsc += t1 - t0; tx_tsc += t2 ? t3 - t2 : 0;
            } else {
                preempted++;
            }
        } else {
            idle_iterations++;
        }
        if (report) { report = 0; print_report("window", last); }
    }
    uint64_t first[NSTAT + 1] = { [NSTAT] = start_tsc };
    print_report("total", first);
    for (int i = 0; i < ntx; i++) rte_pktmbuf_free(txq[i]);
    rte_eth_dev_stop(pid);
    rte_eth_dev_close(pid);
    rte_eal_cleanup();
    return 0;
}

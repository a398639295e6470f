/**
 * The DPDK network engine: ReFlex over UDP from a DPDK Ethernet port (Debian's DPDK 22.11 through FFM, no JNI).
 *
 * <h2>Layers</h2>
 * <ul>
 *   <li>Bindings: {@link io.reflex.dataplane.dpdk.DpdkLib} (loads the ABI-23 libraries), {@link io.reflex.dataplane.dpdk.Eal},
 *       {@link io.reflex.dataplane.dpdk.Mempools}, {@link io.reflex.dataplane.dpdk.EthDev} (cold path), and the packet
 *       path: {@link io.reflex.dataplane.dpdk.FpOps} (RX/TX bursts), {@link io.reflex.dataplane.dpdk.Mbuf} (fields),
 *       {@code rte_pktmbuf_free_bulk}. One class per C struct ({@code EthConf}, {@code EthDevInfo}, {@code EthStats}), its
 *       offsets checked against the installed headers by {@code DpdkLayoutTest} (an offsetof probe built with cc).</li>
 *   <li>Frames: {@link io.reflex.dataplane.dpdk.FrameParser}, {@link io.reflex.dataplane.dpdk.FrameWriter},
 *       {@link io.reflex.dataplane.dpdk.Checksum} over any memory segment (mbuf data by address, or heap in tests).</li>
 *   <li>Serving: {@link io.reflex.dataplane.dpdk.UdpLoop} (one per RX/TX queue pair, run to completion),
 *       {@link io.reflex.dataplane.dpdk.ClientTable} (at-most-once writes, HELLO state),
 *       {@link io.reflex.dataplane.dpdk.DpdkServer} (EAL, port, pools, engine, tenants), {@link io.reflex.dataplane.dpdk.DpdkMain}
 *       ({@code reflex-dataplane --net dpdk}).</li>
 * </ul>
 *
 * <h2>rte_eth_fp_ops, not a C shim</h2>
 * {@code rte_eth_rx_burst}/{@code rte_eth_tx_burst} are header inlines. They read the exported table
 * {@code rte_eth_fp_ops[port]} (part of the public ABI since 21.11, stable within ABI 23) and call the PMD's burst function
 * with the queue's private pointer; {@link io.reflex.dataplane.dpdk.FpOps} does exactly that, with the layout pinned to
 * 22.11 and checked against {@code rte_ethdev_core.h} by a test (the first run of that test caught a wrong offset).
 * A shim would need a C toolchain in the Maven build and a native library shipped in the agent image, matched to the
 * same ABI anyway; the table costs neither and is one indirect call, like the inline. What the inline adds and we leave
 * out: debug-build checks and user RX/TX callbacks, which we never install ({@code FpOps.rx} refuses a queue that has
 * some). The other inlines are avoided rather than bound: the engine never allocates an mbuf (a reply is built in
 * place in its request's mbuf; PMDs allocate RX buffers themselves) and frees through the exported
 * {@code rte_pktmbuf_free_bulk}.
 *
 * <h2>What a node needs (the node agent's part)</h2>
 * Hugepages on the NIC's NUMA node (2 MiB pages: mbufs × (MTU + 1 KiB) per queue, ~40 MiB per queue at MTU 9000, plus
 * ~64 MiB for EAL), a NIC bound to vfio-pci (or the kernel interface for net_af_packet/net_af_xdp, with no kernel
 * address on it), and EAL arguments naming them: {@code -a <BDF> --in-memory --lcores <the loops' CPUs>}. The node agent does this
 * ({@code --net dpdk}); its image ships the libraries and drivers, and {@link io.reflex.dataplane.dpdk.DpdkProbe} checks an
 * environment (the libraries load, the drivers the EAL loaded, the ports open).
 */
package io.reflex.dataplane.dpdk;

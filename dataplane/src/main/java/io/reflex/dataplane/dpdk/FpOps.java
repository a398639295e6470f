package io.reflex.dataplane.dpdk;

import static io.reflex.dataplane.dpdk.Native.ALL;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The fast-path table {@code rte_eth_fp_ops[RTE_MAX_ETHPORTS]} that DPDK's header inlines {@code rte_eth_rx_burst} and
 * {@code rte_eth_tx_burst} read (rte_ethdev_core.h line 80, DPDK 22.11; exported data symbol since 21.11, part of ABI 23):
 *
 * <pre>
 *   struct rte_eth_fp_ops {                       // __rte_cache_aligned, 128 bytes
 *     0 eth_rx_burst_t rx_pkt_burst;              // uint16_t (*)(void *rxq, struct rte_mbuf **pkts, uint16_t n)
 *     8 rx_queue_count, 16 rx_descriptor_status,
 *    24 struct rte_ethdev_qdata rxq;              // { void **data; void **clbk; }
 *    40 uintptr_t reserved1[3];
 *    64 eth_tx_burst_t tx_pkt_burst;              // uint16_t (*)(void *txq, struct rte_mbuf **pkts, uint16_t n)
 *    72 tx_pkt_prepare, 80 tx_descriptor_status,
 *    88 struct rte_ethdev_qdata txq;  104 uintptr_t reserved2[3];
 *   };
 * </pre>
 *
 * We call the PMD's burst function with the queue's data pointer exactly as the inline does. The inline also runs
 * user RX/TX callbacks when {@code rxq.clbk[q]} is set; we never install any, and {@link #rx} checks they are unset.
 * Layout and RTE_MAX_ETHPORTS are checked against the installed headers by {@code DpdkLayoutTest}. The entries are
 * valid only while the port is started (rte_eth_dev_start fills them, stop resets them to dummies).
 */
public final class FpOps {
    public static final int MAX_ETHPORTS = 32;
    public static final long SIZE = 128;
    public static final long RX_PKT_BURST = 0;
    public static final long RXQ_DATA = 24;
    public static final long RXQ_CLBK = 32;
    public static final long TX_PKT_BURST = 64;
    public static final long TXQ_DATA = 88;
    public static final long TXQ_CLBK = 96;

    /**
     * One handle for every PMD's burst function (target address first); pointers passed as 64-bit integers (same
     * registers as pointers on x86-64/AArch64). Critical: no thread-state transition around a call that never blocks
     * (af_packet's TX does one non-blocking sendto to kick the kernel).
     */
    private static final MethodHandle BURST = DpdkLib.LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_SHORT, JAVA_LONG, JAVA_LONG, JAVA_SHORT), Linker.Option.critical(false));

    private static final MemorySegment TABLE = DpdkLib.symbol("rte_eth_fp_ops").reinterpret(SIZE * MAX_ETHPORTS);

    /** A bound burst function: the PMD's entry point and its queue's private data. Made at port start (cold path). */
    public record Burst(MemorySegment function, long queueData) {
        /** Receives (or transmits) up to {@code n} mbufs whose pointers are at native address {@code pkts}. */
        public int call(long pkts, int n) {
            try {
                return Short.toUnsignedInt((short) BURST.invokeExact(function, queueData, pkts, (short) n));
            } catch (Throwable t) {
                throw DpdkLib.rethrow(t);
            }
        }
    }

    private FpOps() {}

    static long entry(int port) {
        if (port < 0 || port >= MAX_ETHPORTS) throw new IllegalArgumentException("port " + port + " out of range");
        return TABLE.address() + port * SIZE;
    }

    /** The RX burst of a started port's queue. */
    public static Burst rx(int port, int queue) {
        return bind(port, queue, RX_PKT_BURST, RXQ_DATA, RXQ_CLBK, "RX");
    }

    /** The TX burst of a started port's queue. */
    public static Burst tx(int port, int queue) {
        return bind(port, queue, TX_PKT_BURST, TXQ_DATA, TXQ_CLBK, "TX");
    }

    private static Burst bind(int port, int queue, long fnOffset, long dataOffset, long clbkOffset, String what) {
        long e = entry(port);
        long fn = ALL.get(JAVA_LONG, e + fnOffset);
        long data = ALL.get(JAVA_LONG, e + dataOffset);
        long clbk = ALL.get(JAVA_LONG, e + clbkOffset);
        if (fn == 0 || data == 0) throw new IllegalStateException(what + " burst of port " + port + " is not set up (port not started?)");
        long qd = ALL.get(JAVA_LONG, data + 8L * queue);
        if (qd == 0) throw new IllegalStateException(what + " queue " + queue + " of port " + port + " is not set up");
        if (clbk != 0 && ALL.get(JAVA_LONG, clbk + 8L * queue) != 0) {
            throw new IllegalStateException(what + " callbacks are installed on port " + port + " queue " + queue
                    + "; the dataplane calls the PMD directly and would skip them");
        }
        return new Burst(MemorySegment.ofAddress(fn), qd);
    }
}

package io.reflex.dataplane.dpdk;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** librte_ethdev's control functions (cold path) and the vdev/ring helpers the tests use to make ports. */
public final class EthDev {
    private static final MethodHandle COUNT_AVAIL = DpdkLib.downcall("rte_eth_dev_count_avail", FunctionDescriptor.of(JAVA_SHORT));
    private static final MethodHandle PORT_BY_NAME = DpdkLib.downcall("rte_eth_dev_get_port_by_name",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle INFO_GET = DpdkLib.downcall("rte_eth_dev_info_get", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle CONFIGURE = DpdkLib.downcall("rte_eth_dev_configure",
            FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle RX_QUEUE_SETUP = DpdkLib.downcall("rte_eth_rx_queue_setup",
            FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle TX_QUEUE_SETUP = DpdkLib.downcall("rte_eth_tx_queue_setup",
            FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_INT, ADDRESS));
    private static final MethodHandle START = DpdkLib.downcall("rte_eth_dev_start", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle STOP = DpdkLib.downcall("rte_eth_dev_stop", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle CLOSE = DpdkLib.downcall("rte_eth_dev_close", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle MAC_GET = DpdkLib.downcall("rte_eth_macaddr_get", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle LINK_GET = DpdkLib.downcall("rte_eth_link_get_nowait", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle STATS_GET = DpdkLib.downcall("rte_eth_stats_get", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle SET_MTU = DpdkLib.downcall("rte_eth_dev_set_mtu", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_SHORT));
    private static final MethodHandle GET_MTU = DpdkLib.downcall("rte_eth_dev_get_mtu", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle PROMISC = DpdkLib.downcall("rte_eth_promiscuous_enable", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle SOCKET_ID = DpdkLib.downcall("rte_eth_dev_socket_id", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle VDEV_INIT = DpdkLib.downcall("rte_vdev_init", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle RING_CREATE = DpdkLib.downcall("rte_ring_create",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FROM_RINGS = DpdkLib.downcall("rte_eth_from_rings",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));

    /** Device facts the engine decides on. */
    public record Info(String driver, int minMtu, int maxMtu, long maxRxPktLen, int maxRxQueues, int maxTxQueues,
                       long rxOffloadCapa, long txOffloadCapa, long rssOffloads) {}

    private EthDev() {}

    public static int countAvailable() {
        try {
            return Short.toUnsignedInt((short) COUNT_AVAIL.invokeExact());
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** The port id of a device by name (e.g. "net_af_packet0"), or -1. */
    public static int portByName(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(JAVA_SHORT);
            int rc = (int) PORT_BY_NAME.invokeExact(a.allocateFrom(name), id);
            return rc == 0 ? Short.toUnsignedInt(id.get(JAVA_SHORT, 0)) : -1;
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    public static Info info(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(EthDevInfo.ALLOC, 64);
            Eal.check((int) INFO_GET.invokeExact((short) port, s), "rte_eth_dev_info_get(" + port + ")");
            long name = s.get(JAVA_LONG, EthDevInfo.DRIVER_NAME);
            String driver = name == 0 ? "?" : MemorySegment.ofAddress(name).reinterpret(64).getString(0);
            return new Info(driver, Short.toUnsignedInt(s.get(JAVA_SHORT, EthDevInfo.MIN_MTU)),
                    Short.toUnsignedInt(s.get(JAVA_SHORT, EthDevInfo.MAX_MTU)), Integer.toUnsignedLong(s.get(JAVA_INT, EthDevInfo.MAX_RX_PKTLEN)),
                    Short.toUnsignedInt(s.get(JAVA_SHORT, EthDevInfo.MAX_RX_QUEUES)),
                    Short.toUnsignedInt(s.get(JAVA_SHORT, EthDevInfo.MAX_TX_QUEUES)),
                    s.get(JAVA_LONG, EthDevInfo.RX_OFFLOAD_CAPA), s.get(JAVA_LONG, EthDevInfo.TX_OFFLOAD_CAPA),
                    s.get(JAVA_LONG, EthDevInfo.FLOW_TYPE_RSS_OFFLOADS));
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /**
     * rte_eth_dev_configure with {@code queues} RX and TX queues, the MTU, RSS on addresses + UDP ports when there are
     * several queues and the device hashes, and the RX checksum offloads the device has.
     */
    public static void configure(int port, int queues, int mtu, long rssHf, long rxOffloads, long txOffloads) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment conf = a.allocate(EthConf.ALLOC, 64);
            conf.set(JAVA_INT, EthConf.RXMODE_MTU, mtu);
            conf.set(JAVA_LONG, EthConf.RXMODE_OFFLOADS, rxOffloads);
            conf.set(JAVA_LONG, EthConf.TXMODE_OFFLOADS, txOffloads);
            if (rssHf != 0) {
                conf.set(JAVA_INT, EthConf.RXMODE_MQ_MODE, EthConf.MQ_RX_RSS);
                conf.set(JAVA_LONG, EthConf.RSS_HF, rssHf); // rss_key NULL: the device's default key
            }
            Eal.check((int) CONFIGURE.invokeExact((short) port, (short) queues, (short) queues, conf),
                    "rte_eth_dev_configure(port " + port + ", " + queues + " queues, mtu " + mtu + ")");
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    public static void rxQueueSetup(int port, int queue, int descriptors, MemorySegment pool) {
        try {
            Eal.check((int) RX_QUEUE_SETUP.invokeExact((short) port, (short) queue, (short) descriptors, socket(port),
                    MemorySegment.NULL, pool), "rte_eth_rx_queue_setup(port " + port + ", queue " + queue + ")");
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    public static void txQueueSetup(int port, int queue, int descriptors) {
        try {
            Eal.check((int) TX_QUEUE_SETUP.invokeExact((short) port, (short) queue, (short) descriptors, socket(port),
                    MemorySegment.NULL), "rte_eth_tx_queue_setup(port " + port + ", queue " + queue + ")");
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    public static void start(int port) { call(START, port, "rte_eth_dev_start"); }

    public static void stop(int port) { call(STOP, port, "rte_eth_dev_stop"); }

    public static void close(int port) { call(CLOSE, port, "rte_eth_dev_close"); }

    public static void promiscuous(int port) { call(PROMISC, port, "rte_eth_promiscuous_enable"); }

    private static void call(MethodHandle mh, int port, String what) {
        try {
            Eal.check((int) mh.invokeExact((short) port), what + "(" + port + ")");
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** The port's MAC address as 6 bytes. */
    public static byte[] mac(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(8);
            Eal.check((int) MAC_GET.invokeExact((short) port, m), "rte_eth_macaddr_get(" + port + ")");
            return m.asSlice(0, 6).toArray(JAVA_BYTE);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** Link up? ({@code struct rte_eth_link}: u32 speed, then u16 bits duplex:1 autoneg:1 status:1.) */
    public static boolean linkUp(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment l = a.allocate(8, 8);
            Eal.check((int) LINK_GET.invokeExact((short) port, l), "rte_eth_link_get_nowait(" + port + ")");
            return (l.get(JAVA_SHORT, 4) & 0b100) != 0;
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    public static EthStats.Snapshot stats(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(EthStats.SIZE, 8);
            Eal.check((int) STATS_GET.invokeExact((short) port, s), "rte_eth_stats_get(" + port + ")");
            return new EthStats.Snapshot(s.get(JAVA_LONG, EthStats.IPACKETS), s.get(JAVA_LONG, EthStats.OPACKETS),
                    s.get(JAVA_LONG, EthStats.IBYTES), s.get(JAVA_LONG, EthStats.OBYTES), s.get(JAVA_LONG, EthStats.IMISSED),
                    s.get(JAVA_LONG, EthStats.IERRORS), s.get(JAVA_LONG, EthStats.OERRORS), s.get(JAVA_LONG, EthStats.RX_NOMBUF));
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** Sets the MTU; returns 0 or a negative errno (e.g. -EINVAL beyond the device's max, -ENOTSUP). */
    public static int setMtu(int port, int mtu) {
        try {
            return (int) SET_MTU.invokeExact((short) port, (short) mtu);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    public static int mtu(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(JAVA_SHORT);
            Eal.check((int) GET_MTU.invokeExact((short) port, m), "rte_eth_dev_get_mtu(" + port + ")");
            return Short.toUnsignedInt(m.get(JAVA_SHORT, 0));
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    private static int socket(int port) {
        try {
            int s = (int) SOCKET_ID.invokeExact((short) port);
            return s < 0 ? 0 : s;
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** Creates a virtual device at run time, e.g. ("net_null7", "size=64"); returns its port id. */
    public static int createVdev(String name, String args) {
        try (Arena a = Arena.ofConfined()) {
            Eal.check((int) VDEV_INIT.invokeExact(a.allocateFrom(name), a.allocateFrom(args)), "rte_vdev_init(" + name + ")");
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
        int port = portByName(name);
        if (port < 0) throw new IllegalStateException("vdev " + name + " created but has no ethdev port");
        return port;
    }

    /** An rte_ring of {@code count} (a power of two) pointers; returns its address. */
    public static MemorySegment ring(String name, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = (MemorySegment) RING_CREATE.invokeExact(a.allocateFrom(name), count, Mempools.ANY_SOCKET, 0);
            if (r.address() == 0) throw new IllegalStateException("rte_ring_create(" + name + ") failed");
            return r;
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /**
     * A net_ring port whose single RX queue dequeues from {@code rx} and whose TX queue enqueues to {@code tx}: two
     * such ports with the rings crossed are a cable between them, in process. The ethdev is named
     * {@code net_ring_<name>}. Returns the port id.
     */
    public static int fromRings(String name, MemorySegment rx, MemorySegment tx) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment rxs = a.allocate(ADDRESS);
            MemorySegment txs = a.allocate(ADDRESS);
            rxs.set(ADDRESS, 0, rx);
            txs.set(ADDRESS, 0, tx);
            return Eal.check((int) FROM_RINGS.invokeExact(a.allocateFrom(name), rxs, 1, txs, 1, 0), "rte_eth_from_rings(" + name + ")");
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }
}

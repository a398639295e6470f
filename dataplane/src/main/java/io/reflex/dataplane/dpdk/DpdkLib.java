package io.reflex.dataplane.dpdk;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Loads Debian's DPDK 22.11 shared libraries (ABI 23) and finds their exported functions. Nothing here is on the packet
 * path: downcall handles are made once, at class initialisation of the binding classes.
 *
 * <p>When the libraries are absent ({@code apt-get install dpdk}) {@link #available()} is false and {@link #reason()}
 * says why; the binding classes must then not be initialised (tests skip on it).
 */
public final class DpdkLib {
    /** 22.11 LTS: every librte_*.so.23 shares this ABI; the fp_ops and mbuf layouts in this package are pinned to it. */
    public static final String ABI = "23";
    private static final String[] LIBS = {"librte_eal", "librte_mempool", "librte_mbuf", "librte_ethdev", "librte_ring",
            "librte_bus_vdev", "librte_net_ring"};

    static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP;
    private static final String REASON;

    static {
        SymbolLookup lookup = null;
        String reason = null;
        try {
            for (String lib : LIBS) {
                SymbolLookup l = SymbolLookup.libraryLookup(lib + ".so." + ABI, Arena.global());
                lookup = lookup == null ? l : lookup.or(l);
            }
        } catch (IllegalArgumentException e) {
            lookup = null;
            reason = "DPDK 22.11 libraries not found (" + e.getMessage() + "); install Debian's dpdk package";
        }
        LOOKUP = lookup;
        REASON = reason;
    }

    private DpdkLib() {}

    /** Whether librte_eal.so.23 and friends load on this machine. */
    public static boolean available() { return LOOKUP != null; }

    /** Why {@link #available()} is false, or null. */
    public static String reason() { return REASON; }

    static MemorySegment symbol(String name) {
        if (LOOKUP == null) throw new IllegalStateException(REASON);
        Optional<MemorySegment> s = LOOKUP.find(name);
        return s.orElseThrow(() -> new IllegalStateException("DPDK symbol " + name + " not found (not DPDK 22.11?)"));
    }

    static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(symbol(name), fd, options);
    }

    /** Rethrows what an invokeExact threw, unchecked. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}

package io.reflex.dataplane.dpdk;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * DPDK's Environment Abstraction Layer: initialised once per process (DPDK cannot re-initialise after cleanup), so this
 * is a process-wide singleton. Cold path only.
 */
public final class Eal {
    private static final MethodHandle INIT = DpdkLib.downcall("rte_eal_init", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle CLEANUP = DpdkLib.downcall("rte_eal_cleanup", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle THREAD_REGISTER = DpdkLib.downcall("rte_thread_register", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle THREAD_UNREGISTER = DpdkLib.downcall("rte_thread_unregister", FunctionDescriptor.ofVoid());
    private static final MethodHandle STRERROR = DpdkLib.downcall("rte_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static List<String> initArgs;

    private Eal() {}

    /**
     * Initialises the EAL with {@code args} (without the program name), or checks that it already was with the same
     * arguments. EAL pins the calling thread to its main lcore's CPU set; give {@code --lcores 0@(0-N)} to keep it free.
     *
     * @throws IllegalStateException when rte_eal_init fails (EAL prints the cause to stderr) or when it was
     *                               initialised before with different arguments
     */
    public static synchronized void init(List<String> args) {
        if (initArgs != null) {
            if (!initArgs.equals(args)) {
                throw new IllegalStateException("EAL already initialised with " + initArgs + "; cannot re-initialise with " + args);
            }
            return;
        }
        List<String> argv = new ArrayList<>();
        argv.add("reflex-dataplane");
        argv.addAll(args);
        Arena arena = Arena.global(); // EAL keeps pointers into argv
        MemorySegment array = arena.allocate(ADDRESS, argv.size() + 1);
        for (int i = 0; i < argv.size(); i++) array.setAtIndex(ADDRESS, i, arena.allocateFrom(argv.get(i)));
        int rc;
        try {
            rc = (int) INIT.invokeExact(argv.size(), array);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
        if (rc < 0) throw new IllegalStateException("rte_eal_init failed for " + args + " (EAL's message is on stderr)");
        initArgs = List.copyOf(args);
    }

    public static synchronized boolean initialised() { return initArgs != null; }

    /** Releases EAL resources at process exit; the EAL cannot be initialised again afterwards. */
    public static synchronized void cleanup() {
        if (initArgs == null) return;
        try {
            int rc = (int) CLEANUP.invokeExact();
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /**
     * Gives the calling (non-EAL) thread an lcore id, so mempool per-lcore caches serve it instead of the shared ring.
     * Returns false when no lcore id is free (it still works, uncached).
     */
    public static boolean registerThread() {
        try {
            return (int) THREAD_REGISTER.invokeExact() == 0;
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    public static void unregisterThread() {
        try {
            THREAD_UNREGISTER.invokeExact();
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** DPDK's text for a (positive) errno value; return codes of rte_eth_* are negative errno. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(Math.abs(errno));
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw DpdkLib.rethrow(t);
        }
    }

    /** Throws with {@code what} and DPDK's text when {@code rc} is negative; returns rc. */
    static int check(int rc, String what) {
        if (rc < 0) throw new IllegalStateException(what + " failed: " + strerror(rc) + " (" + rc + ")");
        return rc;
    }
}

package io.reflex.client.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Thread CPU affinity (sched_setaffinity via FFM): the dataplane pins one loop per core, as ReFlex does, and reflex-bench
 * its load threads ({@code --cpus}).
 */
public final class Affinity {
    private static final MethodHandle SCHED_SETAFFINITY = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle SCHED_GETAFFINITY = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("sched_getaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle GETTID = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("gettid").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final int MASK_BYTES = 128; // cpu_set_t: 1024 CPUs
    /** Taken once, before {@link Housekeeping} narrows threads: what later probes (a second device's layout) must see. */
    private static final java.util.List<Integer> PROCESS = threadMask();

    private Affinity() {}

    /**
     * The CPUs this process may run on (sched_getaffinity when first asked: taskset, the cgroup's cpuset and Kubernetes'
     * CPU manager all show there), ascending; empty if the kernel does not say.
     */
    public static java.util.List<Integer> allowed() {
        return PROCESS;
    }

    private static java.util.List<Integer> threadMask() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            if ((int) SCHED_GETAFFINITY.invokeExact(0, (long) MASK_BYTES, mask) != 0) return java.util.List.of();
            java.util.List<Integer> cpus = new java.util.ArrayList<>();
            for (int cpu = 0; cpu < MASK_BYTES * 8; cpu++) {
                if ((mask.get(ValueLayout.JAVA_BYTE, cpu / 8) & (1 << (cpu % 8))) != 0) cpus.add(cpu);
            }
            return java.util.List.copyOf(cpus);
        } catch (Throwable t) {
            return java.util.List.of();
        }
    }

    /** Pin the current thread to {@code cpu}; returns false (and the thread stays unpinned) if the kernel refuses. */
    public static boolean pinCurrentThread(int cpu) {
        return cpu >= 0 && cpu < MASK_BYTES * 8 && set(0, java.util.List.of(cpu));
    }

    /** Restrict thread {@code tid} of this process (0: the caller) to {@code cpus}; false if the kernel refuses. */
    public static boolean set(int tid, java.util.List<Integer> cpus) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            for (int cpu : cpus) {
                if (cpu < 0 || cpu >= MASK_BYTES * 8) return false;
                mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (mask.get(ValueLayout.JAVA_BYTE, cpu / 8) | (1 << (cpu % 8))));
            }
            return (int) SCHED_SETAFFINITY.invokeExact(tid, (long) MASK_BYTES, mask) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The calling thread's kernel id, or -1. */
    public static int currentTid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }
}

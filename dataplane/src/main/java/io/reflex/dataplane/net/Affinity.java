package io.reflex.dataplane.net;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Pins the calling thread to one CPU (sched_setaffinity via FFM), as ReFlex runs one dataplane thread per core. */
final class Affinity {
    private static final MethodHandle SCHED_SETAFFINITY = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final int MASK_BYTES = 128; // cpu_set_t: 1024 CPUs

    private Affinity() {}

    /** Pin the current thread to {@code cpu}; returns false (and the thread stays unpinned) if the kernel refuses. */
    static boolean pinCurrentThread(int cpu) {
        if (cpu < 0 || cpu >= MASK_BYTES * 8) return false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            return (int) SCHED_SETAFFINITY.invokeExact(0, (long) MASK_BYTES, mask) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}

package io.reflex.client.cpu;

import io.reflex.client.HostCpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps the JVM's JIT compiler threads off the CPUs the pinned loops poll, as ReFlex/IX and DPDK keep housekeeping off
 * their data cores (the dataplane's loops; reflex-bench's load threads with {@code --cpus}). A loop that polls with
 * {@code yield} gives its CPU to any runnable thread, so a C2 compile landing there costs the loop whole scheduler
 * slices: on this VM the LC tenant's p95 missed its SLO in the first minutes after a fresh agent started, while its JIT
 * was busy on the data path's vCPU.
 *
 * <p>Only the compilers: they are the heavy work that runs beside the loops. The 30-minute soak moved every other
 * thread too, and on its 2 vCPUs that backfired where the other CPU was busy (the API server, etcd, a restarting
 * operator): the agent's Lease renewals, now queued there, took 10 s and it fenced itself twice, and a full GC whose
 * workers waited for that CPU stopped the loop for 560 ms. Control threads are light and need to be timely, and GC
 * pauses stop the loops wherever the GC runs, so both stay free to use the loops' CPUs, which a yielding loop hands over.
 *
 * <p>Cold path. The JVM starts further compiler threads from a compiler thread, so they inherit its mask: one pass
 * after the loops start covers them. When the loops' CPUs are all the process has, nothing changes.
 */
public final class Housekeeping {
    private static final Set<Integer> LOOP_TIDS = new HashSet<>();
    private static final Set<Integer> LOOP_CPUS = new TreeSet<>();

    private Housekeeping() {}

    /** A loop thread pins itself to {@code cpu}, registered so that {@link #apply} never moves it. */
    public static synchronized boolean pinLoopThread(int cpu) {
        int tid = Affinity.currentTid();
        if (tid > 0) LOOP_TIDS.add(tid);
        boolean pinned = Affinity.pinCurrentThread(cpu);
        if (pinned) LOOP_CPUS.add(cpu);
        return pinned;
    }

    /** A loop thread ending: its id may be reused by a later thread. */
    public static synchronized void loopEnded() {
        LOOP_TIDS.remove(Affinity.currentTid());
    }

    /**
     * Restrict this process's JIT compiler threads to the process's CPUs minus {@code loopCpus} (and those of loops
     * already pinned). Returns what it did, for the start-up log; does nothing when no CPU would be left.
     */
    public static synchronized String apply(List<Integer> loopCpus) {
        Set<Integer> data = new TreeSet<>(LOOP_CPUS);
        data.addAll(loopCpus);
        List<Integer> others = others(Affinity.allowed(), data);
        if (data.isEmpty()) return "housekeeping: loops unpinned, threads unrestricted";
        if (others.isEmpty()) {
            return "housekeeping: shares CPUs " + HostCpus.formatCpus(List.copyOf(data)) + " with the loops (no other CPU allowed)";
        }
        int moved = 0, failed = 0;
        for (int tid : threadIds()) {
            if (LOOP_TIDS.contains(tid) || !isCompiler(threadName(tid))) continue;
            if (Affinity.set(tid, others)) moved++;
            else failed++; // the thread ended meanwhile, or the kernel refused: it keeps its mask
        }
        return "housekeeping: " + moved + " JIT compiler threads on CPUs " + HostCpus.formatCpus(others)
                + ", off the loops' " + HostCpus.formatCpus(List.copyOf(data)) + (failed > 0 ? " (" + failed + " not moved)" : "")
                + "; GC and control threads may use every CPU";
    }

    /** HotSpot's compiler threads, as the kernel names them (15 characters): {@code C2 CompilerThre}, {@code C1 CompilerThre}. */
    public static boolean isCompiler(String threadName) {
        return threadName.startsWith("C1 CompilerThre") || threadName.startsWith("C2 CompilerThre");
    }

    /**
     * Where each thread of process {@code pid} may run: "name/tid" to its {@code Cpus_allowed_list}, from /proc (for
     * diagnostics and the tests that check what {@link #apply} did); threads that end meanwhile are left out.
     */
    public static Map<String, String> threadMasks(long pid) throws IOException {
        Map<String, String> masks = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String name = Files.readString(t.resolve("comm")).trim();
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("Cpus_allowed_list:")) masks.put(name + "/" + t.getFileName(), line.substring(18).trim());
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return masks;
    }

    private static String threadName(int tid) {
        try {
            return Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).trim();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** {@code process} minus {@code data}, ascending. */
    public static List<Integer> others(List<Integer> process, Set<Integer> data) {
        List<Integer> others = new ArrayList<>();
        for (int c : process) if (!data.contains(c)) others.add(c);
        return others;
    }

    private static List<Integer> threadIds() {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Integer::parseInt).toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}

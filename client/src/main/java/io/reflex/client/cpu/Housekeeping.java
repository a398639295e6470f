package io.reflex.client.cpu;

import io.reflex.client.HostCpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps the JVM's other threads — JIT compilers, GC workers, the control plane — off the CPUs the pinned loops poll,
 * as ReFlex/IX and DPDK keep housekeeping off their data cores (the dataplane's loops; reflex-bench's load threads with
 * {@code --cpus}). A loop that polls with {@code yield} gives its CPU to
 * any runnable thread, so a C2 compile landing there costs the loop whole scheduler slices: on this VM the LC tenant's
 * p95 missed its SLO in the first minutes after a fresh agent started, while its JIT was busy on the data path's vCPU.
 *
 * <p>Cold path. Threads created later inherit their creator's mask, so one pass after the loops start covers the JIT
 * and GC threads the JVM adds later too. When the loops' CPUs are all the process has, nothing changes.
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
     * Restrict every thread of this process but the loops to the process's CPUs minus {@code loopCpus} (and those of
     * loops already pinned). Returns what it did, for the start-up log; does nothing when no CPU would be left.
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
            if (LOOP_TIDS.contains(tid)) continue;
            if (Affinity.set(tid, others)) moved++;
            else failed++; // the thread ended meanwhile, or the kernel refused: it keeps its mask
        }
        return "housekeeping: " + moved + " JVM threads (JIT, GC, control) on CPUs " + HostCpus.formatCpus(others)
                + ", off the loops' " + HostCpus.formatCpus(List.copyOf(data)) + (failed > 0 ? " (" + failed + " not moved)" : "");
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

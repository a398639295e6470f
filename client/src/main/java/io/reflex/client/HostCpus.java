package io.reflex.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What this machine's CPUs look like to a process about to choose how to wait for work (the dataplane's layout, the
 * client's poll mode): which CPUs it may use, whether they are set aside, and how much of them other work uses right
 * now. A pure record, so the choices made from it are unit-testable; {@link #probe} reads the machine (cold path).
 *
 * <p>{@code allowed}: affinity (taskset, the cgroup's cpuset, Kubernetes' CPU manager all show there); {@code online}:
 * online CPU count; {@code isolated}: {@code isolcpus}; {@code quotaCpus}: CFS quota in CPUs (≤ 0: none); {@code load1}:
 * the 1-minute load average (context only); {@code othersBusy}: the share of the sampled CPUs' time that other work
 * used in a short sample (&lt; 0: unknown); {@code sampled}: those CPUs; {@code vm}: under a hypervisor.
 */
public record HostCpus(List<Integer> allowed, int online, List<Integer> isolated, double quotaCpus, double load1,
                       double othersBusy, List<Integer> sampled, boolean vm) {
    /**
     * Other work using less than this share of our CPUs leaves room to spin (yield). Same bound as the load-average
     * rule it replaces (load &lt; ¾ of our CPUs); on 2 CPUs it still allows one other spinning thread (50%: a
     * yield-polling server next to the client) plus some background.
     */
    public static final double ROOM = 0.75;
    /** How long {@link #probe} watches the CPUs: long enough for ~15 scheduler ticks per CPU, short for start-up. */
    public static final long SAMPLE_MILLIS = 150;

    /** This machine; samples {@code cpus} (null or empty: every allowed CPU) for {@link #SAMPLE_MILLIS}. */
    public static HostCpus probe(List<Integer> cpus) {
        return probe(null, cpus);
    }

    /**
     * As {@link #probe(List)}, with the CPUs this process may use given ({@code allowed}; null or empty: this thread's
     * affinity, from {@code /proc/thread-self/status}). The dataplane passes the process's CPUs as they were at start,
     * which a pinned or moved thread's own mask no longer shows.
     */
    public static HostCpus probe(List<Integer> allowed, List<Integer> cpus) {
        if (allowed == null || allowed.isEmpty()) {
            allowed = parseCpus(statusField(read("/proc/thread-self/status", ""), "Cpus_allowed_list:"));
        }
        int online = parseCpus(read("/sys/devices/system/cpu/online", "").trim()).size();
        if (online == 0) online = Runtime.getRuntime().availableProcessors();
        if (allowed.isEmpty()) allowed = range(online);
        List<Integer> sampled = cpus == null || cpus.isEmpty() ? allowed : cpus;
        return new HostCpus(allowed, online, parseCpus(read("/sys/devices/system/cpu/isolated", "").trim()), quota(), readLoad1(),
                sampleOthersBusy(sampled, SAMPLE_MILLIS), sampled, read("/proc/cpuinfo", "").contains(" hypervisor"));
    }

    /**
     * Whether other work leaves room to spin on {@code cpus} CPUs: the sampled share when known; else (no
     * {@code /proc/stat}) the load average, which also counts niced, SCHED_IDLE and I/O-waiting tasks.
     */
    public boolean room(int cpus) {
        return othersBusy >= 0 ? othersBusy < ROOM : load1 < ROOM * cpus;
    }

    /** The facts behind {@link #room}, for a printed reason: {@code others use 12% of CPUs 0-1, load 4.20}. */
    public String busyText() {
        String load = String.format(Locale.ROOT, "load %.2f", load1);
        return othersBusy < 0 ? load + ", CPU use unknown"
                : String.format(Locale.ROOT, "others use %.0f%% of CPUs %s, niced work not counted; %s", 100 * othersBusy,
                formatCpus(sampled), load);
    }

    // ---- the CPU-use sample --------------------------------------------------------------------------------------

    /**
     * The share of {@code cpus}' time that others used over {@code millis}: {@code /proc/stat} user + system + irq +
     * softirq + steal of those CPUs, less this process's own utime + stime ({@code /proc/self/stat}: a JVM at start
     * compiles on several threads). Not counted: nice (niced and SCHED_IDLE work gives way to us: CFS weights it to
     * almost nothing, and a yielding poller lets it run anyway), idle and iowait. &lt; 0 when unreadable.
     *
     * <p>Not PSI ({@code /proc/pressure/cpu}): it is system-wide, not per CPU, and counts niced tasks waiting for a CPU
     * as pressure, which is the false signal this sample exists to avoid.
     */
    static double sampleOthersBusy(List<Integer> cpus, long millis) {
        String before = read("/proc/stat", ""), selfBefore = read("/proc/self/stat", "");
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
        return othersBusy(before, read("/proc/stat", ""), ownTicks(read("/proc/self/stat", "")) - ownTicks(selfBefore), cpus);
    }

    /** {@link #sampleOthersBusy} from two {@code /proc/stat} texts and this process's ticks in between; &lt; 0: unknown. */
    static double othersBusy(String statBefore, String statAfter, long ownTicks, List<Integer> cpus) {
        long busy = 0, total = 0;
        for (int cpu : cpus) {
            long[] a = cpuLine(statBefore, cpu), b = cpuLine(statAfter, cpu);
            if (a == null || b == null) return -1;
            // user nice system idle iowait irq softirq steal (guest and guest_nice are already in user and nice)
            for (int i = 0; i < 8; i++) {
                long d = Math.max(0, b[i] - a[i]);
                total += d;
                if (i != 1 && i != 3 && i != 4) busy += d;
            }
        }
        if (total <= 0) return -1;
        return Math.clamp((double) (busy - Math.max(0, ownTicks)) / total, 0.0, 1.0);
    }

    /** The first eight counters of {@code cpuN} in a {@code /proc/stat} text, or null. */
    private static long[] cpuLine(String stat, int cpu) {
        String prefix = "cpu" + cpu + " ";
        for (String line : stat.split("\n")) {
            if (!line.startsWith(prefix)) continue;
            String[] f = line.trim().split("\\s+");
            if (f.length < 9) return null;
            long[] v = new long[8];
            try {
                for (int i = 0; i < 8; i++) v[i] = Long.parseLong(f[i + 1]);
            } catch (NumberFormatException e) {
                return null;
            }
            return v;
        }
        return null;
    }

    /** utime + stime (clock ticks, as {@code /proc/stat}) from a {@code /proc/PID/stat} text; 0 if unreadable. */
    static long ownTicks(String selfStat) {
        int paren = selfStat.lastIndexOf(')'); // the command name may hold spaces and parentheses
        if (paren < 0) return 0;
        String[] f = selfStat.substring(paren + 1).trim().split("\\s+");
        try {
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * A flag that takes {@code auto} or one of {@code type}'s constants, case-insensitive ({@code --poll}: the dataplane's
     * and the client's poll modes): null for auto. Throws IllegalArgumentException listing the choices.
     */
    public static <E extends Enum<E>> E parseAuto(String flag, Class<E> type, String value) {
        String v = value == null ? "" : value.trim();
        if (v.equalsIgnoreCase("auto")) return null;
        StringBuilder choices = new StringBuilder("auto");
        E[] constants = type.getEnumConstants();
        for (int i = 0; i < constants.length; i++) {
            E e = constants[i];
            if (e.name().equalsIgnoreCase(v)) return e;
            choices.append(i == constants.length - 1 ? " or " : ", ").append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(flag + " must be " + choices + ", got '" + value + "'");
    }

    // ---- CPU lists ------------------------------------------------------------------------------------------------

    /** Parses a cpuset list ({@code 0-3,8,10-11}; empty: none). Throws IllegalArgumentException naming the bad part. */
    public static List<Integer> parseCpus(String list) {
        TreeSet<Integer> cpus = new TreeSet<>();
        String s = list.trim();
        if (s.isEmpty()) return List.of();
        for (String part : s.split(",")) {
            String p = part.trim();
            try {
                int dash = p.indexOf('-');
                int lo = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
                int hi = dash < 0 ? lo : Integer.parseInt(p.substring(dash + 1).trim());
                if (lo < 0 || hi < lo || hi >= 1024) throw new NumberFormatException();
                for (int c = lo; c <= hi; c++) cpus.add(c);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list '" + list + "': '" + p + "' is not a CPU or range (e.g. 0-3,6)");
            }
        }
        return List.copyOf(cpus);
    }

    /**
     * Refuses ({@code --cpus}, IllegalArgumentException) a CPU that is not in {@code allowed}, the CPUs this process may
     * use; an empty {@code allowed} (the kernel did not say) refuses nothing.
     */
    public static void requireAllowed(List<Integer> cpus, List<Integer> allowed) {
        if (allowed.isEmpty()) return;
        for (int c : cpus) {
            if (!allowed.contains(c)) {
                throw new IllegalArgumentException("--cpus: CPU " + c + " is not among the CPUs this process may use ("
                        + formatCpus(allowed) + ")");
            }
        }
    }

    /** The compact cpuset form of {@code cpus} ({@code 0-3,6}). */
    public static String formatCpus(List<Integer> cpus) {
        StringBuilder b = new StringBuilder();
        List<Integer> sorted = List.copyOf(new TreeSet<>(cpus));
        for (int i = 0; i < sorted.size(); ) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) j++;
            if (!b.isEmpty()) b.append(',');
            b.append(sorted.get(i));
            if (j > i) b.append('-').append(sorted.get(j));
            i = j + 1;
        }
        return b.toString();
    }

    // ---- probes (best effort: unknown facts change nothing) -------------------------------------------------------

    private static List<Integer> range(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(i);
        return l;
    }

    private static String read(String path, String fallback) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }

    private static String statusField(String status, String name) {
        for (String line : status.split("\n")) if (line.startsWith(name)) return line.substring(name.length()).trim();
        return "";
    }

    private static double readLoad1() {
        try {
            return Double.parseDouble(read("/proc/loadavg", "0").trim().split("\\s+")[0]);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** CFS quota in CPUs: cgroup v2 {@code cpu.max}, else v1 {@code cpu.cfs_quota_us / cpu.cfs_period_us}; ≤ 0: none. */
    private static double quota() {
        try {
            String v2 = read("/sys/fs/cgroup/cpu.max", "").trim();
            if (!v2.isEmpty()) {
                String[] q = v2.split("\\s+");
                return q[0].equals("max") ? 0 : Double.parseDouble(q[0]) / Double.parseDouble(q[1]);
            }
            String q = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "").trim();
            String p = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "").trim();
            if (q.isEmpty() || p.isEmpty() || q.startsWith("-")) return 0;
            return Double.parseDouble(q) / Double.parseDouble(p);
        } catch (RuntimeException e) {
            return 0;
        }
    }
}

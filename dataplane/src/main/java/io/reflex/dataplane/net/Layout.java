package io.reflex.dataplane.net;

import io.reflex.client.HostCpus;
import io.reflex.client.cpu.Affinity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The dataplane's own choice of threads, pinning, polling and submit batching, from the CPUs it may use, whether they
 * are shared with other work, and the device; every explicit setting wins. Cold path, at start.
 *
 * <p>Rules (each choice carries its reason, printed at start):
 * <ul>
 *   <li><b>CPUs</b>: {@code --cpus LIST} (cpuset list form, e.g. {@code 2-3,6}; what the node agent passes), else this
 *       process's affinity (taskset, the cgroup's cpuset and the kubelet's CPU manager all show there).
 *   <li><b>Dedicated or shared</b>: dedicated when every CPU is isolated ({@code /sys/devices/system/cpu/isolated}), or
 *       the CPUs are a strict subset of the online ones (someone carved them out for us) and no CFS quota caps us below
 *       them; otherwise shared.
 *   <li><b>Threads</b>: dedicated: one loop per CPU (ReFlex); shared: one per four CPUs, at least one.
 *   <li><b>Pinning</b>: dedicated or {@code --cpus} given: loop i on the i-th CPU. Shared, one loop: on the CPU the device's completion
 *       interrupts go to when that is one of ours (no cross-CPU wake-up per completion; on this VM the disk's IRQ CPU
 *       is also the one away from the host's disk emulation); else unpinned.
 *   <li><b>Polling</b>: dedicated: busy. Shared: yield (spin, but give the CPU to any runnable thread on every empty
 *       pass) in a VM — whose idle vCPUs halt and cost ~50 µs to wake — while other work leaves room (uses under ¾ of
 *       our CPUs' time in a 150 ms sample at start, {@link HostCpus#room}; niced and SCHED_IDLE work does not count:
 *       it gives way to us, though it inflates the load average); else adaptive.
 *   <li><b>Submit batch</b>: {@link DataplaneLoop#DEFAULT_SUBMIT_BATCH} (the best measured on a virtio disk).
 * </ul>
 */
public record Layout(int threads, List<Integer> pins, PollMode poll, int submitBatch, List<String> reasons) {
    /** Pinning asked for on the command line. */
    public enum Pin { AUTO, YES, NO }

    /** What the caller fixed (null / 0 / AUTO: choose). */
    public record Request(List<Integer> cpus, int threads, Pin pin, PollMode poll, int submitBatch, Path device) {}

    /**
     * What the machine says: its CPUs ({@link HostCpus}: affinity, online count, isolation, quota, what other work uses
     * of them, VM or not) and {@code deviceIrqCpus}, the CPUs the device's completion interrupts are delivered to
     * (empty: unknown).
     */
    public record Facts(HostCpus host, List<Integer> deviceIrqCpus) {
        /** This machine, for {@code device} (null: none), sampling every CPU we may use. */
        public static Facts probe(Path device) {
            return probe(device, null);
        }

        /** This machine, for {@code device} (null: none); samples {@code cpus} (null: every CPU we may use; {@code --cpus}). */
        public static Facts probe(Path device, List<Integer> cpus) {
            // The process's CPUs as the kernel gave them at start, not this thread's own mask (which may be a pinned one's).
            return new Facts(HostCpus.probe(Affinity.allowed(), cpus), Layout.deviceIrqCpus(device));
        }

        public List<Integer> allowed() {
            return host.allowed();
        }

        public int online() {
            return host.online();
        }

        public List<Integer> isolated() {
            return host.isolated();
        }

        public double quotaCpus() {
            return host.quotaCpus();
        }

        public boolean vm() {
            return host.vm();
        }
    }

    /** Choose, explaining each choice. Throws IllegalArgumentException for CPUs this process may not use. */
    public static Layout choose(Request r, Facts f) {
        List<String> why = new ArrayList<>();
        List<Integer> cpus;
        boolean explicit = r.cpus() != null && !r.cpus().isEmpty();
        if (explicit) {
            HostCpus.requireAllowed(r.cpus(), f.allowed());
            cpus = List.copyOf(new TreeSet<>(r.cpus()));
            why.add("CPUs " + formatCpus(cpus) + " (--cpus)");
        } else {
            cpus = f.allowed();
            why.add("CPUs " + formatCpus(cpus) + " (this process's affinity)");
        }
        boolean isolated = !f.isolated().isEmpty() && f.isolated().containsAll(cpus);
        boolean carved = cpus.size() < f.online() && (f.quotaCpus() <= 0 || f.quotaCpus() >= cpus.size());
        boolean dedicated = isolated || carved;
        why.add(dedicated ? (isolated ? "dedicated: isolated CPUs" : "dedicated: " + cpus.size() + " of " + f.online()
                + " online CPUs set aside") : "shared: " + (f.quotaCpus() > 0 ? "a CPU quota of " + f.quotaCpus()
                + " caps us" : "all " + f.online() + " online CPUs, other work runs there too"));

        int threads = r.threads() > 0 ? r.threads() : dedicated ? cpus.size() : Math.max(1, cpus.size() / 4);
        threads = Math.min(threads, 64);
        why.add(threads + " loop thread(s)" + (r.threads() > 0 ? " (--threads)" : dedicated ? ": one per CPU" : ": one per four shared CPUs"));

        List<Integer> irq = f.deviceIrqCpus().stream().filter(cpus::contains).toList();
        List<Integer> pins = new ArrayList<>();
        switch (r.pin() == null ? Pin.AUTO : r.pin()) {
            case NO -> why.add("unpinned (--pin no)");
            case YES -> {
                for (int i = 0; i < threads; i++) pins.add(cpus.get(i % cpus.size()));
                why.add("pinned to " + pins + " (--pin yes)");
            }
            case AUTO -> {
                if (dedicated || explicit) {
                    for (int i = 0; i < threads; i++) pins.add(cpus.get(i % cpus.size()));
                    why.add("pinned to " + pins + (dedicated ? ": dedicated CPUs" : ": --cpus given"));
                } else if (threads == 1 && irq.size() == 1) {
                    pins.add(irq.get(0));
                    why.add("pinned to CPU " + irq.get(0) + ": the device's completion interrupts arrive there");
                } else {
                    why.add("unpinned: shared CPUs" + (f.deviceIrqCpus().isEmpty() ? "" : ", device interrupts on " + formatCpus(f.deviceIrqCpus())));
                }
            }
        }

        PollMode poll;
        if (r.poll() != null) {
            poll = r.poll();
            why.add("poll " + name(poll) + " (--poll)");
        } else if (dedicated) {
            poll = PollMode.BUSY;
            why.add("poll busy: dedicated CPUs");
        } else if (f.vm() && f.host().room(cpus.size())) {
            poll = PollMode.YIELD;
            why.add("poll yield: a VM (an idle vCPU halts, waking it costs ~50 µs) with room (" + f.host().busyText()
                    + "); spinning gives way to any runnable thread");
        } else {
            poll = PollMode.ADAPTIVE;
            why.add("poll adaptive: shared CPUs (" + (f.vm() ? "VM, no room: " : "bare metal: ") + f.host().busyText() + ")");
        }
        int batch = r.submitBatch() > 0 ? r.submitBatch() : DataplaneLoop.DEFAULT_SUBMIT_BATCH;
        why.add("submit batch " + batch + (r.submitBatch() > 0 ? " (--submit-batch)" : ""));
        return new Layout(threads, List.copyOf(pins), poll, batch, List.copyOf(why));
    }

    /** One line: what was chosen and why. */
    public String describe() {
        return String.join("; ", reasons);
    }

    private static String name(PollMode p) {
        return p.name().toLowerCase(Locale.ROOT);
    }

    // ---- "auto" settings, as the dataplane's and the node agent's command lines take them ---------------------------

    /** {@code --threads}: 1-64 loops, or {@code auto} (0: {@link #choose} decides). Throws IllegalArgumentException. */
    public static int parseThreads(String value) {
        String v = value == null ? "" : value.trim();
        if (v.equalsIgnoreCase("auto")) return 0;
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > 64) throw new IllegalArgumentException("--threads must be 1-64 or auto, got '" + value + "'");
        return n;
    }

    /** {@code --poll}: busy | yield | adaptive | block, or {@code auto} (null: {@link #choose} decides). Throws IllegalArgumentException. */
    public static PollMode parsePoll(String value) {
        return HostCpus.parseAuto("--poll", PollMode.class, value);
    }

    // ---- CPU lists ------------------------------------------------------------------------------------------------

    /** Parses a cpuset list ({@code 0-3,8,10-11}; empty: none). Throws IllegalArgumentException naming the bad part. */
    public static List<Integer> parseCpus(String list) {
        return HostCpus.parseCpus(list);
    }

    /** The compact cpuset form of {@code cpus} ({@code 0-3,6}). */
    public static String formatCpus(List<Integer> cpus) {
        return HostCpus.formatCpus(cpus);
    }

    // ---- probes (best effort: unknown facts change nothing) -------------------------------------------------------

    private static String read(String path, String fallback) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }

    /**
     * CPUs the completion interrupts of the block device holding {@code device} go to: the device's sysfs path
     * ({@code /sys/dev/block/MAJ:MIN}) names its driver instances (e.g. {@code virtio1}, {@code nvme0}); their lines in
     * {@code /proc/interrupts} give the IRQs, {@code /proc/irq/N/effective_affinity_list} the CPUs.
     */
    static List<Integer> deviceIrqCpus(Path device) {
        if (device == null) return List.of();
        try {
            Path p = device.toRealPath();
            boolean blockDevice = !Files.isRegularFile(p);
            long dev = ((Number) Files.getAttribute(p, blockDevice ? "unix:rdev" : "unix:dev")).longValue();
            long major = (dev >>> 8) & 0xfff, minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
            Path sys = Path.of("/sys/dev/block/" + major + ":" + minor).toRealPath();
            List<String> names = new ArrayList<>();
            for (Path q = sys; q != null && q.getFileName() != null; q = q.getParent()) {
                String n = q.getFileName().toString();
                if (n.matches("(virtio|nvme)\\d+")) names.add(n);
            }
            if (names.isEmpty()) return List.of();
            Map<Integer, Boolean> cpus = new LinkedHashMap<>();
            for (String line : Files.readAllLines(Path.of("/proc/interrupts"))) {
                String t = line.trim();
                int colon = t.indexOf(':');
                if (colon <= 0) continue;
                String irq = t.substring(0, colon);
                if (!irq.chars().allMatch(Character::isDigit)) continue;
                String action = t.substring(t.lastIndexOf(' ') + 1);
                boolean ours = names.stream().anyMatch(n -> action.startsWith(n + "-") || action.startsWith(n + "q"));
                if (!ours || action.endsWith("-config")) continue;
                for (int c : parseCpus(read("/proc/irq/" + irq + "/effective_affinity_list", ""))) cpus.put(c, true);
            }
            return List.copyOf(new TreeSet<>(cpus.keySet()));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}

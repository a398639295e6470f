package io.reflex.bench;

import io.reflex.client.HostCpus;
import io.reflex.client.PollMode;

import java.util.Locale;

/**
 * reflex-bench's own choice of how its load threads wait for replies ({@code --poll auto}, the default), from the same
 * machine facts as the dataplane's layout ({@link HostCpus}); {@code --poll} still overrides. Cold path, at start.
 *
 * <p>What limits an unflagged measurement on a shared VM: a client that blocks for each reply pays the halted vCPU's
 * wake-up (~50 µs at QD1, more than the server's own work), and one that spins without yielding takes the CPU the
 * server needs whenever the scheduler puts both on one vCPU. So:
 * <ul>
 *   <li>isolated CPUs ({@code isolcpus}): busy — nothing else runs there;
 *   <li>a VM with room (others use under ¾ of our CPUs, niced work not counted) and at least one CPU left for the
 *       server (load threads &lt; CPUs): yield — spin, but give the CPU to any runnable thread on every empty pass;
 *   <li>otherwise adaptive: spin briefly after each reply, then block — a busy machine or bare metal (cheap wake-ups).
 * </ul>
 */
public record ClientLayout(PollMode poll, String why) {
    /** {@code requested}: {@code --poll} (null: auto); {@code threads}: the load threads. */
    public static ClientLayout choose(PollMode requested, int threads, HostCpus f) {
        if (requested != null) return new ClientLayout(requested, "poll " + name(requested) + " (--poll)");
        int cpus = f.allowed().size();
        String on = threads + " load thread(s) on CPUs " + HostCpus.formatCpus(f.allowed());
        if (!f.isolated().isEmpty() && f.isolated().containsAll(f.allowed())) {
            return new ClientLayout(PollMode.BUSY, "poll busy: " + on + ", isolated");
        }
        if (!f.vm()) {
            return new ClientLayout(PollMode.ADAPTIVE, "poll adaptive: bare metal (wake-ups are cheap), " + on + "; " + f.busyText());
        }
        if (threads >= cpus) {
            return new ClientLayout(PollMode.ADAPTIVE, "poll adaptive: " + on + " would leave no CPU to a server here; " + f.busyText());
        }
        if (!f.room(cpus)) {
            return new ClientLayout(PollMode.ADAPTIVE, "poll adaptive: a VM without room (" + f.busyText() + "), " + on);
        }
        return new ClientLayout(PollMode.YIELD, "poll yield: a VM (blocking for a reply pays the halted vCPU's ~50 µs"
                + " wake-up) with room (" + f.busyText() + "), " + on + "; yielding gives way to a server on the same CPU");
    }

    /** {@code --poll}: auto (null) | busy | yield | adaptive | block. Throws IllegalArgumentException. */
    public static PollMode parsePoll(String value) {
        return HostCpus.parseAuto("--poll", PollMode.class, value);
    }

    private static String name(PollMode p) {
        return p.name().toLowerCase(Locale.ROOT);
    }
}

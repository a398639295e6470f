package io.reflex.dataplane.net;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A tenant's listening socket, polled by its home loop; new connections are placed on a loop by the server. With a
 * {@link TenantAdmission}, a tenant over its connect rate or at its connection cap is not accepted from: the listener
 * drops its interest (no wake-ups, no accepts) until its home loop re-arms it — when the bucket holds a token again,
 * or when one of the tenant's connections closes — and new connections wait in the kernel's backlog meanwhile.
 */
final class Acceptor {
    /** Pause messages per listener and reason: at most one a minute (a storm pauses it hundreds of times a second). */
    private static final long PAUSE_LOG_NANOS = 60_000_000_000L;

    private final DataplaneLoop loop;
    private final ServerSocketChannel server;
    private final int slot;
    private final ConnectionPlacement placement;
    /** Null: accept whatever comes (the NBD front-end's shared listener: tenants are known only after a handshake). */
    private final TenantAdmission admission;
    SelectionKey key;
    /** Why it is not accepting, or null while it is; since when, and (rate) until when. */
    private TenantAdmission.Reason pausedFor;
    private long pausedSince;
    long resumeAt;
    private long failures;
    private final long[] lastPauseLog = {Long.MIN_VALUE, Long.MIN_VALUE};
    private final long[] pausesSinceLog = new long[2];

    Acceptor(DataplaneLoop loop, ServerSocketChannel server, int slot, TenantAdmission admission, ConnectionPlacement placement) {
        this.loop = loop;
        this.server = server;
        this.slot = slot;
        this.admission = admission;
        this.placement = placement;
    }

    /**
     * Accept up to {@code max} pending connections, fewer when the tenant's admission allows fewer (more stay in the
     * backlog for the next pass); with none allowed, pause. False when accept failed, e.g. the process is out of file
     * descriptors: the caller backs off instead of retrying at once.
     */
    boolean accept(int max, long now) {
        int allowed = admission == null ? max : Math.min(max, admission.allowance(now));
        if (allowed == 0) { // ready, so a connection waits: the tenant is over a limit
            pause(now);
            return true;
        }
        try {
            SocketChannel ch;
            for (int i = 0; i < allowed && (ch = server.accept()) != null; i++) {
                if (admission != null) admission.accepted(now); // before placing: a failed adoption releases it
                placement.place(ch, slot, admission);
            }
            return true;
        } catch (IOException e) {
            // One line per failure burst: the loop retries about once a second while the condition lasts.
            if (failures++ % 60 == 0) System.err.println("accept failed on slot " + slot + " (" + failures + " so far): " + e.getMessage());
            return false;
        }
    }

    private void pause(long now) {
        TenantAdmission.Reason r = admission.blockedBy();
        pausedFor = r;
        pausedSince = now;
        admission.paused(r);
        key.interestOps(0);
        // At the cap, a close re-arms it (TenantAdmission#released, then belowCap on this loop).
        if (r == TenantAdmission.Reason.CONNECT_RATE) loop.resumeAt(this, admission.resumeAt(now));
        int i = r.ordinal();
        pausesSinceLog[i]++;
        if (now - lastPauseLog[i] >= PAUSE_LOG_NANOS || lastPauseLog[i] == Long.MIN_VALUE) {
            var l = admission.limits();
            loop.log("tenant " + admission.tenant + ": " + (r == TenantAdmission.Reason.CONNECT_RATE
                    ? "over its connect rate of " + java.math.BigDecimal.valueOf(l.maxConnectRate()).stripTrailingZeros().toPlainString()
                            + "/s (burst " + l.connectBurst() + ")"
                    : "at its cap of " + l.maxTenantConnections() + " open connections")
                    + ": not accepting for now, new connections wait in the kernel's backlog (" + pausesSinceLog[i]
                    + (pausesSinceLog[i] == 1 ? " pause" : " pauses") + " since the last message; reflex_tenant_accept_pauses_total)");
            lastPauseLog[i] = now;
            pausesSinceLog[i] = 0;
        }
    }

    /** Accept again if paused for {@code r} (a token accrued, or a connection closed); false if it was not. */
    boolean resume(TenantAdmission.Reason r, long now) {
        if (pausedFor != r) return false;
        admission.resumed(r, now - pausedSince);
        pausedFor = null;
        if (!key.isValid()) return false; // the tenant stopped listening meanwhile
        key.interestOps(SelectionKey.OP_ACCEPT);
        return true;
    }
}

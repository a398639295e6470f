package io.reflex.dataplane.net;

import java.nio.channels.SocketChannel;

/** Chooses the loop that serves a newly accepted connection of a tenant. */
@FunctionalInterface
public interface ConnectionPlacement {
    /** @param admission the tenant's admission the connection counts against (released when it ends), or null */
    void place(SocketChannel channel, int slot, TenantAdmission admission);
}

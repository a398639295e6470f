package io.reflex.dataplane.net;

import java.nio.channels.SocketChannel;

/** Chooses the loop that serves a newly accepted connection of a tenant. */
@FunctionalInterface
public interface ConnectionPlacement {
    void place(SocketChannel channel, int slot);
}

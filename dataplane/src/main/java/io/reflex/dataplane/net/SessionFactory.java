package io.reflex.dataplane.net;

import java.nio.channels.SocketChannel;

/** Creates the protocol session for an accepted connection (tenant null when the protocol names it later). */
@FunctionalInterface
interface SessionFactory {
    Session create(DataplaneLoop loop, SocketChannel channel, LoopTenant tenant);
}

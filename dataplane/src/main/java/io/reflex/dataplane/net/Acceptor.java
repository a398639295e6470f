package io.reflex.dataplane.net;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** A tenant's listening socket, polled by its home loop; new connections are placed on a loop by the server. */
final class Acceptor {
    private final ServerSocketChannel server;
    private final int slot;
    private final ConnectionPlacement placement;
    private long failures;

    Acceptor(ServerSocketChannel server, int slot, ConnectionPlacement placement) {
        this.server = server;
        this.slot = slot;
        this.placement = placement;
    }

    /**
     * Accept up to {@code max} pending connections (more stay in the backlog for the next pass). False when accept
     * failed, e.g. the process is out of file descriptors: the caller backs off instead of retrying at once.
     */
    boolean accept(int max) {
        try {
            SocketChannel ch;
            for (int i = 0; i < max && (ch = server.accept()) != null; i++) placement.place(ch, slot);
            return true;
        } catch (IOException e) {
            // One line per failure burst: the loop retries about once a second while the condition lasts.
            if (failures++ % 60 == 0) System.err.println("accept failed on slot " + slot + " (" + failures + " so far): " + e.getMessage());
            return false;
        }
    }
}

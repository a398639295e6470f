package io.reflex.dataplane.net;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** A tenant's listening socket, polled by its home loop; new connections are placed on a loop by the server. */
final class Acceptor {
    private final ServerSocketChannel server;
    private final int slot;
    private final ConnectionPlacement placement;

    Acceptor(ServerSocketChannel server, int slot, ConnectionPlacement placement) {
        this.server = server;
        this.slot = slot;
        this.placement = placement;
    }

    void accept() {
        try {
            SocketChannel ch;
            while ((ch = server.accept()) != null) placement.place(ch, slot);
        } catch (IOException e) {
            System.err.println("accept failed on slot " + slot + ": " + e.getMessage());
        }
    }
}

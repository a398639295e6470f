package io.reflex.dataplane.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

/**
 * The NBD front-end's one listening socket for all tenants. Polled by the first loop; accepted connections go to the
 * loops round-robin and bind to a tenant when their handshake names an export.
 */
public final class NbdListener implements AutoCloseable {
    private final ServerSocketChannel server;
    private final DataplaneLoop home;
    private final InetSocketAddress address;

    private NbdListener(ServerSocketChannel server, DataplaneLoop home) throws IOException {
        this.server = server;
        this.home = home;
        this.address = (InetSocketAddress) server.getLocalAddress();
    }

    public static NbdListener open(InetSocketAddress address, DataplaneLoop[] loops, boolean syncWrites) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(address, 1024);
            NbdListener l = new NbdListener(server, loops[0]);
            SessionFactory factory = (loop, ch, t) -> new NbdSession(loop, ch, syncWrites);
            int[] next = {0}; // touched only by the home loop's thread (it runs the acceptor)
            loops[0].listen(server, -1, (ch, slot, admission) -> { // one listener for every tenant: no per-tenant admission
                DataplaneLoop target = loops[next[0]];
                next[0] = (next[0] + 1) % loops.length;
                target.adopt(ch, -1, factory);
            });
            return l;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** The bound address (the real port when 0 was asked for). */
    public InetSocketAddress address() { return address; }

    @Override
    public void close() {
        home.unlisten(server);
    }
}

package io.reflex.agent.apiserver;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback TCP forwarder in front of the API server, for partitioning one agent from it without touching the
 * agent: the agent's kubeconfig points here ({@link #kubeconfig}). {@link #cut} closes every forwarded connection and
 * stops listening (new connections are refused, as from a node whose route to the control plane is gone);
 * {@link #restore} listens again on the same port. TLS passes through untouched (the API server's certificate names
 * 127.0.0.1, where this listens too).
 */
final class ApiProxy implements AutoCloseable {
  private static final Pattern SERVER = Pattern.compile("(server:\\s*https://)([^:/\\s]+):(\\d+)");

  private final InetSocketAddress target;
  private final int port;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private volatile ServerSocket server;
  private volatile boolean cut;

  /** Forwards to the API server named in {@code kubeconfig}. */
  static ApiProxy forKubeconfig(Path kubeconfig) throws IOException {
    Matcher m = SERVER.matcher(Files.readString(kubeconfig));
    if (!m.find()) throw new IllegalStateException("no https server in " + kubeconfig);
    return new ApiProxy(new InetSocketAddress(m.group(2), Integer.parseInt(m.group(3))));
  }

  ApiProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    this.port = s.getLocalPort();
    serve(s);
  }

  /** A copy of {@code kubeconfig} whose server is this proxy, written next to {@code dir}. */
  Path kubeconfig(Path kubeconfig, Path dir) throws IOException {
    String text = Files.readString(kubeconfig);
    Matcher m = SERVER.matcher(text);
    if (!m.find()) throw new IllegalStateException("no https server in " + kubeconfig);
    Path copy = dir.resolve("kubeconfig-via-proxy-" + port);
    Files.writeString(copy, m.replaceAll("$1" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + port));
    return copy;
  }

  /** Connections forwarded so far. */
  int accepted() {
    return accepted.get();
  }

  /** Partition: every forwarded connection closes, and nothing listens on the proxy's port until {@link #restore}. */
  synchronized void cut() throws IOException {
    cut = true;
    server.close();
    for (Socket s : open) closeQuietly(s);
    open.clear();
  }

  /** Heal: listen again on the same port. */
  synchronized void restore() throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
    cut = false;
    serve(s);
  }

  private void serve(ServerSocket s) {
    server = s;
    Thread.ofPlatform().daemon().name("api-proxy-" + port).start(() -> {
      while (!s.isClosed()) {
        Socket client;
        try {
          client = s.accept();
        } catch (IOException e) {
          return; // closed by cut() or close()
        }
        if (cut) {
          closeQuietly(client);
          continue;
        }
        Socket upstream = new Socket();
        try {
          upstream.connect(target, 5000);
        } catch (IOException e) {
          closeQuietly(client);
          closeQuietly(upstream);
          continue;
        }
        accepted.incrementAndGet();
        open.add(client);
        open.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      }
    });
  }

  private void pump(Socket from, Socket to) {
    Thread.ofVirtual().start(() -> {
      byte[] buf = new byte[64 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; (n = in.read(buf)) >= 0; ) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // either side closed: close both below
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        open.remove(from);
        open.remove(to);
      }
    });
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public synchronized void close() throws IOException {
    cut();
  }
}

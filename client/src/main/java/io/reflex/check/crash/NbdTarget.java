package io.reflex.check.crash;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A minimal NBD client (fixed newstyle, {@code NBD_OPT_GO}, simple replies) — just what the crash checker needs:
 * pipelined READ, WRITE (optionally with FUA) and FLUSH on one TCP connection. Requests are written under a lock
 * from any thread; one reader thread matches replies to requests by handle. The client module does not depend on
 * the dataplane, so the protocol constants are repeated here (NBD spec, docs/proto.md upstream).
 */
public final class NbdTarget implements BlockTarget {
  static final long NBDMAGIC = 0x4e42444d41474943L;
  static final long IHAVEOPT = 0x49484156454F5054L;
  static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
  static final int REQUEST_MAGIC = 0x25609513;
  static final int SIMPLE_REPLY_MAGIC = 0x67446698;
  static final int FLAG_FIXED_NEWSTYLE = 1;
  static final int FLAG_NO_ZEROES = 2;
  static final int OPT_GO = 7;
  static final int REP_ACK = 1;
  static final int REP_INFO = 3;
  static final int INFO_EXPORT = 0;
  static final int TFLAG_SEND_FLUSH = 1 << 2;
  static final int TFLAG_SEND_FUA = 1 << 3;
  static final int CMD_READ = 0;
  static final int CMD_WRITE = 1;
  static final int CMD_DISC = 2;
  static final int CMD_FLUSH = 3;
  static final int CMD_FLAG_FUA = 1;

  private record Pending(int type, int length, CompletableFuture<Object> future) {}

  private final Socket socket;
  private final String peer;
  private final DataOutputStream out;
  private final DataInputStream in;
  private final long sizeBytes;
  private final int transmissionFlags;
  private final Map<Long, Pending> outstanding = new ConcurrentHashMap<>();
  private final AtomicLong handles = new AtomicLong(1);
  private final Thread reader;
  private volatile boolean closed;
  private volatile String closeCause;

  private NbdTarget(Socket socket, String peer, DataInputStream in, DataOutputStream out, long sizeBytes, int flags) {
    this.socket = socket;
    this.peer = peer;
    this.in = in;
    this.out = out;
    this.sizeBytes = sizeBytes;
    this.transmissionFlags = flags;
    this.reader = Thread.ofPlatform().daemon().name("nbd-reader-" + peer).unstarted(this::readLoop);
  }

  /** Connects, negotiates export {@code export} with NBD_OPT_GO and starts the reply reader. */
  public static NbdTarget connect(String host, int port, String export, int timeoutMillis) throws IOException {
    String peer = host + ":" + port;
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(host, port), timeoutMillis);
      s.setSoTimeout(timeoutMillis); // handshake only
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 20));
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
      if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) throw new IOException(peer + " is not a newstyle NBD server");
      int hflags = in.readUnsignedShort();
      if ((hflags & FLAG_FIXED_NEWSTYLE) == 0) throw new IOException(peer + " does not offer fixed newstyle NBD");
      out.writeInt(FLAG_FIXED_NEWSTYLE | (hflags & FLAG_NO_ZEROES));
      byte[] name = export.getBytes(StandardCharsets.UTF_8);
      out.writeLong(IHAVEOPT);
      out.writeInt(OPT_GO);
      out.writeInt(4 + name.length + 2);
      out.writeInt(name.length);
      out.write(name);
      out.writeShort(0); // no information requests
      out.flush();
      long size = -1;
      int tflags = 0;
      while (true) {
        if (in.readLong() != OPTION_REPLY_MAGIC) throw new IOException(peer + ": bad NBD option reply magic");
        in.readInt(); // option
        int type = in.readInt();
        int len = in.readInt();
        if (len < 0 || len > (1 << 20)) throw new IOException(peer + ": NBD option reply of " + len + " bytes");
        byte[] data = new byte[len];
        in.readFully(data);
        if (type == REP_ACK) break;
        if ((type & 0x80000000) != 0) {
          throw new IOException("NBD server " + peer + " refused export '" + safeExport(export) + "': "
              + new String(data, StandardCharsets.UTF_8) + " (error 0x" + Integer.toHexString(type) + ")");
        }
        if (type == REP_INFO && len >= 12 && ((data[0] & 0xff) << 8 | data[1] & 0xff) == INFO_EXPORT) {
          java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data);
          size = b.getLong(2);
          tflags = b.getShort(10) & 0xFFFF;
        }
      }
      if (size < 0) throw new IOException(peer + ": NBD_OPT_GO ended without NBD_INFO_EXPORT");
      s.setSoTimeout(0);
      NbdTarget t = new NbdTarget(s, peer, in, out, size, tflags);
      t.reader.start();
      return t;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** Keeps a token out of messages: "tenant:TOKEN" → "tenant:…". */
  static String safeExport(String export) {
    int i = export.indexOf(':');
    return i < 0 ? export : export.substring(0, i) + ":…";
  }

  @Override
  public CompletableFuture<Void> write(long block, byte[] image, boolean fua) {
    if (fua && (transmissionFlags & TFLAG_SEND_FUA) == 0) throw new IllegalStateException(peer + " does not offer FUA");
    return send(CMD_WRITE, fua ? CMD_FLAG_FUA : 0, block * BlockImage.BLOCK, image.length, image).thenApply(x -> null);
  }

  @Override
  public CompletableFuture<byte[]> read(long block, int count) {
    return send(CMD_READ, 0, block * BlockImage.BLOCK, count * BlockImage.BLOCK, null).thenApply(x -> (byte[]) x);
  }

  @Override
  public CompletableFuture<Void> flush() {
    if ((transmissionFlags & TFLAG_SEND_FLUSH) == 0) throw new IllegalStateException(peer + " does not offer FLUSH");
    return send(CMD_FLUSH, 0, 0, 0, null).thenApply(x -> null);
  }

  @Override
  public long sizeBytes() { return sizeBytes; }

  @Override
  public boolean supportsFua() { return (transmissionFlags & TFLAG_SEND_FUA) != 0; }

  @Override
  public String describe() { return "nbd://" + peer; }

  private CompletableFuture<Object> send(int type, int flags, long offset, int length, byte[] data) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    long handle = handles.getAndIncrement();
    outstanding.put(handle, new Pending(type, length, f));
    if (closed) {
      fail(handle, null);
      return f;
    }
    try {
      synchronized (out) {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt(length);
        if (data != null) out.write(data);
        out.flush();
      }
    } catch (IOException e) {
      shutdown("send failed: " + e.getMessage());
    }
    return f;
  }

  private void readLoop() {
    String why = "server closed the connection";
    try {
      while (true) {
        int magic = in.readInt();
        int error = in.readInt();
        long handle = in.readLong();
        if (magic != SIMPLE_REPLY_MAGIC) {
          why = "bad NBD reply magic 0x" + Integer.toHexString(magic);
          break;
        }
        Pending p = outstanding.remove(handle);
        if (p == null) {
          why = "NBD reply for unknown handle " + handle;
          break;
        }
        if (error != 0) {
          p.future().completeExceptionally(new TargetErrorException(commandName(p.type()) + " failed: NBD error " + error, null));
          if (p.type() == CMD_READ) {
            why = "read error (a simple reply's payload is ambiguous after it)";
            break;
          }
          continue;
        }
        if (p.type() == CMD_READ) {
          byte[] b = new byte[p.length()];
          in.readFully(b);
          p.future().complete(b);
        } else {
          p.future().complete(null);
        }
      }
    } catch (EOFException e) {
      why = "server closed the connection";
    } catch (IOException e) {
      why = e.getMessage();
    }
    shutdown(why);
  }

  private void shutdown(String why) {
    synchronized (this) {
      if (closed) return;
      closeCause = why;
      closed = true;
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    for (Long h : outstanding.keySet()) fail(h, why);
  }

  private void fail(long handle, String why) {
    Pending p = outstanding.remove(handle);
    if (p != null) {
      String cause = why != null ? why : closeCause;
      p.future().completeExceptionally(new TargetClosedException(commandName(p.type()) + " failed: connection to " + peer
          + " closed before the reply (" + cause + ")", null));
    }
  }

  private static String commandName(int type) {
    return switch (type) {
      case CMD_READ -> "NBD_CMD_READ";
      case CMD_WRITE -> "NBD_CMD_WRITE";
      case CMD_FLUSH -> "NBD_CMD_FLUSH";
      default -> "NBD command " + type;
    };
  }

  @Override
  public void close() {
    if (!closed) {
      try {
        synchronized (out) {
          out.writeInt(REQUEST_MAGIC);
          out.writeShort(0);
          out.writeShort(CMD_DISC);
          out.writeLong(0);
          out.writeLong(0);
          out.writeInt(0);
          out.flush();
        }
      } catch (IOException ignored) {
        // the connection is gone already
      }
    }
    shutdown("client closed");
    try {
      reader.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

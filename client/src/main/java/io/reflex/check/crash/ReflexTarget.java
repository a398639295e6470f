package io.reflex.check.crash;

import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import io.reflex.client.ReflexConnection;
import io.reflex.client.ReflexException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** A ReFlex tenant through {@link ReflexClient}, always in extended mode (HELLO, statuses, FLUSH). */
public final class ReflexTarget implements BlockTarget {
  static final int SECTORS_PER_BLOCK = BlockImage.BLOCK / 512;

  private final ReflexClient client;

  private ReflexTarget(ReflexClient client) {
    this.client = client;
  }

  /** Connects and completes HELLO (with {@code token}, or none). */
  public static ReflexTarget connect(String host, int port, String token) throws IOException {
    ClientOptions o = ClientOptions.defaults().withExtended(true).withMaxInFlight(1024);
    if (token != null && !token.isEmpty()) o = o.withToken(token);
    return new ReflexTarget(ReflexClient.connect(host, port, o));
  }

  @Override
  public CompletableFuture<Void> write(long block, byte[] image, boolean fua) {
    return map(client.write(block * SECTORS_PER_BLOCK, ByteBuffer.wrap(image)));
  }

  @Override
  public CompletableFuture<byte[]> read(long block, int count) {
    return map(client.read(block * SECTORS_PER_BLOCK, count * SECTORS_PER_BLOCK)).thenApply(b -> {
      if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.remaining() == b.array().length) return b.array();
      byte[] out = new byte[b.remaining()];
      b.duplicate().get(out);
      return out;
    });
  }

  @Override
  public CompletableFuture<Void> flush() {
    return map(client.flush());
  }

  @Override
  public long sizeBytes() { return -1; }

  @Override
  public boolean supportsFua() { return false; }

  @Override
  public String describe() { return "reflex://" + client.peer(); }

  @Override
  public void close() {
    client.close();
  }

  /**
   * Maps the client's failures onto {@link TargetClosedException} / {@link TargetErrorException}. A request the
   * I/O thread could not put on the wire because the connection had just closed fails with an
   * IllegalStateException: that is a closed connection too.
   */
  private <T> CompletableFuture<T> map(CompletableFuture<T> f) {
    CompletableFuture<T> out = new CompletableFuture<>();
    f.whenComplete((v, e) -> {
      if (e == null) {
        out.complete(v);
        return;
      }
      Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      boolean closed = c instanceof ReflexException re ? re.status() == ReflexConnection.STATUS_CLOSED
          : c instanceof IllegalStateException && !client.isOpen();
      if (closed) {
        out.completeExceptionally(new TargetClosedException(c.getMessage(), c));
      } else {
        out.completeExceptionally(new TargetErrorException(c.getMessage(), c));
      }
    });
    return out;
  }
}

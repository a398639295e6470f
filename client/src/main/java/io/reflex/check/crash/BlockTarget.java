package io.reflex.check.crash;

import java.util.concurrent.CompletableFuture;

/**
 * Where the crash checker's blocks go: a ReFlex tenant ({@link ReflexTarget}) or an NBD export ({@link NbdTarget}).
 * Asynchronous and pipelined; every method may be called from any thread. Futures complete on the target's I/O
 * thread. A connection that closes fails every outstanding and later request with {@link TargetClosedException};
 * an error the server reports fails the request with {@link TargetErrorException}.
 */
public interface BlockTarget extends AutoCloseable {
  /** Writes one 4 KiB block ({@code image.length == 4096}) at 4 KiB block {@code block}; {@code fua}: NBD's FUA flag. */
  CompletableFuture<Void> write(long block, byte[] image, boolean fua);

  /** Reads {@code count} 4 KiB blocks from {@code block}. */
  CompletableFuture<byte[]> read(long block, int count);

  /** Completes once every write completed before it is durable (ReFlex FLUSH, NBD_CMD_FLUSH). */
  CompletableFuture<Void> flush();

  /** Bytes the target offers, or -1 when the protocol does not say (ReFlex). */
  long sizeBytes();

  /** Whether the protocol has a per-write FUA flag. */
  boolean supportsFua();

  String describe();

  @Override
  void close();

  /** The connection closed (the server died, or we closed it) before the reply. */
  final class TargetClosedException extends RuntimeException {
    public TargetClosedException(String message, Throwable cause) { super(message, cause); }
  }

  /** The server answered with an error. */
  final class TargetErrorException extends RuntimeException {
    public TargetErrorException(String message, Throwable cause) { super(message, cause); }
  }

  /** Whether {@code t} (possibly wrapped in a CompletionException) means the connection closed. */
  static boolean isClosed(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) if (c instanceof TargetClosedException) return true;
    return false;
  }
}

package io.reflex.check;

import io.reflex.client.ClientOptions;
import io.reflex.client.ReflexClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Writes blocks whose content is a function of (seed, block), reads them back and verifies every byte: how a tenant
 * pod (a Job with the tenant's Secret as environment) proves its remote flash works end to end, and how a restart or
 * upgrade test proves no acknowledged write was lost (write once, verify after).
 */
@Command(name = "reflex-check", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Write verifiable 4 KiB blocks to a ReFlex tenant and/or read them back and verify them.")
public final class ReflexCheck implements java.util.concurrent.Callable<Integer> {
  static final int BLOCK = 4096;

  @Option(names = "--host", defaultValue = "${env:REFLEX_HOST}", description = "Server host (env REFLEX_HOST, e.g. the Secret's host)")
  String host;

  @Option(names = "--port", defaultValue = "${env:REFLEX_PORT}", description = "Server port (env REFLEX_PORT)")
  Integer port;

  @Option(names = "--token", defaultValue = "${env:REFLEX_TOKEN}", description = "Tenant token (env REFLEX_TOKEN)")
  String token;

  @Option(names = "--token-file", description = "Read the token from this file (a mounted Secret key)")
  Path tokenFile;

  @Option(names = "--mode", defaultValue = "write-verify", description = "write | verify | write-verify (default: ${DEFAULT-VALUE})")
  String mode;

  @Option(names = "--blocks", defaultValue = "256", description = "4 KiB blocks from --first-block (default: ${DEFAULT-VALUE})")
  int blocks;

  @Option(names = "--first-block", defaultValue = "0", description = "First 4 KiB block (default: ${DEFAULT-VALUE})")
  long firstBlock;

  @Option(names = "--seed", defaultValue = "1", description = "Content seed: verify with the seed that was written (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--qd", defaultValue = "16", description = "Requests in flight (default: ${DEFAULT-VALUE})")
  int qd;

  public static void main(String... args) {
    System.exit(new CommandLine(new ReflexCheck()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (host == null || port == null) throw new CommandLine.ParameterException(new CommandLine(this), "--host and --port are required");
    if (!List.of("write", "verify", "write-verify").contains(mode)) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--mode must be write, verify or write-verify");
    }
    String t = tokenFile != null ? Files.readString(tokenFile).strip() : token;
    ClientOptions options = ClientOptions.defaults();
    if (t != null && !t.isBlank()) options = options.withToken(t);
    long started = System.nanoTime();
    try (ReflexClient c = ReflexClient.connect(host, port, options)) {
      if (mode.startsWith("write")) {
        write(c);
        System.out.printf("wrote %d blocks (seed %d) at blocks [%d, %d) on %s:%d%n", blocks, seed, firstBlock,
            firstBlock + blocks, host, port);
      }
      if (mode.endsWith("verify")) {
        long bad = verify(c);
        if (bad >= 0) {
          System.out.printf("MISMATCH: block %d does not hold what seed %d wrote%n", bad, seed);
          return 1;
        }
        System.out.printf("verified %d blocks (seed %d): every byte as written%n", blocks, seed);
      }
    }
    System.out.printf("done in %.1f ms%n", (System.nanoTime() - started) / 1e6);
    return 0;
  }

  private void write(ReflexClient c) throws Exception {
    List<CompletableFuture<Void>> inFlight = new ArrayList<>();
    for (int i = 0; i < blocks; i++) {
      long b = firstBlock + i;
      inFlight.add(c.write(b * 8, content(seed, b)));
      if (inFlight.size() >= qd) drain(inFlight);
    }
    drain(inFlight);
    c.flush().get(60, TimeUnit.SECONDS);
  }

  /** The first block that differs, or -1. */
  private long verify(ReflexClient c) throws Exception {
    for (int i = 0; i < blocks; i += qd) {
      List<CompletableFuture<ByteBuffer>> reads = new ArrayList<>();
      for (int j = i; j < Math.min(blocks, i + qd); j++) reads.add(c.read((firstBlock + j) * 8, 8));
      for (int j = 0; j < reads.size(); j++) {
        long b = firstBlock + i + j;
        if (!reads.get(j).get(60, TimeUnit.SECONDS).equals(content(seed, b))) return b;
      }
    }
    return -1;
  }

  private static <T> void drain(List<CompletableFuture<T>> fs) throws Exception {
    for (CompletableFuture<T> f : fs) f.get(60, TimeUnit.SECONDS);
    fs.clear();
  }

  /** A 4 KiB block naming itself (so a misplaced block is recognisable in a dump) followed by seeded noise. */
  static ByteBuffer content(long seed, long block) {
    ByteBuffer b = ByteBuffer.allocate(BLOCK);
    b.put(("reflex-check seed=" + seed + " block=" + block + "\n").getBytes(StandardCharsets.US_ASCII));
    long x = (block + 1) * 0x9E3779B97F4A7C15L ^ seed * 0xC2B2AE3D27D4EB4FL;
    while (b.remaining() >= 8) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      b.putLong(x);
    }
    while (b.hasRemaining()) b.put((byte) 0);
    return b.flip();
  }
}

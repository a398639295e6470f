package io.reflex.check.crash;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code reflex-crashcheck}: proves that no acknowledged write is lost when the server is killed with SIGKILL under
 * write load. See {@link CrashHarness} for the rounds and {@link Records} for the exact condition checked.
 */
@Command(name = "reflex-crashcheck", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Crash-consistency check: starts SERVER_COMMAND, writes self-describing 4 KiB blocks at random LBAs at QD32,",
        "SIGKILLs the server at a random moment under that load, restarts it, reads every block of the region back and",
        "checks each holds its latest acknowledged write (or the write in flight at the kill) — never older data, another",
        "block's data, torn or never-written data. Repeats for --rounds. Exit 0: no violation; 1: violations; 2: error.",
        "",
        "  reflex-crashcheck --port 1234 -- bin/reflex-dataplane --device /var/tmp/d.img --listen 127.0.0.1:1234 --admin none",
        "  reflex-crashcheck --protocol nbd --port 10809 --durability fua -- bin/reflex-dataplane ... --nbd 127.0.0.1:10809",
        ""})
public final class ReflexCrashCheck implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Server host (default: ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", required = true, description = "Tenant port (reflex) or NBD port (nbd)")
  int port;

  @Option(names = "--protocol", defaultValue = "reflex", description = "reflex | nbd (default: ${DEFAULT-VALUE})")
  String protocol;

  @Option(names = "--export", defaultValue = "default", description = "NBD export (tenant name; the token is appended as tenant:TOKEN) (default: ${DEFAULT-VALUE})")
  String export;

  @Option(names = "--token", defaultValue = "${env:REFLEX_TOKEN}", description = "Tenant token (env REFLEX_TOKEN)")
  String token;

  @Option(names = "--token-file", description = "Read the token from this file")
  Path tokenFile;

  @Option(names = "--blocks", defaultValue = "16384", description = "4 KiB blocks in the region (default: ${DEFAULT-VALUE} = 64 MiB)")
  int blocks;

  @Option(names = "--first-block", defaultValue = "0", description = "First 4 KiB block of the region (default: ${DEFAULT-VALUE})")
  long firstBlock;

  @Option(names = "--qd", defaultValue = "32", description = "Writes in flight (default: ${DEFAULT-VALUE})")
  int qd;

  @Option(names = "--durability", description = "When a write counts as durable: reply (its reply; what --sync-writes true promises),"
      + " fua (NBD: the reply to a FUA write), flush (the reply to a FLUSH sent after the write's reply). Default: reply for reflex, fua for nbd")
  String durability;

  @Option(names = "--flush-every", defaultValue = "32", description = "With --durability flush: a FLUSH after this many answered writes (default: ${DEFAULT-VALUE})")
  int flushEvery;

  @Option(names = "--rounds", defaultValue = "50", description = "Kill/restart rounds (default: ${DEFAULT-VALUE})")
  int rounds;

  @Option(names = "--kill-after", defaultValue = "0.2-2", description = "MIN-MAX seconds of write load before the SIGKILL, uniform (default: ${DEFAULT-VALUE})")
  String killAfter;

  @Option(names = "--restart-timeout", defaultValue = "120", description = "Seconds to wait for the restarted server to accept the connection (default: ${DEFAULT-VALUE})")
  int restartTimeout;

  @Option(names = "--read-blocks", defaultValue = "16", description = "Blocks per verification read (default: ${DEFAULT-VALUE})")
  int readBlocks;

  @Option(names = "--seed", description = "Seed of the run id, block choice and kill times (default: random)")
  Long seed;

  @Option(names = "--records", description = "Also keep the verification records in this file (rewritten after every round)")
  Path records;

  @Option(names = "--verify-only", description = "No server command: connect once, read the region back and check it against --records")
  boolean verifyOnly;

  @Option(names = "--server-log", defaultValue = "reflex-crashcheck-server.log", description = "The server's output, appended (default: ${DEFAULT-VALUE})")
  Path serverLog;

  @Option(names = "--json", description = "Write the summary (and every round) to this JSON file")
  Path json;

  @Parameters(paramLabel = "SERVER_COMMAND", description = "The server to start, kill and restart (after --)")
  List<String> serverCommand = new ArrayList<>();

  public static void main(String... args) {
    System.exit(new CommandLine(new ReflexCrashCheck()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    CommandLine cl = new CommandLine(this);
    String t = tokenFile != null ? Files.readString(tokenFile).strip() : token;
    if (t != null && t.isBlank()) t = null;
    String tok = t;
    if (!List.of("reflex", "nbd").contains(protocol)) throw new CommandLine.ParameterException(cl, "--protocol must be reflex or nbd");
    boolean nbd = protocol.equals("nbd");
    String exportName = nbd && tok != null && !export.contains(":") ? export + ":" + tok : export;
    CrashHarness.Connector connector = nbd
        ? () -> NbdTarget.connect(host, port, exportName, 5000)
        : () -> ReflexTarget.connect(host, port, tok);

    if (verifyOnly) {
      if (records == null) throw new CommandLine.ParameterException(cl, "--verify-only needs --records");
      Records r = Records.load(records);
      try (BlockTarget target = connector.connect()) {
        Verification v = Verification.run(target, r, qd, readBlocks);
        System.out.printf("verified %d blocks of run %016x in %.1f s: %d hold their latest acknowledged write, %d pre-run content,"
                + " pending writes %d landed / %d not; violations %d%n", v.blocks(), r.runId(), v.seconds(), v.acknowledged(),
            v.initial(), v.landed(), v.notLanded(), v.violationCount());
        v.violations().forEach(x -> System.out.println("  VIOLATION " + x));
        r.save(records);
        return v.violationCount() == 0 ? 0 : 1;
      }
    }

    if (serverCommand.isEmpty()) throw new CommandLine.ParameterException(cl, "give the server command after -- (or --verify-only --records FILE)");
    Durability d = durability != null ? parseDurability(cl, durability) : nbd ? Durability.FUA : Durability.REPLY;
    if (d == Durability.FUA && !nbd) throw new CommandLine.ParameterException(cl, "--durability fua is NBD's (the ReFlex protocol has no FUA flag)");
    long[] window = parseWindow(cl, killAfter);
    CrashHarness.Options o = new CrashHarness.Options(firstBlock, blocks, qd, d, flushEvery, rounds, window[0], window[1],
        Duration.ofSeconds(restartTimeout), seed != null ? seed : System.nanoTime() ^ ProcessHandle.current().pid() << 32,
        readBlocks, records);
    System.out.printf("reflex-crashcheck: %d rounds, SIGKILL %s s into QD%d writes, %s %s:%d, server: %s (log %s)%n", rounds, killAfter, qd,
        protocol, host, port, String.join(" ", serverCommand), serverLog.toAbsolutePath());
    ServerProcess server = new ServerProcess(serverCommand, serverLog, Map.of());
    // Stopped (SIGTERM) with us, so an interrupted run leaves no server behind.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.stop();
      } catch (Exception ignored) {
        // exiting anyway
      }
    }));
    CrashHarness.Summary s = new CrashHarness(o, System.out).run(server, connector);
    System.out.printf("%s: %d rounds, %d writes acknowledged as durable, %d acknowledged blocks read back (each its block's"
            + " latest acknowledged write), %d writes in flight at the kills (%d landed, %d not)%s, %d violations, %.1f s%s%n",
        s.passed() ? "PASS" : "FAIL", s.roundsDone(), s.durableWrites(), s.acknowledgedReadBack(), s.inFlightAtKills(), s.landed(),
        s.notLanded(), d == Durability.FLUSH ? " + " + s.unflushedAtKills() + " answered but unflushed" : "",
        s.violations(), s.seconds(), s.error() == null ? "" : " — ERROR: " + s.error());
    if (json != null) writeJson(s, d);
    if (s.error() != null) return 2;
    return s.violations() == 0 ? 0 : 1;
  }

  private void writeJson(CrashHarness.Summary s, Durability d) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("protocol", protocol);
    m.put("durability", d.name().toLowerCase(Locale.ROOT));
    m.put("serverCommand", serverCommand);
    m.put("blocks", blocks);
    m.put("qd", qd);
    m.put("killAfterSeconds", killAfter);
    m.put("runId", String.format("%016x", s.runId()));
    m.put("rounds", s.roundsDone());
    m.put("durableWrites", s.durableWrites());
    m.put("acknowledgedReadBack", s.acknowledgedReadBack());
    m.put("inFlightAtKills", s.inFlightAtKills());
    m.put("unflushedAtKills", s.unflushedAtKills());
    m.put("landed", s.landed());
    m.put("notLanded", s.notLanded());
    m.put("violations", s.violations());
    m.put("seconds", Math.round(s.seconds() * 10) / 10.0);
    m.put("error", s.error());
    m.put("firstViolations", s.firstViolations().stream().map(Records.Violation::toString).toList());
    List<Map<String, Object>> rs = new ArrayList<>();
    for (CrashHarness.Round r : s.rounds()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("round", r.round());
      x.put("killAfterMillis", r.killAfterMillis());
      x.put("loadSeconds", Math.round(r.loadSeconds() * 1000) / 1000.0);
      x.put("issued", r.issued());
      x.put("durable", r.durable());
      x.put("inFlightAtKill", r.failedAtKill());
      x.put("unflushedAtKill", r.unflushedAtKill());
      x.put("restartSeconds", Math.round(r.restartSeconds() * 100) / 100.0);
      x.put("acknowledgedReadBack", r.verification().acknowledged());
      x.put("landed", r.verification().landed());
      x.put("notLanded", r.verification().notLanded());
      x.put("violations", r.verification().violationCount());
      rs.add(x);
    }
    m.put("perRound", rs);
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), m);
  }

  static Durability parseDurability(CommandLine cl, String s) {
    try {
      return Durability.valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, "--durability must be reply, fua or flush, got '" + s + "'");
    }
  }

  /** "0.2-2" → {200, 2000} ms. */
  static long[] parseWindow(CommandLine cl, String s) {
    String[] p = s.split("-", 2);
    try {
      long a = Math.round(Double.parseDouble(p[0].strip()) * 1000);
      long b = p.length == 2 ? Math.round(Double.parseDouble(p[1].strip()) * 1000) : a;
      if (a < 0 || b < a) throw new NumberFormatException();
      return new long[] {a, b};
    } catch (NumberFormatException e) {
      throw new CommandLine.ParameterException(cl, "--kill-after must be MIN-MAX seconds with 0 <= MIN <= MAX, e.g. 0.2-2; got '" + s + "'");
    }
  }
}

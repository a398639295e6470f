package io.reflex.check.crash;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * The checker's verification records: for every 4 KiB block of the region, what it may hold.
 *
 * <p>Per block {@code i}: {@code committed[i]} is the sequence number of the write that must be there — the latest
 * write acknowledged as durable — or 0 for "what the block held before the run" (remembered as a fingerprint in
 * {@code initial[i]}). {@code pending[i]} is a write that was issued and not (yet) acknowledged as durable: in flight
 * when the server died, failed, or (in FLUSH mode) completed but not covered by a FLUSH yet. It may or may not be on
 * the device. A block with a pending write gets no new write until a verification has resolved it, so there is at
 * most one: the writer never has two writes to one block in flight, and never writes a block whose previous write's
 * fate is unknown.
 *
 * <p>The correctness condition a verification checks, per block: it holds exactly the image of {@code committed[i]}
 * (or its initial content when 0), or exactly the image of {@code pending[i]}. Anything else is a violation — older
 * data (an acknowledged write was lost), data never written to this block, another block's data, another run's data,
 * a torn mix of sectors, garbage. What was found then becomes the block's state ("resolution": a pending write that
 * landed becomes committed, one that did not is dropped), so a later round cannot flip back to the other candidate.
 *
 * <p>Thread-safe (one lock): the writer begins writes, completion threads acknowledge them, verification reads
 * check them.
 */
public final class Records {
  /** What a violating block holds. */
  public enum Kind {
    /** The block holds its pre-run content although a write to it was acknowledged. */
    LOST,
    /** A complete write of this run to this block, older than the one acknowledged: the acknowledged write was lost. */
    STALE,
    /**
     * A complete write of this run to this block that it may not hold: newer than the acknowledged one and not the
     * pending one (never issued, or found absent by an earlier verification and appearing later).
     */
    NEVER_WRITTEN,
    /** A complete write of this run meant for another block. */
    MISDIRECTED,
    /** A complete block written by another run (another run id). */
    FOREIGN,
    /** Sectors from different writes, or a tagged block whose bytes or checksum do not match its tag. */
    TORN,
    /** No sector carries a tag and it is not the pre-run content. */
    GARBAGE
  }

  /** One block that failed the condition. */
  public record Violation(long block, Kind kind, String detail) {
    @Override
    public String toString() {
      return "block " + block + ": " + kind + " — " + detail;
    }
  }

  /** How one block checked out. */
  public enum Outcome {
    /** Holds the latest acknowledged write; nothing was pending. */
    ACKED,
    /** Holds its pre-run content; nothing was ever acknowledged or pending. */
    INITIAL,
    /** Holds the write that was pending (unacknowledged): it landed and is now the block's committed state. */
    PENDING_LANDED,
    /** Holds the acknowledged (or pre-run) content although a write was pending: that write did not land. */
    PENDING_NOT_LANDED,
    VIOLATION
  }

  private static final long FILE_MAGIC = 0x5246584352454331L; // "RFXCREC1"

  private final long runId;
  private final long firstBlock;
  private final int blocks;
  private final long[] initial;
  private final long[] committed;
  private final long[] pending;
  private final TreeMap<Long, Integer> roundBySeq = new TreeMap<>();
  private long nextSeq = 1;
  private long durable;

  public Records(long runId, long firstBlock, int blocks) {
    if (blocks < 1) throw new IllegalArgumentException("blocks must be >= 1, got " + blocks);
    if (firstBlock < 0) throw new IllegalArgumentException("firstBlock must be >= 0, got " + firstBlock);
    this.runId = runId;
    this.firstBlock = firstBlock;
    this.blocks = blocks;
    this.initial = new long[blocks];
    this.committed = new long[blocks];
    this.pending = new long[blocks];
  }

  public long runId() { return runId; }
  public long firstBlock() { return firstBlock; }
  public int blocks() { return blocks; }

  /** Writes issued from now on belong to round {@code round} (for messages only). */
  public synchronized void beginRound(int round) {
    roundBySeq.put(nextSeq, round);
  }

  /** Remembers what block index {@code i} held before the run. */
  public synchronized void setInitial(int i, long fingerprint) {
    initial[i] = fingerprint;
  }

  /** Starts a write to block index {@code i}: its sequence number, or 0 when the block has a pending write. */
  public synchronized long begin(int i) {
    if (pending[i] != 0) return 0;
    long seq = nextSeq++;
    pending[i] = seq;
    return seq;
  }

  /** Write {@code seq} to block index {@code i} is acknowledged as durable: from now on the block must hold it. */
  public synchronized void durable(int i, long seq) {
    if (pending[i] != seq) {
      throw new IllegalStateException("block " + (firstBlock + i) + ": durable seq " + seq + " but pending is " + pending[i]);
    }
    committed[i] = seq;
    pending[i] = 0;
    durable++;
  }

  /** Writes acknowledged as durable so far. */
  public synchronized long durableWrites() { return durable; }

  public synchronized boolean busy(int i) { return pending[i] != 0; }

  /** Blocks with a pending write. */
  public synchronized int pendingCount() {
    int n = 0;
    for (long p : pending) if (p != 0) n++;
    return n;
  }

  /** Blocks whose required content is an acknowledged write (not their pre-run content). */
  public synchronized int committedCount() {
    int n = 0;
    for (long c : committed) if (c != 0) n++;
    return n;
  }

  /** The round a sequence number was issued in (0 if before any round). */
  public synchronized int roundOf(long seq) {
    Map.Entry<Long, Integer> e = roundBySeq.floorEntry(seq);
    return e == null ? 0 : e.getValue();
  }

  /**
   * A verification result for one block: {@code acknowledged} when the block was required to hold an acknowledged
   * write (not its pre-run content); {@code violation} is non-null only for {@link Outcome#VIOLATION}.
   */
  public record Check(Outcome outcome, boolean acknowledged, Violation violation) {}

  /**
   * Checks what block index {@code i} holds ({@code buf[off, off+4096)}) and resolves its state to what was found.
   */
  public synchronized Check check(int i, byte[] buf, int off) {
    long block = firstBlock + i;
    long c = committed[i];
    long p = pending[i];
    boolean holdsCommitted = c == 0 ? BlockImage.fingerprint(buf, off) == initial[i] : BlockImage.matches(buf, off, runId, block, c);
    if (holdsCommitted) {
      pending[i] = 0;
      return new Check(p == 0 ? (c == 0 ? Outcome.INITIAL : Outcome.ACKED) : Outcome.PENDING_NOT_LANDED, c != 0, null);
    }
    if (p != 0 && BlockImage.matches(buf, off, runId, block, p)) {
      committed[i] = p;
      pending[i] = 0;
      return new Check(Outcome.PENDING_LANDED, c != 0, null);
    }
    Violation v = classify(i, buf, off);
    // Resolution: what is there now is the block's state (as if it had been there before the run).
    initial[i] = BlockImage.fingerprint(buf, off);
    committed[i] = 0;
    pending[i] = 0;
    return new Check(Outcome.VIOLATION, c != 0, v);
  }

  private Violation classify(int i, byte[] buf, int off) {
    long block = firstBlock + i;
    long c = committed[i];
    long p = pending[i];
    String expected = (c == 0 ? "its pre-run content" : "seq " + c + " (acknowledged, round " + roundOf(c) + ")")
        + (p == 0 ? "" : " or seq " + p + " (unacknowledged, round " + roundOf(p) + ")");
    BlockImage.Tag[] tags = new BlockImage.Tag[BlockImage.SECTORS];
    boolean uniform = true;
    int tagged = 0;
    for (int s = 0; s < tags.length; s++) {
      tags[s] = BlockImage.tag(buf, off, s);
      if (tags[s] != null) tagged++;
      if (tags[s] == null || tags[s].sector() != s || !sameWrite(tags[s], tags[0])) uniform = false;
    }
    if (uniform) {
      BlockImage.Tag t = tags[0];
      if (BlockImage.matches(buf, off, t.runId(), t.block(), t.seq())) {
        String found = "seq " + t.seq() + (t.runId() == runId ? " (round " + roundOf(t.seq()) + ")" : "");
        if (t.runId() != runId) {
          return new Violation(block, Kind.FOREIGN, "holds a block of another run (run " + Long.toHexString(t.runId())
              + ", block " + t.block() + ", seq " + t.seq() + "); expected " + expected);
        }
        if (t.block() != block) {
          return new Violation(block, Kind.MISDIRECTED, "holds block " + t.block() + "'s write " + found + "; expected " + expected);
        }
        if (t.seq() < c) {
          return new Violation(block, Kind.STALE, "holds the older " + found + "; expected " + expected
              + ": an acknowledged write was lost");
        }
        return new Violation(block, Kind.NEVER_WRITTEN, "holds " + found + ", which this block may not hold: "
            + (t.seq() >= nextSeq ? "a seq never issued" : "neither its acknowledged write nor the one pending") + "; expected " + expected);
      }
      return new Violation(block, Kind.TORN, "every sector is tagged seq " + tags[0].seq() + " but the bytes differ from"
          + " that write (checksum " + (BlockImage.crcValid(buf, off) ? "valid" : "INVALID") + "); expected " + expected);
    }
    if (c != 0 && BlockImage.fingerprint(buf, off) == initial[i]) {
      return new Violation(block, Kind.LOST, "holds its pre-run content; expected " + expected + ": an acknowledged write was lost");
    }
    if (tagged == 0) {
      boolean zeros = true;
      for (int k = off; k < off + BlockImage.BLOCK && zeros; k++) zeros = buf[k] == 0;
      return new Violation(block, Kind.GARBAGE, (zeros ? "holds zeros" : "holds untagged data that is not its pre-run content")
          + "; expected " + expected);
    }
    return new Violation(block, Kind.TORN, "sectors from different writes: " + describe(tags, block) + "; expected " + expected);
  }

  private static boolean sameWrite(BlockImage.Tag a, BlockImage.Tag b) {
    return b != null && a.runId() == b.runId() && a.block() == b.block() && a.seq() == b.seq();
  }

  /** "0-3 seq 12, 4-7 untagged": runs of sectors with the same origin. */
  private String describe(BlockImage.Tag[] tags, long block) {
    StringBuilder sb = new StringBuilder();
    int start = 0;
    for (int s = 1; s <= tags.length; s++) {
      if (s < tags.length && label(tags[s], block).equals(label(tags[start], block))) continue;
      if (!sb.isEmpty()) sb.append(", ");
      sb.append("sectors ").append(start).append(s - 1 > start ? "-" + (s - 1) : "").append(' ').append(label(tags[start], block));
      start = s;
    }
    return sb.toString();
  }

  private String label(BlockImage.Tag t, long block) {
    if (t == null) return "untagged";
    if (t.runId() != runId) return "run " + Long.toHexString(t.runId()) + " seq " + t.seq();
    return "seq " + t.seq() + (t.block() != block ? " of block " + t.block() : "");
  }

  // ---- the optional records file ----------------------------------------------------------------------------

  /** Writes the records to {@code file} atomically (temp file, then rename). */
  public synchronized void save(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
      out.writeLong(FILE_MAGIC);
      out.writeLong(runId);
      out.writeLong(firstBlock);
      out.writeInt(blocks);
      out.writeLong(nextSeq);
      out.writeLong(durable);
      out.writeInt(roundBySeq.size());
      for (Map.Entry<Long, Integer> e : roundBySeq.entrySet()) {
        out.writeLong(e.getKey());
        out.writeInt(e.getValue());
      }
      for (int i = 0; i < blocks; i++) {
        out.writeLong(initial[i]);
        out.writeLong(committed[i]);
        out.writeLong(pending[i]);
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Reads records written by {@link #save}. */
  public static Records load(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      if (in.readLong() != FILE_MAGIC) throw new IOException(file + " is not a reflex-crashcheck records file");
      Records r = new Records(in.readLong(), in.readLong(), in.readInt());
      r.nextSeq = in.readLong();
      r.durable = in.readLong();
      int rounds = in.readInt();
      for (int k = 0; k < rounds; k++) r.roundBySeq.put(in.readLong(), in.readInt());
      for (int i = 0; i < r.blocks; i++) {
        r.initial[i] = in.readLong();
        r.committed[i] = in.readLong();
        r.pending[i] = in.readLong();
      }
      return r;
    }
  }
}

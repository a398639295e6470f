package io.reflex.check.crash;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The 4 KiB blocks the crash checker writes. Each is a pure function of (run id, block, sequence number), so the
 * checker keeps only sequence numbers and regenerates any block it expects to find.
 *
 * <p>Layout (big-endian): every 512-byte sector starts with its own tag — magic {@code "RFXCRASH"}, run id, block,
 * sequence number, sector index — so a torn block shows which write each of its sectors came from; the rest of the
 * sector is noise seeded by the tag; the block's last 4 bytes are the CRC32C of the 4092 before them.
 */
public final class BlockImage {
  public static final int BLOCK = 4096;
  public static final int SECTOR = 512;
  public static final int SECTORS = BLOCK / SECTOR;
  /** "RFXCRASH" in ASCII. */
  public static final long MAGIC = 0x5246584352415348L;
  static final int TAG_BYTES = 36;
  static final int CRC_OFFSET = BLOCK - 4;

  private BlockImage() {}

  /** A sector's tag, or what is left of one. */
  public record Tag(long runId, long block, long seq, int sector) {}

  /** The block that write {@code seq} of run {@code runId} puts at {@code block}. */
  public static byte[] image(long runId, long block, long seq) {
    byte[] b = new byte[BLOCK];
    fill(b, 0, runId, block, seq);
    return b;
  }

  /** Writes the image into {@code dst} at {@code off}. */
  public static void fill(byte[] dst, int off, long runId, long block, long seq) {
    ByteBuffer b = ByteBuffer.wrap(dst, off, BLOCK).slice();
    for (int s = 0; s < SECTORS; s++) {
      int base = s * SECTOR;
      b.putLong(base, MAGIC).putLong(base + 8, runId).putLong(base + 16, block).putLong(base + 24, seq).putInt(base + 32, s);
      long x = mix(runId ^ mix(block + 0x632BE59BD9B4E019L) ^ mix(seq * 31 + s + 1));
      if (x == 0) x = 1;
      for (int p = base + TAG_BYTES; p + 8 <= base + SECTOR; p += 8) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        b.putLong(p, x);
      }
      b.putInt(base + SECTOR - 4, (int) x); // the 4 bytes the 8-byte stride leaves (476 = 59*8 + 4)
    }
    b.putInt(CRC_OFFSET, crc(dst, off));
  }

  /** Whether {@code buf[off, off+4096)} is exactly the image of (runId, block, seq). */
  public static boolean matches(byte[] buf, int off, long runId, long block, long seq) {
    ByteBuffer b = ByteBuffer.wrap(buf, off, BLOCK).slice();
    if (b.getLong(0) != MAGIC || b.getLong(8) != runId || b.getLong(16) != block || b.getLong(24) != seq) return false;
    byte[] expected = image(runId, block, seq);
    return java.util.Arrays.equals(buf, off, off + BLOCK, expected, 0, BLOCK);
  }

  /** The tag of sector {@code s} of the block at {@code off}, or null when the sector carries no magic. */
  public static Tag tag(byte[] buf, int off, int s) {
    ByteBuffer b = ByteBuffer.wrap(buf, off, BLOCK).slice();
    int base = s * SECTOR;
    if (b.getLong(base) != MAGIC) return null;
    return new Tag(b.getLong(base + 8), b.getLong(base + 16), b.getLong(base + 24), b.getInt(base + 32));
  }

  /** Whether the block's trailing CRC32C matches its first 4092 bytes. */
  public static boolean crcValid(byte[] buf, int off) {
    return ByteBuffer.wrap(buf, off, BLOCK).slice().getInt(CRC_OFFSET) == crc(buf, off);
  }

  private static int crc(byte[] buf, int off) {
    CRC32C c = new CRC32C();
    c.update(buf, off, CRC_OFFSET);
    return (int) c.getValue();
  }

  /**
   * A 64-bit fingerprint of any 4 KiB block (used for content the checker did not write: what a block held before
   * the run). Not cryptographic; two different blocks collide with probability ~2^-64.
   */
  public static long fingerprint(byte[] buf, int off) {
    ByteBuffer b = ByteBuffer.wrap(buf, off, BLOCK).slice();
    long h = 0x9E3779B97F4A7C15L;
    for (int p = 0; p < BLOCK; p += 8) h = mix(h ^ b.getLong(p)) + p;
    return mix(h);
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

package io.reflex.agent.discovery;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Recognises what someone already wrote at the start of a device: filesystems, volume-manager labels, partition
 * tables, swap, encryption headers (the magic numbers blkid checks first). Reads the head of the device only, through
 * a read-only channel, and copes with files shorter than any offset.
 */
public final class Signatures {
  /** btrfs keeps its superblock at 64 KiB with the magic 64 bytes in, so the head must reach past 65608. */
  static final int HEAD_BYTES = 68 * 1024;

  private static final byte[] BCACHE_MAGIC = {(byte) 0xc6, (byte) 0x85, 0x73, (byte) 0xf6, 0x4e, 0x1a, 0x45,
      (byte) 0xca, (byte) 0x82, 0x65, (byte) 0xf5, 0x7f, 0x48, (byte) 0xba, 0x6d, (byte) 0x81};

  private Signatures() {
  }

  /** A description such as "an ext4 filesystem signature", or empty when the head looks unused. */
  public static Optional<String> detect(Path device) throws IOException {
    try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
      ByteBuffer head = ByteBuffer.allocate(HEAD_BYTES);
      while (head.hasRemaining() && ch.read(head) > 0) {
        // block devices may return short reads; keep going until the head is full or the device ends
      }
      return detect(head.array(), head.position());
    }
  }

  public static Optional<String> detect(byte[] b, int length) {
    Head h = new Head(b, length);
    if (h.ascii(0, "LUKS\u00ba\u00be")) {
      return Optional.of("a LUKS encryption header");
    }
    if (h.ascii(0, "XFSB")) {
      return Optional.of("an XFS filesystem signature");
    }
    if (h.u16le(1080) == 0xEF53) {
      return Optional.of("an " + extVersion(h) + " filesystem signature");
    }
    if (h.ascii(65600, "_BHRfS_M")) {
      return Optional.of("a btrfs filesystem signature");
    }
    for (int sector = 0; sector < 4; sector++) {
      if (h.ascii(sector * 512, "LABELONE")) {
        return Optional.of("an LVM2 physical volume label");
      }
    }
    for (int page = 4096; page <= 65536; page *= 2) {
      if (h.ascii(page - 10, "SWAPSPACE2") || h.ascii(page - 10, "SWAP-SPACE")) {
        return Optional.of("a swap signature");
      }
    }
    if (h.bytes(4096 + 24, BCACHE_MAGIC)) {
      return Optional.of("a bcache signature");
    }
    if (h.ascii(512, "EFI PART") || h.ascii(4096, "EFI PART")) {
      return Optional.of("a GPT partition table");
    }
    if (h.ascii(3, "NTFS    ")) {
      return Optional.of("an NTFS filesystem signature");
    }
    if (h.ascii(82, "FAT32   ") || h.ascii(54, "FAT12   ") || h.ascii(54, "FAT16   ")) {
      return Optional.of("a FAT filesystem signature");
    }
    if (h.u16le(510) == 0xAA55 && hasPartitionEntry(h)) {
      return Optional.of("an MBR partition table");
    }
    return Optional.empty();
  }

  /** ext4 is whatever uses features ext3 lacks (extents, 64bit, flex_bg...); ext3 is ext2 with a journal. */
  private static String extVersion(Head h) {
    long compat = h.u32le(1024 + 0x5C);
    long incompat = h.u32le(1024 + 0x60);
    long roCompat = h.u32le(1024 + 0x64);
    long ext3Incompat = 0x2 | 0x4 | 0x10;
    long ext3RoCompat = 0x1 | 0x2 | 0x4;
    if ((incompat & ~ext3Incompat) != 0 || (roCompat & ~ext3RoCompat) != 0) {
      return "ext4";
    }
    return (compat & 0x4) != 0 ? "ext3" : "ext2";
  }

  /** The four 16-byte MBR entries start at 446; an entry is in use when its type byte (offset 4) is nonzero. */
  private static boolean hasPartitionEntry(Head h) {
    for (int entry = 446; entry < 510; entry += 16) {
      if (h.u8(entry + 4) != 0) {
        return true;
      }
    }
    return false;
  }

  /** Bounds-checked little-endian reads: anything past the end of what was read reads as absent. */
  private record Head(byte[] b, int length) {
    int u8(int off) {
      return off < length ? b[off] & 0xFF : 0;
    }

    int u16le(int off) {
      return off + 2 <= length ? u8(off) | u8(off + 1) << 8 : -1;
    }

    long u32le(int off) {
      return off + 4 <= length ? (u16le(off) & 0xFFFFL) | (long) u16le(off + 2) << 16 : 0;
    }

    boolean ascii(int off, String magic) {
      return bytes(off, magic.getBytes(StandardCharsets.ISO_8859_1));
    }

    boolean bytes(int off, byte[] magic) {
      if (off + magic.length > length) {
        return false;
      }
      for (int i = 0; i < magic.length; i++) {
        if (b[off + i] != magic[i]) {
          return false;
        }
      }
      return true;
    }
  }
}

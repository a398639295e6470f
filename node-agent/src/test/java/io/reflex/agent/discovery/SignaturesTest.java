package io.reflex.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SignaturesTest {
  @TempDir
  Path tmp;

  /** An ext4 superblock: magic 0xEF53 at 1080, the extents feature (0x40) in s_feature_incompat. */
  static byte[] ext4() {
    byte[] b = new byte[64 * 1024];
    b[1080] = 0x53;
    b[1081] = (byte) 0xEF;
    b[1024 + 0x60] = 0x40;
    return b;
  }

  static byte[] at(int size, int offset, String magic) {
    byte[] b = new byte[size];
    byte[] m = magic.getBytes(StandardCharsets.ISO_8859_1);
    System.arraycopy(m, 0, b, offset, m.length);
    return b;
  }

  @Test
  void recognisesTheCommonSignatures() {
    assertThat(detect(ext4())).isEqualTo("an ext4 filesystem signature");
    byte[] ext3 = ext4();
    ext3[1024 + 0x60] = 0;
    ext3[1024 + 0x5C] = 0x4;
    assertThat(detect(ext3)).isEqualTo("an ext3 filesystem signature");
    ext3[1024 + 0x5C] = 0;
    assertThat(detect(ext3)).isEqualTo("an ext2 filesystem signature");
    assertThat(detect(at(4096, 0, "XFSB"))).isEqualTo("an XFS filesystem signature");
    assertThat(detect(at(70_000, 65600, "_BHRfS_M"))).isEqualTo("a btrfs filesystem signature");
    assertThat(detect(at(4096, 512, "LABELONE"))).isEqualTo("an LVM2 physical volume label");
    assertThat(detect(at(4096, 4086, "SWAPSPACE2"))).isEqualTo("a swap signature");
    assertThat(detect(at(65536, 65526, "SWAPSPACE2"))).as("64 KiB pages").isEqualTo("a swap signature");
    assertThat(detect(at(4096, 0, "LUKS\u00ba\u00be"))).isEqualTo("a LUKS encryption header");
    assertThat(detect(mbr(at(1024, 512, "EFI PART"), 0xEE))).isEqualTo("a GPT partition table");
    assertThat(detect(mbr(new byte[512], 0x83))).isEqualTo("an MBR partition table");
  }

  @Test
  void aBootSignatureWithoutPartitionsIsNoPartitionTable() {
    assertThat(Signatures.detect(mbr(new byte[512], 0), 512)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 511, 1081, 4095, 65_000})
  void toleratesShortDevices(int length) throws Exception {
    Path file = Files.write(tmp.resolve("short"), new byte[length]);
    assertThat(Signatures.detect(file)).isEmpty();
  }

  @Test
  void readsFromAFileReadOnly() throws Exception {
    Path file = Files.write(tmp.resolve("ro.img"), ext4());
    file.toFile().setWritable(false);
    assertThat(Signatures.detect(file)).contains("an ext4 filesystem signature");
  }

  private static byte[] mbr(byte[] b, int type) {
    b[510] = 0x55;
    b[511] = (byte) 0xAA;
    b[446 + 4] = (byte) type;
    return b;
  }

  private static String detect(byte[] b) {
    return Signatures.detect(b, b.length).orElse(null);
  }
}

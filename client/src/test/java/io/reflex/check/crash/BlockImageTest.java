package io.reflex.check.crash;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BlockImageTest {
  @Test
  void imagesAreAFunctionOfRunBlockAndSeq() {
    byte[] a = BlockImage.image(7, 42, 1000);
    assertThat(a).hasSize(4096).isEqualTo(BlockImage.image(7, 42, 1000));
    assertThat(a).isNotEqualTo(BlockImage.image(8, 42, 1000)).isNotEqualTo(BlockImage.image(7, 43, 1000))
        .isNotEqualTo(BlockImage.image(7, 42, 1001));
    assertThat(BlockImage.matches(a, 0, 7, 42, 1000)).isTrue();
    assertThat(BlockImage.matches(a, 0, 7, 42, 999)).isFalse();
    assertThat(BlockImage.crcValid(a, 0)).isTrue();
  }

  @Test
  void everySectorNamesItsWrite() {
    byte[] buf = new byte[3 * 4096];
    BlockImage.fill(buf, 4096, 7, 42, 1000);
    for (int s = 0; s < BlockImage.SECTORS; s++) {
      assertThat(BlockImage.tag(buf, 4096, s)).isEqualTo(new BlockImage.Tag(7, 42, 1000, s));
    }
    assertThat(BlockImage.tag(buf, 0, 0)).isNull();
    assertThat(BlockImage.matches(buf, 4096, 7, 42, 1000)).isTrue();
  }

  @Test
  void aSingleFlippedByteIsNoLongerTheWrite() {
    byte[] a = BlockImage.image(1, 2, 3);
    for (int at : new int[] {100, 511, 512 + 40, 4000, 4095}) {
      byte[] b = a.clone();
      b[at] ^= 1;
      assertThat(BlockImage.matches(b, 0, 1, 2, 3)).as("byte %d", at).isFalse();
      assertThat(BlockImage.fingerprint(b, 0)).isNotEqualTo(BlockImage.fingerprint(a, 0));
    }
    byte[] c = a.clone();
    c[1000] ^= 1;
    assertThat(BlockImage.crcValid(c, 0)).isFalse();
  }
}

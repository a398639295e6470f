package io.reflex.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class MountsTest {
  @Test
  void readsTheFieldsThatMatter() {
    Mounts m = Mounts.parse("""
        36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
        37 1 259:2 / /data rw shared:2 master:3 - xfs /dev/nvme1n1p1 rw
        38 1 0:22 / / rw - overlay overlay rw
        """);
    assertThat(m.all()).containsExactly(
        new Mounts.Mount("98:0", "/mnt1", "/mnt/parent", "ext3", "/dev/root"),
        new Mounts.Mount("259:2", "/", "/data", "xfs", "/dev/nvme1n1p1"),
        new Mounts.Mount("0:22", "/", "/", "overlay", "overlay"));
    assertThat(m.root()).map(Mounts.Mount::majorMinor).contains("0:22");
  }

  @Test
  void skipsLinesWithoutTheMountinfoShape() {
    assertThat(Mounts.parse("x\n1 2 3 4 5 6 7\n\n1 2 8:1 / /a rw - ext4\n").all()).isEmpty();
  }

  @Test
  void undoesOctalEscapesOnly() {
    assertThat(Mounts.unescape("/mnt/a\\040b\\011c\\134d\\012")).isEqualTo("/mnt/a b\tc\\d\n");
    assertThat(Mounts.unescape("/mnt/\\x\\04")).isEqualTo("/mnt/\\x\\04");
  }

  /** Whatever the mount point, the kernel's escaping and our parsing round-trip it. */
  @Property
  void mountPointsRoundTrip(@ForAll @StringLength(min = 1, max = 40) String name) {
    String mountPoint = "/" + name.replace("\u0000", "");
    String line = "40 1 8:1 / " + kernelEscape(mountPoint) + " rw shared:7 - ext4 /dev/sda1 rw";
    assertThat(Mounts.parseLine(line)).map(Mounts.Mount::mountPoint).contains(mountPoint);
  }

  /** fs/proc_namespace.c: mangle() escapes space, tab, newline and backslash as three octal digits. */
  private static String kernelEscape(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
        b.append('\\').append(String.format("%03o", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}

package io.reflex.agent.discovery;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The mount table from /proc/[pid]/mountinfo. A line looks like
 * {@code 36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw}: field 3 is the device's MAJ:MIN,
 * field 5 the mount point, and after the lone "-" come the filesystem type and the source. The kernel escapes space,
 * tab, newline and backslash in paths as octal ({@code \040}).
 */
public record Mounts(List<Mount> all) {
  public record Mount(String majorMinor, String root, String mountPoint, String fsType, String source) {
  }

  public Mounts {
    all = List.copyOf(all);
  }

  public static Mounts read(Path mountinfo) {
    return parse(SysFiles.read(mountinfo).orElse(""));
  }

  /** Lines that do not have the mountinfo shape are skipped: one odd line must not hide the others. */
  public static Mounts parse(String mountinfo) {
    List<Mount> mounts = new ArrayList<>();
    for (String line : mountinfo.split("\n")) {
      parseLine(line).ifPresent(mounts::add);
    }
    return new Mounts(mounts);
  }

  static Optional<Mount> parseLine(String line) {
    String[] f = line.strip().split(" ");
    int dash = -1;
    for (int i = 6; i < f.length; i++) {
      if (f[i].equals("-")) {
        dash = i;
        break;
      }
    }
    if (dash < 0 || dash + 2 >= f.length || !f[2].contains(":")) {
      return Optional.empty();
    }
    return Optional.of(new Mount(f[2], unescape(f[3]), unescape(f[4]), f[dash + 1], unescape(f[dash + 2])));
  }

  /** The mount that "/" resolves to (the last one mounted there wins). */
  public Optional<Mount> root() {
    Mount root = null;
    for (Mount m : all) {
      if (m.mountPoint().equals("/")) {
        root = m;
      }
    }
    return Optional.ofNullable(root);
  }

  /** Undoes the kernel's octal escapes ({@code \040} is a space); anything else is kept as written. */
  public static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
        out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int i) {
    return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
  }
}

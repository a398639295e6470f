package io.reflex.agent.discovery;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the small one-value files of sysfs and procfs. Absent files are normal (old kernels, unbound devices), so
 * they come back empty; anything present but unreadable or unparsable is a {@link HostStateException} naming the file.
 */
public final class SysFiles {
  private SysFiles() {
  }

  /** The file's content without surrounding whitespace, or empty when the file does not exist. */
  public static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file).strip());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      throw new HostStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  public static String require(Path file) {
    return read(file).orElseThrow(() -> new HostStateException("missing " + file));
  }

  public static long readLong(Path file) {
    return parseLong(file, require(file));
  }

  /** A decimal number, or {@code absent} when the file does not exist. */
  public static long readLong(Path file, long absent) {
    return read(file).map(text -> parseLong(file, text)).orElse(absent);
  }

  /** A "0x..." number such as a PCI class or vendor id. */
  public static int readHex(Path file) {
    String text = require(file);
    String digits = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
    try {
      return Integer.parseUnsignedInt(digits, 16);
    } catch (NumberFormatException e) {
      throw unparsable(file, text);
    }
  }

  public static long parseLong(Path file, String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw unparsable(file, text);
    }
  }

  public static HostStateException unparsable(Path file, String text) {
    return new HostStateException("cannot parse " + file + ": '" + text + "'");
  }

  /** The last component of a symlink's target (a driver name, an IOMMU group number), or empty if it is no link. */
  public static Optional<String> linkName(Path link) {
    if (!Files.isSymbolicLink(link)) {
      return Optional.empty();
    }
    try {
      Path target = Files.readSymbolicLink(link).getFileName();
      return Optional.ofNullable(target).map(Path::toString);
    } catch (IOException e) {
      throw new HostStateException("cannot read link " + link + ": " + e.getMessage(), e);
    }
  }

  /** The entries of a directory sorted by name, or none when it does not exist. */
  public static List<Path> list(Path dir) {
    return list(dir, "*");
  }

  public static List<Path> list(Path dir, String glob) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, glob)) {
      stream.forEach(entries::add);
    } catch (IOException e) {
      throw new HostStateException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    entries.sort(null);
    return entries;
  }

  public static List<String> names(Path dir) {
    return list(dir).stream().map(p -> p.getFileName().toString()).toList();
  }
}

package io.reflex.agent.binding;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The one way the agent changes kernel state: writing a value into an existing sysfs attribute. Tests put a fake
 * kernel here that also applies the write's effect to their fake tree.
 */
@FunctionalInterface
public interface SysfsWriter {
  void write(Path file, String value) throws IOException;

  /** Writes into the attribute; never creates a file, since a missing attribute means the kernel lacks the feature. */
  SysfsWriter REAL = (file, value) ->
      Files.writeString(file, value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
}

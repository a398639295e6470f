package io.reflex.agent.binding;

import io.reflex.agent.discovery.FakeHost;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plays the kernel's PCI core on a {@link FakeHost}: performs each sysfs write and then what the kernel would do about
 * it. Unbind drops the driver link; drivers_probe binds the function to its driver_override, else to the driver whose
 * id table matches; a driver that is not loaded takes nothing; writing to an attribute that is not there fails.
 */
final class FakeKernel implements SysfsWriter {
  /** Thrown to stand for the agent dying mid-way: nothing after it runs. */
  static final class Crash extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Crash(String where) {
      super("simulated crash after " + where);
    }
  }

  private final FakeHost host;
  private final Map<String, String> idTable = new HashMap<>();
  private final Set<String> refusing = new HashSet<>();
  final List<String> writes = new ArrayList<>();
  private String crashAfter;

  FakeKernel(FakeHost host) {
    this.host = host;
  }

  /** The driver that claims {@code bdf} by its vendor and device id when no override is set. */
  FakeKernel matches(String bdf, String driver) {
    idTable.put(bdf, driver);
    return this;
  }

  /** A loaded driver whose probe fails for every device (the module is there but does not support it). */
  FakeKernel refuses(String driver) {
    refusing.add(driver);
    return this;
  }

  /** Dies once right after the next write to an attribute with this name (unbind, drivers_probe...). */
  FakeKernel crashAfter(String attribute) {
    crashAfter = attribute;
    return this;
  }

  @Override
  public void write(Path file, String value) throws IOException {
    if (!Files.exists(file)) {
      throw new FileSystemException(file.toString(), null, "No such device");
    }
    Path real = file.toRealPath();
    String attribute = real.getFileName().toString();
    writes.add(host.root().relativize(real) + "=" + value.strip());
    switch (attribute) {
      case "driver_override" -> Files.writeString(real, value.strip().isEmpty() ? "(null)\n" : value.strip() + "\n");
      case "unbind" -> unbind(real.getParent().getFileName().toString(), value.strip());
      case "drivers_probe" -> probe(value.strip());
      default -> Files.writeString(real, value);
    }
    if (attribute.equals(crashAfter)) {
      crashAfter = null;
      throw new Crash(attribute);
    }
  }

  private void unbind(String driver, String bdf) throws IOException {
    Path link = host.pciDir(bdf).resolve("driver");
    if (!Files.isSymbolicLink(link) || !Files.readSymbolicLink(link).getFileName().toString().equals(driver)) {
      throw new FileSystemException(link.toString(), null, "No such device");
    }
    Files.delete(link);
  }

  private void probe(String bdf) throws IOException {
    Path dev = host.pciDir(bdf);
    if (Files.exists(dev.resolve("driver"))) {
      return;
    }
    String override = Files.readString(dev.resolve("driver_override")).strip();
    String driver = override.equals("(null)") ? idTable.get(bdf) : override;
    if (driver != null && !refusing.contains(driver)
        && Files.isDirectory(host.roots().sys("bus/pci/drivers/" + driver))) {
      host.bindDriver(bdf, driver);
    }
  }
}

package io.reflex.agent.state;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which NBD port each device's front-end listens on, kept in the agent's state directory: a device keeps its port
 * across agent restarts and upgrades (clients and EndpointSlices keep pointing at it), and a new device takes the
 * lowest port at or above the base that no other device of this node has ever had.
 */
public final class NbdPorts {
  private final Path file;
  private final int base;
  private final Map<String, Integer> ports = new TreeMap<>();

  /** {@code base}: the first port (0: NBD is off and nothing is read or written). */
  public NbdPorts(Path stateDir, int base) {
    if (base < 0 || base > 65535) throw new IllegalArgumentException("--nbd-port must be 0 (off) or 1-65535, got " + base);
    this.file = stateDir.resolve("nbd-ports.json");
    this.base = base;
    if (base == 0) return;
    try {
      Files.createDirectories(stateDir);
      if (Files.exists(file)) ports.putAll(AtomicJson.JSON.readValue(file.toFile(), new TypeReference<Map<String, Integer>>() {}));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the agent's NBD ports " + file + ": " + e.getMessage()
          + " (fix or remove it; devices then get new ports and NBD clients must follow their Secrets)", e);
    }
  }

  public boolean enabled() {
    return base > 0;
  }

  /** The device's port: the one it had, else a new one (remembered before it is returned). 0 when NBD is off. */
  public synchronized int portFor(String device) {
    if (base == 0) return 0;
    Integer p = ports.get(device);
    if (p != null) return p;
    Set<Integer> taken = new HashSet<>(ports.values());
    int port = base;
    while (taken.contains(port)) port++;
    if (port > 65535) throw new IllegalStateException("no NBD port left at or above " + base);
    ports.put(device, port);
    save();
    return port;
  }

  private void save() {
    try {
      AtomicJson.write(file, ports);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the agent's NBD ports " + file + ": " + e.getMessage(), e);
    }
  }

}

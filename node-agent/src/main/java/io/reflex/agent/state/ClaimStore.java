package io.reflex.agent.state;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The devices this agent has claimed, by identity (file dev:inode, block serial/WWID, PCI address), kept in its state
 * directory so that after a restart a device holding its tenants' data (whatever signatures that data carries) is
 * recognised as ours rather than refused as in use. Written atomically (temp file, fsync, rename) before the device is
 * first opened for writing.
 */
public final class ClaimStore {
  /** One claim: which FlashDevice, on which path, since when (epoch ms). */
  public record Claim(String device, String path, long since) {}

  private final Path file;
  private final Map<String, Claim> claims = new TreeMap<>();

  public ClaimStore(Path stateDir) {
    this.file = stateDir.resolve("claims.json");
    try {
      Files.createDirectories(stateDir);
      if (Files.exists(file)) {
        claims.putAll(AtomicJson.JSON.readValue(file.toFile(), new TypeReference<Map<String, Claim>>() {}));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the agent's claims " + file + ": " + e.getMessage()
          + " (fix or remove it; without it devices holding tenant data look in use)", e);
    }
  }

  public synchronized boolean ours(String identity) {
    return identity != null && claims.containsKey(identity);
  }

  public synchronized void claim(String identity, String device, String path) {
    Claim old = claims.get(identity);
    if (old != null && old.device().equals(device) && java.util.Objects.equals(old.path(), path)) return;
    claims.put(identity, new Claim(device, path, old == null ? System.currentTimeMillis() : old.since()));
    save();
  }

  public synchronized void release(String identity) {
    if (claims.remove(identity) != null) save();
  }

  public synchronized Map<String, Claim> all() {
    return Map.copyOf(claims);
  }

  private void save() {
    try {
      AtomicJson.write(file, claims);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the agent's claims " + file + ": " + e.getMessage(), e);
    }
  }

}

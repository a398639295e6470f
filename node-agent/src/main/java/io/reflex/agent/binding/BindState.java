package io.reflex.agent.binding;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the agent remembers about a function it binds, written before it changes anything so that an agent that died
 * halfway can finish the job and still give the device back to its original driver.
 *
 * @param original the kernel driver the function had before, or null when it had none
 * @param target   the user-space driver it is being bound to
 */
record BindState(String bdf, String original, String target, Phase phase) {
  enum Phase { BINDING, BOUND, RELEASING }

  BindState with(Phase next) {
    return new BindState(bdf, original, target, next);
  }

  /** The state files of one agent, one per function, named after its address. */
  record Store(Path dir) {
    Optional<BindState> read(String bdf) throws IOException {
      Map<String, String> kv = new HashMap<>();
      try {
        for (String line : Files.readAllLines(file(bdf))) {
          int eq = line.indexOf('=');
          if (eq > 0) {
            kv.put(line.substring(0, eq), line.substring(eq + 1));
          }
        }
      } catch (NoSuchFileException e) {
        return Optional.empty();
      }
      try {
        String original = kv.getOrDefault("original", "");
        return Optional.of(new BindState(bdf, original.isEmpty() ? null : original, kv.get("target"),
            Phase.valueOf(kv.get("phase"))));
      } catch (RuntimeException e) {
        throw new IOException("cannot parse " + file(bdf) + ": " + kv, e);
      }
    }

    /** Temp file, fsync, rename: a crash leaves the old state or the new one, never half of either. */
    void write(BindState s) throws IOException {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(s.bdf() + ".state.tmp");
      String text = "original=" + (s.original() == null ? "" : s.original()) + "\ntarget=" + s.target()
          + "\nphase=" + s.phase() + "\n";
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(StandardCharsets.UTF_8.encode(text));
        ch.force(true);
      }
      Files.move(tmp, file(s.bdf()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    void delete(String bdf) throws IOException {
      Files.deleteIfExists(file(bdf));
    }

    private Path file(String bdf) {
      return dir.resolve(bdf + ".state");
    }
  }
}

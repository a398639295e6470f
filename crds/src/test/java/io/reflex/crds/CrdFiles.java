package io.reflex.crds;

import io.reflex.crds.generate.CrdGeneration;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Where the committed CRD YAML and examples live, and how the YAML is generated from the model. */
final class CrdFiles {
  private CrdFiles() {}

  /** The crds/ module directory (Surefire runs tests there; {@code basedir} says so explicitly). */
  static Path moduleDir() {
    return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
  }

  static Path generatedDir() {
    return moduleDir().resolve("generated");
  }

  static Path examplesDir() {
    return moduleDir().resolve("examples");
  }

  /** The committed CRDs: crds/generated/flashdevices.reflex.io-v1.yml and flashtenants.reflex.io-v1.yml. */
  static Path[] committedCrds() {
    return new Path[] {
        generatedDir().resolve(FlashDevice.CRD_NAME + "-v1.yml"),
        generatedDir().resolve(FlashTenant.CRD_NAME + "-v1.yml")};
  }

  /** Runs the model's CRD generation into {@code outputDir}; returns the files it wrote. */
  static List<Path> generate(Path outputDir) {
    return CrdGeneration.generate(outputDir);
  }

  static List<Path> list(Path dir, String suffix) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

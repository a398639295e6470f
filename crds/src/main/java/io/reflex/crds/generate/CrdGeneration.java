package io.reflex.crds.generate;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Generates the CRD YAML from the model: the single recipe behind crds/generated/ (the test that guards it, and
 * later the Helm chart). Needs io.fabric8:crd-generator-api-v2 on the class path (a provided dependency here).
 */
public final class CrdGeneration {
  private CrdGeneration() {}

  public static final List<Class<? extends HasMetadata>> RESOURCES = List.of(FlashDevice.class, FlashTenant.class);

  /** Writes {@code <plural>.<group>-v1.yml} per resource into {@code outputDir}; returns the files, sorted. */
  public static List<Path> generate(Path outputDir) {
    try {
      Files.createDirectories(outputDir);
      new CRDGenerator()
          .customResourceClasses(RESOURCES)
          .forCRDVersions("v1")
          .withParallelGenerationEnabled(false)
          .withPostProcessor(new ReflexCrdPostProcessor(RESOURCES))
          .inOutputDir(outputDir.toFile())
          .generate();
      try (Stream<Path> files = Files.list(outputDir)) {
        return files.filter(p -> p.getFileName().toString().endsWith("-v1.yml")).sorted().toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("generating CRDs into " + outputDir, e);
    }
  }

  /** {@code java ... io.reflex.crds.generate.CrdGeneration <dir>}: write the CRDs into a directory. */
  public static void main(String[] args) {
    for (Path p : generate(Path.of(args.length > 0 ? args[0] : "generated"))) {
      System.out.println(p);
    }
  }
}

package io.reflex.crds;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed CRD YAML (crds/generated/) is exactly what the Java model generates.
 *
 * <p>After changing the model, regenerate with
 * {@code ./mvnw -pl crds test -Dtest=CrdYamlUpToDateTest -Dreflex.crds.update=true} and commit the result.
 */
class CrdYamlUpToDateTest {

  static final String UPDATE = "reflex.crds.update";

  @Test
  void committedCrdsMatchTheModel(@TempDir Path tmp) throws IOException {
    List<Path> generated = CrdFiles.generate(tmp);
    assertThat(generated).extracting(p -> p.getFileName().toString())
        .containsExactly("flashdevices.reflex.io-v1.yml", "flashtenants.reflex.io-v1.yml");

    if (Boolean.getBoolean(UPDATE)) {
      Files.createDirectories(CrdFiles.generatedDir());
      for (Path p : generated) {
        Files.copy(p, CrdFiles.generatedDir().resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    for (Path p : generated) {
      Path committed = CrdFiles.generatedDir().resolve(p.getFileName());
      assertThat(committed)
          .as("%s is missing or stale: the Java model in io.reflex.crds.v1alpha1 generates different YAML. "
              + "Regenerate with: ./mvnw -pl crds test -Dtest=CrdYamlUpToDateTest -D%s=true", committed, UPDATE)
          .exists()
          .hasSameTextualContentAs(p);
    }
    assertThat(CrdFiles.list(CrdFiles.generatedDir(), ".yml")).as("stale files in crds/generated")
        .hasSameSizeAs(generated);
  }
}

package io.reflex.operator;

import io.quarkiverse.operatorsdk.runtime.api.ConfigurationServiceCustomizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How the operator is wired into quarkus-operator-sdk (what a unit test can see of it). */
class OperatorWiringTest {
  /**
   * With any ConfigurationServiceCustomizer bean, quarkus-operator-sdk 7.7.3 hands JOSDK a configuration that makes a
   * default Kubernetes client of its own (see {@link LeaderElection}): the operator must have none.
   */
  @Test
  void noConfigurationServiceCustomizer() throws Exception {
    Path classes = Path.of(ClientSerialization.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> names;
    try (Stream<Path> files = Files.walk(classes)) {
      names = files.filter(f -> f.toString().endsWith(".class"))
          .map(f -> classes.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "")).toList();
    }
    assertThat(names).contains(ClientSerialization.class.getName());
    ClassLoader loader = ClientSerialization.class.getClassLoader();
    for (String n : names) {
      Class<?> c = Class.forName(n, false, loader);
      assertThat(ConfigurationServiceCustomizer.class.isAssignableFrom(c)).as(n).isFalse();
    }
  }
}

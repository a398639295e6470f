package io.reflex.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What a {@link KubeApiTest} gets: a control plane, its own namespace, a client bound to it, and kubectl. */
public final class KubeApi implements AutoCloseable {

  public static final String FIELD_MANAGER = "reflex-e2e";

  private final ControlPlane controlPlane;
  private final String namespace;
  private final KubernetesClient client;
  private final Kubectl kubectl;

  KubeApi(ControlPlane controlPlane, String namespace, KubernetesClient client, Path kubectlCache) {
    this.controlPlane = controlPlane;
    this.namespace = namespace;
    this.client = client;
    this.kubectl = new Kubectl(controlPlane.kubeconfig(), namespace, kubectlCache);
  }

  public ControlPlane controlPlane() {
    return controlPlane;
  }

  /** This test class's namespace (created before the class, deleted after it). */
  public String namespace() {
    return namespace;
  }

  /** Admin client whose default namespace is {@link #namespace()}; closed after the class. */
  public KubernetesClient client() {
    return client;
  }

  public Kubectl kubectl() {
    return kubectl;
  }

  public Kubectl.Result kubectl(String... args) {
    return kubectl.run(args);
  }

  /**
   * Applies CustomResourceDefinitions from YAML files (server-side apply, forced) and waits until each one is
   * Established, so custom resources can be created right after. Idempotent: safe on a shared server.
   */
  public List<CustomResourceDefinition> installCrds(Path... yamlFiles) {
    List<CustomResourceDefinition> installed = new ArrayList<>();
    for (Path f : yamlFiles) {
      try (InputStream in = Files.newInputStream(f)) {
        installed.addAll(installCrds(in));
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + f, e);
      }
    }
    return installed;
  }

  public List<CustomResourceDefinition> installCrds(InputStream yaml) {
    List<CustomResourceDefinition> installed = new ArrayList<>();
    for (HasMetadata item : client.load(yaml).items()) {
      if (!(item instanceof CustomResourceDefinition crd)) {
        throw new IllegalArgumentException("not a CustomResourceDefinition: " + item.getKind());
      }
      client.resource(crd).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
      installed.add(client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
          .waitUntilCondition(KubeApi::established, 30, TimeUnit.SECONDS));
    }
    return installed;
  }

  private static boolean established(CustomResourceDefinition crd) {
    return crd != null && crd.getStatus() != null && crd.getStatus().getConditions() != null
        && crd.getStatus().getConditions().stream()
            .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  @Override
  public void close() {
    client.close();
  }
}

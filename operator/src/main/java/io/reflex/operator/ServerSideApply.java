package io.reflex.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * Server-side apply of the operator's fields (field manager {@value OperatorSettings#FIELD_MANAGER}, forced), with the
 * object sent as JSON. The client's own {@code serverSideApply()} turns the object into YAML first (snakeyaml, several
 * times the cost of Jackson); JSON is YAML, so the API server takes it as it is.
 */
public final class ServerSideApply {
  private static final PatchContext APPLY = new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
      .withFieldManager(OperatorSettings.FIELD_MANAGER).withForce(true).build();

  private ServerSideApply() {}

  /** Applies {@code o}; returns what the API server holds afterwards. */
  public static <R extends HasMetadata> R apply(KubernetesClient c, R o) {
    return c.resource(o).patch(APPLY, c.getKubernetesSerialization().asJson(o));
  }

  /** Applies {@code o}'s status (the object carries only name, namespace and status). */
  public static <R extends HasMetadata> R applyStatus(KubernetesClient c, R o) {
    return c.resource(o).subresource("status").patch(APPLY, c.getKubernetesSerialization().asJson(o));
  }
}

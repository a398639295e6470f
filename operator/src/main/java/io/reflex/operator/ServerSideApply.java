package io.reflex.operator;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;

/**
 * Server-side apply of the operator's fields (field manager {@value OperatorSettings#FIELD_MANAGER}, forced), with the
 * object sent as JSON. The client's own {@code serverSideApply()} turns the object into YAML first (snakeyaml, several
 * times the cost of Jackson); JSON is YAML, so the API server takes it as it is.
 *
 * <p>The patch is addressed through a bare object of the same class carrying only name and namespace: the client
 * copies the object a patch is addressed through (a JSON round trip of the whole object) and needs no more of it
 * than the URL.
 */
public final class ServerSideApply {
  private static final PatchContext APPLY = new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
      .withFieldManager(OperatorSettings.FIELD_MANAGER).withForce(true).build();
  private static final ClassValue<Constructor<?>> NO_ARGS = new ClassValue<>() {
    @Override
    protected Constructor<?> computeValue(Class<?> type) {
      try {
        return type.getConstructor();
      } catch (NoSuchMethodException e) {
        return null;
      }
    }
  };

  private ServerSideApply() {}

  /** Applies {@code o}; returns what the API server holds afterwards. */
  public static <R extends HasMetadata> R apply(KubernetesClient c, R o) {
    return c.resource(address(o)).patch(APPLY, c.getKubernetesSerialization().asJson(o));
  }

  /** Applies {@code o}'s status (the object carries only name, namespace and status). */
  public static <R extends HasMetadata> R applyStatus(KubernetesClient c, R o) {
    return c.resource(address(o)).subresource("status").patch(APPLY, c.getKubernetesSerialization().asJson(o));
  }

  /** An object of {@code o}'s (typed) class with only its apiVersion, name and namespace ({@code o} if none can be made). */
  @SuppressWarnings("unchecked")
  static <R extends HasMetadata> R address(R o) {
    Constructor<?> k = o instanceof GenericKubernetesResource ? null : NO_ARGS.get(o.getClass());
    if (k == null) {
      return o;
    }
    R a;
    try {
      a = (R) k.newInstance();
    } catch (InstantiationException | IllegalAccessException | InvocationTargetException e) {
      return o;
    }
    a.setApiVersion(o.getApiVersion());
    a.setMetadata(new ObjectMetaBuilder().withName(o.getMetadata().getName())
        .withNamespace(o.getMetadata().getNamespace()).build());
    return a;
  }
}

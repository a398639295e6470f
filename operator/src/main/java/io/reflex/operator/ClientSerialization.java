package io.reflex.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.module.blackbird.BlackbirdModule;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.quarkus.kubernetes.client.KubernetesClientObjectMapper;
import io.quarkus.kubernetes.client.KubernetesResources;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The Kubernetes client's serialization, as Quarkus makes it, with bean properties read and written through
 * generated lambdas (Jackson's Blackbird module) instead of reflective {@code Method.invoke}: a fifth of the
 * operator's non-JIT CPU at 10,000 tenants was reflection (every watch event and write response deserialized, every
 * write body serialized).
 *
 * <p>Blackbird optimizes only Jackson's own property classes, and the client's UnmatchedFieldTypeModule wraps every
 * property of every model class in delegates of its own (before any later module sees them). Those delegates matter
 * only inside OpenShift Templates (a string such as {@code ${PORT}} in an int field kept aside; the client's default
 * {@code restrictToTemplates}), which the operator never reads or writes. So that module is left out: a placeholder
 * with its type id is registered first, and Jackson skips the client's registration of the same id.
 */
@Singleton
public class ClientSerialization {
  /** The client's module, by the type id Jackson registers it under (a SimpleModule subclass: its class name). */
  static final String UNMATCHED_FIELD_TYPE_MODULE = "io.fabric8.kubernetes.model.jackson.UnmatchedFieldTypeModule";

  @Produces
  @Singleton
  @SuppressWarnings("rawtypes") // the bean's type, as Quarkus produces it
  KubernetesSerialization kubernetesSerialization(@KubernetesClientObjectMapper ObjectMapper mapper,
                                                  @KubernetesResources Class[] resources) {
    KubernetesSerialization s = create(mapper);
    for (Class<?> r : resources) {
      s.registerKubernetesResource(r.asSubclass(KubernetesResource.class));
    }
    return s;
  }

  /** The client's serialization over {@code mapper} (not yet used), with Blackbird and without the template module. */
  public static KubernetesSerialization create(ObjectMapper mapper) {
    mapper.registerModule(new SimpleModule(UNMATCHED_FIELD_TYPE_MODULE));
    mapper.registerModule(new BlackbirdModule());
    return new KubernetesSerialization(mapper, false);
  }
}

package io.reflex.operator;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.module.blackbird.BlackbirdModule;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.quarkus.kubernetes.client.KubernetesClientObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * The Kubernetes client's serialization with bean properties read and written through generated lambdas (Jackson's
 * Blackbird module) instead of reflective {@code Method.invoke}: a fifth of the operator's non-JIT CPU at 10,000
 * tenants was reflection (every watch event and write response deserialized, every write body serialized).
 *
 * <p>Blackbird optimizes only Jackson's own property classes, and the client's UnmatchedFieldTypeModule wraps every
 * property of every model class in delegates of its own (before any later module sees them). Those delegates matter
 * only inside OpenShift Templates (a string such as {@code ${PORT}} in an int field kept aside; the client's default
 * {@code restrictToTemplates}), which the operator never reads or writes. So that module is left out: a placeholder
 * with its type id is registered first, and Jackson skips the client's registration of the same id. This runs as the
 * customizer of the mapper Quarkus builds for its client (the client JOSDK runs on too: see LeaderElection).
 *
 * <p>Objects are read without {@code metadata.managedFields} (server-side apply's bookkeeping, a tree of untyped maps
 * per field manager in every watch event and write response): the operator never reads it, its caches dropped it
 * anyway ({@link io.reflex.operator.cache.LeanItemStore}), and an object written back without it keeps the server's.
 */
@Singleton
public class ClientSerialization implements KubernetesClientObjectMapperCustomizer {
  /** The client's module, by the type id Jackson registers it under (a SimpleModule subclass: its class name). */
  static final String UNMATCHED_FIELD_TYPE_MODULE = "io.fabric8.kubernetes.model.jackson.UnmatchedFieldTypeModule";

  @Override
  public void customize(ObjectMapper mapper) {
    prepare(mapper);
  }

  /** Readies {@code mapper} (not yet used) for the client: Blackbird, no template module, no managed fields. */
  public static ObjectMapper prepare(ObjectMapper mapper) {
    mapper.addMixIn(ObjectMeta.class, WithoutManagedFields.class);
    mapper.registerModule(new SimpleModule(UNMATCHED_FIELD_TYPE_MODULE));
    mapper.registerModule(new BlackbirdModule());
    return mapper;
  }

  /** The client's serialization over {@code mapper} (not yet used), {@link #prepare}d. */
  public static KubernetesSerialization create(ObjectMapper mapper) {
    return new KubernetesSerialization(prepare(mapper), false);
  }

  /** Skips {@code managedFields} when reading (writing one the operator set is still possible; it sets none). */
  @JsonIgnoreProperties(value = "managedFields", allowGetters = true)
  abstract static class WithoutManagedFields {}
}

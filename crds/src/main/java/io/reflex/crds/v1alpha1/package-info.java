/**
 * The reflex.io/v1alpha1 API: {@link io.reflex.crds.v1alpha1.FlashDevice} (cluster-scoped, published by the node
 * agent) and {@link io.reflex.crds.v1alpha1.FlashTenant} (namespaced, written by users, placed by the operator).
 *
 * <p>The CRD YAML in crds/generated/ is generated from these classes; validation lives in the schema (ranges,
 * enums, patterns) and, where the schema cannot say it, in CEL rules ({@code @ValidationRule}). List-map types
 * ({@link io.reflex.crds.v1alpha1.ListMapKeys}, conditions by type) and the standard Condition item schema are
 * added by {@code io.reflex.crds.generate.ReflexCrdPostProcessor}, so that server-side apply merges lists by key.
 */
package io.reflex.crds.v1alpha1;

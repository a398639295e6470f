package io.reflex.crds.v1alpha1;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a list as {@code x-kubernetes-list-type: map} keyed by these item fields (which must be required), so
 * server-side apply merges items by key and two field managers can own different items. Lists without it are
 * atomic (replaced whole), the Kubernetes default. Lists of {@link io.fabric8.kubernetes.api.model.Condition}
 * are keyed by type without this annotation. Applied by {@code io.reflex.crds.generate.ReflexCrdPostProcessor}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface ListMapKeys {
  String[] value();
}

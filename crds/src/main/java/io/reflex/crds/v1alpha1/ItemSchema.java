package io.reflex.crds.v1alpha1;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Constraints on the string items of a list, or the string values of a map, which the generator's annotations
 * cannot reach. Cheaper than a CEL rule over every item (the API server rejects CRDs whose estimated CEL cost is
 * too high). Applied by {@code io.reflex.crds.generate.ReflexCrdPostProcessor}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface ItemSchema {
  /** maxLength of each item; 0 = none. */
  long maxLength() default 0;

  /** pattern each item must match; empty = none. */
  String pattern() default "";
}

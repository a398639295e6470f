package io.reflex.crds.v1alpha1;

/** Operators of a label selector requirement (as in metav1.LabelSelectorRequirement). */
public enum SelectorOperator {
  In, NotIn, Exists, DoesNotExist
}

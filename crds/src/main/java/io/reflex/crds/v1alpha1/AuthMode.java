package io.reflex.crds.v1alpha1;

/** How a client proves it may use a tenant. */
public enum AuthMode {
  /** The client sends the tenant's token (HELLO, or in the NBD export name); the operator keeps it in a Secret. */
  Token,
  /** No authentication (any client that reaches the port; for tests and trusted networks only). */
  None
}

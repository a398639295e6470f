package io.reflex.e2e;

/** The control plane could not be started, reached or stopped; the message says what to do. */
public final class ControlPlaneException extends RuntimeException {
  public ControlPlaneException(String message) {
    super(message);
  }

  public ControlPlaneException(String message, Throwable cause) {
    super(message, cause);
  }
}

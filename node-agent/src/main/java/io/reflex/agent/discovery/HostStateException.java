package io.reflex.agent.discovery;

/**
 * The host's kernel interfaces said something we cannot use (a missing or garbled sysfs file, an IO error). The
 * message names the file and what was wrong so an admin can act on it; discovery turns it into an
 * {@link InUse.Kind#UNREADABLE} reason rather than letting it escape, because a device we cannot judge is not free.
 */
public final class HostStateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public HostStateException(String message) {
    super(message);
  }

  public HostStateException(String message, Throwable cause) {
    super(message, cause);
  }
}

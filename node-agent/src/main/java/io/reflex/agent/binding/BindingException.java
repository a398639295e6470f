package io.reflex.agent.binding;

import io.reflex.agent.discovery.InUse;
import java.util.List;

/** Binding was refused (the device is in use) or failed; the message says which and what to do. */
public final class BindingException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient List<InUse> reasons;

  public BindingException(String message) {
    this(message, List.of(), null);
  }

  public BindingException(String message, List<InUse> reasons, Throwable cause) {
    super(message, cause);
    this.reasons = List.copyOf(reasons);
  }

  /** Why the device counts as in use; empty when binding failed for another reason. */
  public List<InUse> reasons() {
    return reasons;
  }
}

package io.reflex.agent.binding;

import java.util.List;

/**
 * The outcome of binding or releasing one PCI function.
 *
 * @param bdf            the PCI function
 * @param driver         the driver it is bound to now, or null when none
 * @param originalDriver the kernel driver it had before the agent claimed it, or null when unknown or none
 * @param changed        whether anything was written (false: it already was as asked)
 * @param warnings       things an admin should know that do not stop the binding (a shared IOMMU group...)
 */
public record BindResult(String bdf, String driver, String originalDriver, boolean changed, List<String> warnings) {
  public BindResult {
    warnings = List.copyOf(warnings);
  }
}

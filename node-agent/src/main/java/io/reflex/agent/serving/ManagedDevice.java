package io.reflex.agent.serving;

import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.crds.v1alpha1.Engine;

/**
 * A device this agent is responsible for: named in its configuration, or by a FlashDevice an admin created for this
 * node.
 *
 * @param name       the FlashDevice's name
 * @param path       block device or file (null for a PCI function not bound to the kernel, or the memory engine)
 * @param pciAddress PCI function, or null
 * @param engine     storage engine
 * @param model      device model: a built-in name, a .yaml path, or {@code calibrate} (the agent measures it first)
 * @param claim      may the agent bind it to a user-space driver
 * @param capacity   serve at most this many bytes (0: the whole device)
 * @param configured from the agent's configuration (the agent writes its FlashDevice spec) rather than an admin's
 * @param createBytes a plain file the agent creates (sparse) when it is missing, or 0
 */
public record ManagedDevice(String name, String path, String pciAddress, Engine engine, String model, ClaimPolicy claim,
                            long capacity, boolean configured, long createBytes) {
  public static final String CALIBRATE = io.reflex.crds.v1alpha1.DeviceModelRef.CALIBRATE;

  /** Whether the agent calibrates this device before it is offered (model {@code calibrate}). */
  public boolean calibrates() {
    return CALIBRATE.equals(model);
  }

  /** The same device served with this model (a calibrated model's file). */
  public ManagedDevice withModel(String m) {
    return new ManagedDevice(name, path, pciAddress, engine, m, claim, capacity, configured, createBytes);
  }

  public boolean needsHugePages() {
    return engine == Engine.SPDK;
  }
}

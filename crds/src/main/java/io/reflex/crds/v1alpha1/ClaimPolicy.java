package io.reflex.crds.v1alpha1;

/** May the node agent take the device away from the kernel (bind it to vfio-pci/uio)? */
public enum ClaimPolicy {
  /** Never rebind: use the device through the kernel driver (engines uring, file). The default. */
  Never,
  /** Rebind only while nothing on the device is mounted or held, and never the boot disk. */
  IfUnused
}

package io.reflex.crds.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Storage engine the dataplane uses for a device (DESIGN §5). */
public enum Engine {
  /** io_uring on a block device or file (Linux ≥ 5.6); the default. */
  @JsonProperty("uring") URING,
  /** O_DIRECT reads and writes on any file or block device. */
  @JsonProperty("file") FILE,
  /** RAM, for tests and benchmarks of the dataplane alone; needs spec.capacity. */
  @JsonProperty("memory") MEMORY,
  /** SPDK's user-space NVMe driver; needs a pciAddress and a device bound to vfio-pci. */
  @JsonProperty("spdk") SPDK
}

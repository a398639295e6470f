package io.reflex.operator.placement;

import io.reflex.devmodels.DeviceModel;
import java.util.Map;
import java.util.Objects;

/**
 * A device as placement sees it: where it is, what it is labelled, whether it may take new tenants, how big it is
 * and its cost model. No Kubernetes types: the operator translates FlashDevice + Node into this.
 *
 * @param name          FlashDevice name
 * @param node          node the device is attached to
 * @param labels        the device's own labels (device selector)
 * @param nodeLabels    the node's labels (node selector, zone); empty when the Node object is unknown
 * @param healthy       Ready: may take new tenants (tenants already there stay recorded either way)
 * @param capacityBytes bytes the device serves
 * @param model         cost model (devmodels)
 */
public record Device(String name, String node, Map<String, String> labels, Map<String, String> nodeLabels,
                     boolean healthy, long capacityBytes, DeviceModel model) {
  public static final String ZONE_LABEL = "topology.kubernetes.io/zone";

  public Device {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(model, "model");
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    nodeLabels = nodeLabels == null ? Map.of() : Map.copyOf(nodeLabels);
    if (capacityBytes < 0) {
      throw new IllegalArgumentException(name + ": capacityBytes < 0");
    }
  }

  /** The node's zone label, else the device's own (a device published without its Node still has a zone). */
  public String zone() {
    String z = nodeLabels.get(ZONE_LABEL);
    return z != null ? z : labels.get(ZONE_LABEL);
  }

  public Device withHealthy(boolean h) {
    return new Device(name, node, labels, nodeLabels, h, capacityBytes, model);
  }
}

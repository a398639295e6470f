package io.reflex.crds.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalSelectableField;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A flash device on a node (cluster-scoped): published by the node agent, budgeted by the operator. */
@Group(FlashDevice.GROUP)
@Version(FlashDevice.VERSION)
@Kind("FlashDevice")
@Singular("flashdevice")
@Plural("flashdevices")
@ShortNames("fd")
@AdditionalPrinterColumn(name = "Node", jsonPath = ".spec.nodeName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Engine", jsonPath = ".spec.engine", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Capacity", jsonPath = ".status.capacityBytes", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Reserved%", jsonPath = ".status.reservedPercent", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Tenants", jsonPath = ".status.tenantCount", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Model", jsonPath = ".spec.deviceModel.name", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
// Field selector (Kubernetes >= 1.31): each node agent watches only its node's devices.
@AdditionalSelectableField(jsonPath = ".spec.nodeName")
public class FlashDevice extends CustomResource<FlashDeviceSpec, FlashDeviceStatus> {
  public static final String GROUP = "reflex.io";
  public static final String VERSION = "v1alpha1";
  public static final String CRD_NAME = "flashdevices." + GROUP;
  /** Field selector key (a selectable field) of the node a device is on. */
  public static final String NODE_FIELD = "spec.nodeName";
  /** {@code status.transport}: kernel TCP on the node's address (also when absent). */
  public static final String TRANSPORT_TCP = "tcp";
  /** {@code status.transport}: ReFlex over UDP from the node agent's DPDK port. */
  public static final String TRANSPORT_UDP = "udp";
  /** Annotation with the address clients reach the device's node on (its agent sets it; the operator reads it). */
  public static final String NODE_ADDRESS_ANNOTATION = GROUP + "/node-address";
  /**
   * Annotation asking the node agent to recalibrate a device whose model is {@code calibrate}: any new value (a token)
   * is handled once; the token the published model answers is status.calibration.recalibrateToken.
   */
  public static final String RECALIBRATE_ANNOTATION = GROUP + "/recalibrate";
  /** Annotation "true": a recalibration may overwrite the data of the tenants placed on the device. */
  public static final String CALIBRATION_OVERWRITES_DATA_ANNOTATION = GROUP + "/calibration-overwrites-data";
}

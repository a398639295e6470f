package io.reflex.crds.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalSelectableField;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A tenant's slice of remote flash with an SLO (namespaced): applied by users, admitted and placed by the operator. */
@Group(FlashDevice.GROUP)
@Version(FlashDevice.VERSION)
@Kind("FlashTenant")
@Singular("flashtenant")
@Plural("flashtenants")
@ShortNames("ft")
@AdditionalPrinterColumn(name = "Class", jsonPath = ".spec.class", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "IOPS", jsonPath = ".spec.iops", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "P95us", jsonPath = ".spec.p95LatencyMicros", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Capacity", jsonPath = ".spec.capacity", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Device", jsonPath = ".status.placement.device", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Node", jsonPath = ".status.placement.node", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Endpoint", jsonPath = ".status.endpoint", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
// Field selectors (Kubernetes >= 1.31): `kubectl get ft -A --field-selector status.placement.device=D`; node agents
// watch only their node's tenants. They replace the reflex.io/device label, which cost a write per placement.
@AdditionalSelectableField(jsonPath = ".status.placement.device")
@AdditionalSelectableField(jsonPath = ".status.placement.node")
public class FlashTenant extends CustomResource<FlashTenantSpec, FlashTenantStatus> implements Namespaced {
  public static final String CRD_NAME = "flashtenants." + FlashDevice.GROUP;
  /** Field selector key (a selectable field) of the FlashDevice a tenant is placed on. */
  public static final String DEVICE_FIELD = "status.placement.device";
  /** Field selector key (a selectable field) of the node a tenant is placed on. */
  public static final String NODE_FIELD = "status.placement.node";
  /** Label older operators put on placed tenants (their device); removed when such a tenant is next written. */
  public static final String LEGACY_DEVICE_LABEL = FlashDevice.GROUP + "/device";
}

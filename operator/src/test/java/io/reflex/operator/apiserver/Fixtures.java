package io.reflex.operator.apiserver;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.reflex.crds.v1alpha1.DeviceModelRef;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.DeviceSelector;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashDeviceSpec;
import io.reflex.crds.v1alpha1.FlashDeviceStatus;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.PlacementConstraints;
import io.reflex.crds.v1alpha1.TenantClass;
import java.util.HashMap;
import java.util.Map;

/** Objects as a node agent (devices, nodes) and users (tenants) would create them. */
final class Fixtures {
  static final String AGENT = "reflex-agent-test";
  static final String GROUP_LABEL = "test.reflex.io/group";

  private Fixtures() {}

  /** A Node object (no kubelet here: just the API object) with an InternalIP and a zone. */
  static void node(KubernetesClient c, String name, String ip, String zone) {
    Node n = new NodeBuilder().withNewMetadata().withName(name).addToLabels("topology.kubernetes.io/zone", zone)
        .endMetadata().build();
    c.nodes().resource(n).fieldManager(AGENT).forceConflicts().serverSideApply();
    Node st = new NodeBuilder().withNewMetadata().withName(name).endMetadata().withNewStatus().addNewAddress()
        .withType("InternalIP").withAddress(ip).endAddress().endStatus().build();
    c.nodes().resource(st).subresource("status").patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
        .withFieldManager(AGENT).withForce(true).build(), st);
  }

  /** A memory device with the sample model, Ready, as the agent publishes it. */
  static FlashDevice device(KubernetesClient c, String name, String node, String capacity, String group,
                            Map<String, String> annotations) {
    FlashDevice d = new FlashDevice();
    Map<String, String> labels = new HashMap<>();
    labels.put(GROUP_LABEL, group);
    d.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(labels).withAnnotations(annotations).build());
    FlashDeviceSpec s = new FlashDeviceSpec();
    s.setNodeName(node);
    s.setEngine(Engine.MEMORY);
    s.setCapacity(new Quantity(capacity));
    s.setDeviceModel(DeviceModelRef.named("sample"));
    d.setSpec(s);
    c.resource(d).fieldManager(AGENT).forceConflicts().serverSideApply();
    return deviceStatus(c, name, DevicePhase.Ready);
  }

  static FlashDevice deviceStatus(KubernetesClient c, String name, DevicePhase phase) {
    return deviceStatus(c, name, phase, null);
  }

  /** The agent's status fields, with the device's NBD port (null: none). */
  static FlashDevice deviceStatus(KubernetesClient c, String name, DevicePhase phase, Integer nbdPort) {
    return deviceStatus(c, name, phase, nbdPort, null);
  }

  /** ... and how its tenants are reached ({@code udp}: the agent's DPDK port; null: not stated, i.e. tcp). */
  static FlashDevice deviceStatus(KubernetesClient c, String name, DevicePhase phase, Integer nbdPort, String transport) {
    FlashDevice p = new FlashDevice();
    p.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashDeviceStatus st = new FlashDeviceStatus();
    st.setPhase(phase);
    st.setNbdPort(nbdPort);
    st.setTransport(transport);
    p.setStatus(st);
    return c.resource(p).subresource("status").patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
        .withFieldManager(AGENT).withForce(true).build(), p);
  }

  static FlashTenant lc(String name, long iops, int read, int p95, String capacity, String group) {
    FlashTenant t = be(name, capacity, group);
    t.getSpec().setServiceClass(TenantClass.LC);
    t.getSpec().setIops(iops);
    t.getSpec().setReadPercent(read);
    t.getSpec().setP95LatencyMicros(p95);
    return t;
  }

  static FlashTenant be(String name, String capacity, String group) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withName(name).build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(TenantClass.BE);
    s.setCapacity(new Quantity(capacity));
    PlacementConstraints pc = new PlacementConstraints();
    DeviceSelector sel = new DeviceSelector();
    sel.setMatchLabels(Map.of(GROUP_LABEL, group));
    pc.setDeviceSelector(sel);
    s.setPlacement(pc);
    t.setSpec(s);
    return t;
  }
}

package io.reflex.agent.kube;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.serving.ManagedDevice;
import io.reflex.crds.v1alpha1.DeviceCalibration;
import io.reflex.crds.v1alpha1.DeviceModelRef;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashDeviceSpec;
import io.reflex.crds.v1alpha1.FlashDeviceStatus;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.InlineDeviceModel;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.crds.v1alpha1.TenantPhase;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The agent's writes to the API server, all server-side applies under its own per-node field manager: FlashDevice
 * metadata (node label, address and heartbeat Lease annotations) and, for configured devices, spec; the agent's part of FlashDevice
 * status (phase, capacity, transport, observedGeneration, conditions Discovered, Claimed, HugePages, Network, Serving); the agent's part of
 * FlashTenant status (phase Serving/Placed and the Serving condition). The operator's fields are never sent, so
 * neither side overwrites the other's.
 */
public final class Publisher {
  public static final String NODE_LABEL = FlashDevice.GROUP + "/node";
  public static final String SERVING = "Serving";

  private final KubernetesClient client;
  private final AgentSettings settings;
  private final String agentLease;

  public Publisher(KubernetesClient client, AgentSettings settings) {
    this(client, settings, null);
  }

  /** {@code agentLease}: the heartbeat Lease ({@code namespace/name}) every device names, or null (no heartbeat). */
  public Publisher(KubernetesClient client, AgentSettings settings, String agentLease) {
    this.client = client;
    this.settings = settings;
    this.agentLease = agentLease;
  }

  /** The annotations the agent owns on each of its devices: the node's address and its heartbeat Lease. */
  public Map<String, String> annotations() {
    return annotations(settings.address().getHostAddress());
  }

  /** The same, with the address the device's tenants are reached at (its DPDK port's, for the device served there). */
  public Map<String, String> annotations(String address) {
    Map<String, String> a = new java.util.HashMap<>();
    a.put(FlashDevice.NODE_ADDRESS_ANNOTATION, address);
    if (agentLease != null) a.put(Heartbeat.LEASE_ANNOTATION, agentLease);
    return a;
  }

  /** Metadata (and spec, when the agent's configuration names the device) of one device. */
  public FlashDevice applyDevice(ManagedDevice d) {
    return applyDevice(d, settings.address().getHostAddress());
  }

  /** {@code address}: where the device's tenants are reached (the node's, or the DPDK port's). */
  public FlashDevice applyDevice(ManagedDevice d, String address) {
    FlashDevice fd = new FlashDevice();
    fd.setMetadata(new ObjectMetaBuilder().withName(d.name()).withLabels(Map.of(NODE_LABEL, settings.node()))
        .withAnnotations(annotations(address)).build());
    if (d.configured()) {
      FlashDeviceSpec spec = new FlashDeviceSpec();
      spec.setNodeName(settings.node());
      if (d.pciAddress() != null && d.path() == null) spec.setPciAddress(d.pciAddress());
      else spec.setDevicePath(d.path());
      spec.setEngine(d.engine());
      spec.setDeviceModel(modelRef(d.model()));
      spec.setClaimPolicy(d.claim());
      if (d.capacity() > 0) spec.setCapacity(new Quantity(Long.toString(d.capacity())));
      fd.setSpec(spec);
    }
    return client.resource(fd).fieldManager(settings.fieldManager()).forceConflicts().serverSideApply();
  }

  /** A built-in model by name; a model file (e.g. from a calibration) inline, so the operator prices it too. */
  static DeviceModelRef modelRef(String model) {
    if (DeviceModels.BUILTIN.contains(model) || DeviceModelRef.CALIBRATE.equals(model)) return DeviceModelRef.named(model);
    DeviceModel m = DeviceModels.load(model);
    InlineDeviceModel inline = new InlineDeviceModel();
    inline.setReadCost4k(Math.toIntExact(m.readCost4k()));
    inline.setWriteCost4k(Math.toIntExact(m.writeCost4k()));
    if (m.unlimited()) inline.setUnlimited(true);
    inline.setTokenLimits(m.tokenLimits().stream().map(l -> new io.reflex.crds.v1alpha1.TokenLimit((int) l.p95Micros(),
        (long) l.mixedTokensPerSec(), (long) l.readOnlyTokensPerSec())).toList());
    DeviceModelRef ref = new DeviceModelRef();
    ref.setInline(inline);
    return ref;
  }

  /** The agent's part of a device's status. */
  public void deviceStatus(String name, DevicePhase phase, Long observedGeneration, Long capacityBytes, Integer nbdPort,
                           List<Condition> conditions) {
    deviceStatus(name, phase, observedGeneration, capacityBytes, nbdPort, conditions, null);
  }

  /**
   * The agent's part of a device's status, with the calibrated model it published ({@code calibration}; null for a
   * device with another model: the field is released). Every write of a calibrated device's status must carry it,
   * or server-side apply drops it.
   */
  public void deviceStatus(String name, DevicePhase phase, Long observedGeneration, Long capacityBytes, Integer nbdPort,
                           List<Condition> conditions, DeviceCalibration calibration) {
    deviceStatus(name, phase, observedGeneration, capacityBytes, nbdPort, conditions, calibration, null);
  }

  /** {@code transport}: how the device's tenants are reached, {@code tcp} or {@code udp} (null: not stated). */
  public void deviceStatus(String name, DevicePhase phase, Long observedGeneration, Long capacityBytes, Integer nbdPort,
                           List<Condition> conditions, DeviceCalibration calibration, String transport) {
    FlashDeviceStatus s = new FlashDeviceStatus();
    s.setTransport(transport);
    s.setCalibration(calibration);
    s.setPhase(phase);
    s.setNbdPort(nbdPort); // absent from the apply when null: the field is released, clients stop being sent there
    s.setObservedGeneration(observedGeneration);
    s.setCapacityBytes(capacityBytes);
    s.setConditions(sorted(conditions));
    FlashDevice patch = new FlashDevice();
    patch.setMetadata(new ObjectMetaBuilder().withName(name).build());
    patch.setStatus(s);
    client.resource(patch).subresource("status").patch(ssa(), patch);
  }

  /** The agent's part of a tenant's status: its phase while placed here and the Serving condition. */
  public void tenantStatus(FlashTenant t, TenantPhase phase, Condition serving) {
    FlashTenantStatus s = new FlashTenantStatus();
    s.setPhase(phase);
    s.setConditions(List.of(serving));
    client.resource(tenantPatch(t, s)).subresource("status").patch(ssa(), tenantPatch(t, s));
  }

  /** Gives up the agent's status fields of a tenant that is no longer placed here (its new node reports it). */
  public void releaseTenantStatus(FlashTenant t) {
    FlashTenant p = tenantPatch(t, new FlashTenantStatus());
    client.resource(p).subresource("status").patch(ssa(), p);
  }

  private static FlashTenant tenantPatch(FlashTenant t, FlashTenantStatus s) {
    FlashTenant patch = new FlashTenant();
    patch.setMetadata(new ObjectMetaBuilder().withName(t.getMetadata().getName())
        .withNamespace(t.getMetadata().getNamespace()).build());
    patch.setStatus(s);
    return patch;
  }

  private PatchContext ssa() {
    return new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(settings.fieldManager())
        .withForce(true).build();
  }

  private static List<Condition> sorted(List<Condition> c) {
    return c.stream().sorted(Comparator.comparing(Condition::getType)).toList();
  }
}

package io.reflex.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Quantity;
import io.reflex.crds.v1alpha1.DeviceCalibration;
import io.reflex.crds.v1alpha1.DeviceModelRef;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.InlineDeviceModel;
import io.reflex.crds.v1alpha1.PlacementConstraints;
import io.reflex.crds.v1alpha1.SelectorRequirement;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TenantDemand;
import io.reflex.devmodels.TokenLimit;
import io.reflex.operator.placement.Allocation;
import io.reflex.operator.placement.Constraints;
import io.reflex.operator.placement.Device;
import io.reflex.operator.placement.TenantRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Kubernetes objects to and from the placement core's plain types (the only place that knows both). */
public final class Translate {
  private Translate() {}

  public static String key(FlashTenant t) {
    return t.getMetadata().getNamespace() + "/" + t.getMetadata().getName();
  }

  /**
   * No model yet: the device's model is {@code calibrate} (or absent) and its node agent has not published a calibrated
   * one in status.calibration. Not an error: the device is simply not offered until then.
   */
  public static final class AwaitingCalibration extends IllegalArgumentException {
    public AwaitingCalibration(String message) {
      super(message);
    }
  }

  /**
   * The device's cost model; IllegalArgumentException with a user-facing message if unusable, {@link AwaitingCalibration}
   * while a device the agent calibrates has no published model. A calibrated device's model is the one its agent
   * publishes in status.calibration (the full model is in the ConfigMap named there; the operator needs no ConfigMap
   * watch): while a recalibration runs, the previous one stays there.
   */
  public static DeviceModel model(FlashDevice d) {
    DeviceModelRef ref = d.getSpec().getDeviceModel();
    if (DeviceModelRef.calibrates(ref)) {
      return calibrated(d);
    }
    if (ref.getName() != null) {
      if (!DeviceModels.BUILTIN.contains(ref.getName())) {
        throw new IllegalArgumentException("unknown device model '" + ref.getName() + "'; known: " + DeviceModels.BUILTIN
            + " or " + DeviceModelRef.CALIBRATE);
      }
      return DeviceModels.load(ref.getName());
    }
    InlineDeviceModel m = ref.getInline();
    List<TokenLimit> limits = io.reflex.crds.v1alpha1.TokenLimit.toModel(m.getTokenLimits());
    return new DeviceModel("inline:" + d.getMetadata().getName(), "inline", m.getReadCost4k(), m.getWriteCost4k(),
        Boolean.TRUE.equals(m.getUnlimited()), limits);
  }

  /** The model the device's agent measured and published (status.calibration). */
  static DeviceModel calibrated(FlashDevice d) {
    DeviceCalibration c = d.getStatus() == null ? null : d.getStatus().getCalibration();
    if (c == null) {
      throw new AwaitingCalibration("awaiting calibration: the node agent on " + d.getSpec().getNodeName()
          + " measures the device before it is offered (condition Calibrated)");
    }
    if (c.getReadCost4k() == null || c.getWriteCost4k() == null || c.getTokenLimits() == null || c.getTokenLimits().isEmpty()) {
      throw new IllegalArgumentException("status.calibration is incomplete (readCost4k, writeCost4k and tokenLimits are "
          + "needed); the node agent rewrites it, or set reflex.io/recalibrate");
    }
    List<TokenLimit> limits = io.reflex.crds.v1alpha1.TokenLimit.toModel(c.getTokenLimits());
    return new DeviceModel("calibrated:" + d.getMetadata().getName(), "calibrated " + c.getCalibratedAt()
        + (c.getConfigMap() == null ? "" : " (ConfigMap " + c.getNamespace() + "/" + c.getConfigMap() + ")"),
        c.getReadCost4k(), c.getWriteCost4k(), false, limits);
  }

  public static long capacityBytes(FlashDevice d) {
    if (d.getStatus() != null && d.getStatus().getCapacityBytes() != null) {
      return d.getStatus().getCapacityBytes();
    }
    return d.getSpec().getCapacity() == null ? 0 : bytes(d.getSpec().getCapacity());
  }

  public static boolean ready(FlashDevice d) {
    return d.getStatus() != null && d.getStatus().getPhase() == DevicePhase.Ready;
  }

  public static Device device(FlashDevice d, DeviceModel model, Node node) {
    Map<String, String> nodeLabels = node == null || node.getMetadata().getLabels() == null
        ? Map.of() : node.getMetadata().getLabels();
    return new Device(d.getMetadata().getName(), d.getSpec().getNodeName(), d.getMetadata().getLabels(), nodeLabels,
        ready(d), capacityBytes(d), model);
  }

  /** Address clients reach the node on: the FlashDevice annotation if set, else the Node's InternalIP. */
  /** The device's NBD port as its agent publishes it, or null. */
  public static Integer nbdPort(FlashDevice d) {
    return d == null || d.getStatus() == null ? null : d.getStatus().getNbdPort();
  }

  /** The device's {@code status.transport} ({@code udp}: its agent's DPDK port), or null (kernel TCP). */
  public static String transport(FlashDevice d) {
    return d == null || d.getStatus() == null ? null : d.getStatus().getTransport();
  }

  public static Optional<String> nodeAddress(FlashDevice d, Node node) {
    if (d != null && d.getMetadata().getAnnotations() != null) {
      String a = d.getMetadata().getAnnotations().get(OperatorSettings.NODE_ADDRESS_ANNOTATION);
      if (a != null && !a.isBlank()) {
        return Optional.of(a.trim());
      }
    }
    if (node != null && node.getStatus() != null && node.getStatus().getAddresses() != null) {
      return node.getStatus().getAddresses().stream().filter(a -> "InternalIP".equals(a.getType()))
          .map(NodeAddress::getAddress).findFirst();
    }
    return Optional.empty();
  }

  public static TenantDemand demand(FlashTenant t) {
    FlashTenantSpec s = t.getSpec();
    String key = key(t);
    if (s.getServiceClass() == TenantClass.LC) {
      return TenantDemand.lc(key, s.getIops() == null ? 0 : s.getIops(), s.getReadPercent() == null ? 100 : s.getReadPercent(),
          s.getP95LatencyMicros() == null ? 0 : s.getP95LatencyMicros());
    }
    return TenantDemand.be(key);
  }

  public static TenantRequest request(FlashTenant t) {
    return new TenantRequest(key(t), demand(t), bytes(t.getSpec().getCapacity()), constraints(t.getSpec().getPlacement()));
  }

  static Constraints constraints(PlacementConstraints p) {
    if (p == null) {
      return Constraints.NONE;
    }
    List<Constraints.Requirement> exprs = new ArrayList<>();
    Map<String, String> matchLabels = Map.of();
    if (p.getDeviceSelector() != null) {
      matchLabels = p.getDeviceSelector().getMatchLabels();
      if (p.getDeviceSelector().getMatchExpressions() != null) {
        for (SelectorRequirement r : p.getDeviceSelector().getMatchExpressions()) {
          exprs.add(new Constraints.Requirement(r.getKey(), switch (r.getOperator()) {
            case In -> Constraints.Operator.IN;
            case NotIn -> Constraints.Operator.NOT_IN;
            case Exists -> Constraints.Operator.EXISTS;
            case DoesNotExist -> Constraints.Operator.DOES_NOT_EXIST;
          }, r.getValues()));
        }
      }
    }
    return new Constraints(p.getNodeSelector(), p.getZone(), matchLabels, exprs);
  }

  public static TenantPlacement placement(Allocation a) {
    TenantPlacement p = new TenantPlacement();
    p.setDevice(a.device());
    p.setNode(a.node());
    p.setPort(a.port());
    p.setLbaOffset(a.lbaOffset());
    p.setLbaCount(a.sizeBytes() / Allocation.SECTOR_BYTES);
    p.setTokens(a.tokens());
    TenantDemand d = a.demand();
    p.setServiceClass(d.latencyCritical() ? TenantClass.LC : TenantClass.BE);
    if (d.latencyCritical()) {
      p.setIops(d.iops());
      p.setReadPercent(d.readPercent());
      p.setP95LatencyMicros(Math.toIntExact(d.p95Micros()));
    }
    return p;
  }

  /**
   * The allocation a tenant's status records, if complete. The demand is the one the placement records as admitted;
   * a status written before that was recorded is priced from the current spec.
   */
  public static Optional<Allocation> allocation(FlashTenant t) {
    if (t.getStatus() == null || t.getStatus().getPlacement() == null) {
      return Optional.empty();
    }
    TenantPlacement p = t.getStatus().getPlacement();
    if (p.getDevice() == null || p.getNode() == null || p.getPort() == null || p.getLbaOffset() == null
        || p.getLbaCount() == null) {
      return Optional.empty();
    }
    // Without a recorded demand, priced from the current spec: a spec change that was refused in place (only
    // increases are) is counted at its new, larger demand after a restart -- conservative, never an overcommit.
    TenantDemand demand = demand(t);
    if (p.hasAdmittedSlo()) {
      try {
        demand = admitted(key(t), p);
      } catch (IllegalArgumentException e) {
        // an unusable record (edited by hand): the spec's demand, as for a status without one
      }
    }
    long tokens = p.getTokens() == null ? 0 : p.getTokens();
    long offsetBytes, sizeBytes;
    try {
      offsetBytes = Math.multiplyExact(p.getLbaOffset(), (long) Allocation.SECTOR_BYTES);
      sizeBytes = Math.multiplyExact(p.getLbaCount(), (long) Allocation.SECTOR_BYTES);
      Math.addExact(offsetBytes, sizeBytes);
    } catch (ArithmeticException e) {
      return Optional.empty(); // a window beyond 2^63 bytes is on no device: not a usable record (the tenant is re-placed)
    }
    return Optional.of(new Allocation(key(t), p.getDevice(), p.getNode(), offsetBytes, sizeBytes, p.getPort(), tokens,
        demand));
  }

  /** The demand a placement records as admitted (its SLO fields must be present). */
  public static TenantDemand admitted(String key, TenantPlacement p) {
    return p.getServiceClass() == TenantClass.LC
        ? TenantDemand.lc(key, p.getIops(), p.getReadPercent(), p.getP95LatencyMicros())
        : TenantDemand.be(key);
  }

  /** Whole bytes of a quantity (fractions dropped); IllegalArgumentException if it is unusable or beyond 2^63 - 1. */
  public static long bytes(Quantity q) {
    java.math.BigDecimal b;
    try {
      b = Quantity.getAmountInBytes(q);
    } catch (ArithmeticException | IllegalArgumentException e) { // fabric8 may throw without a message
      throw new IllegalArgumentException("'" + q + "' is not a usable quantity", e);
    }
    try {
      return b.setScale(0, java.math.RoundingMode.DOWN).longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("'" + q + "' is more than " + Long.MAX_VALUE + " bytes");
    }
  }

  private static final java.util.regex.Pattern IP_LITERAL = java.util.regex.Pattern.compile("[0-9.]+|[0-9a-fA-F:]+");

  /**
   * Why Kubernetes would refuse {@code address} as an EndpointSlice endpoint (loopback, link-local, unspecified,
   * multicast, not an IP literal), or null when it is usable or absent.
   */
  public static String endpointAddressProblem(String address) {
    if (address == null) return null;
    if (!IP_LITERAL.matcher(address).matches()) return "is not an IP address";
    java.net.InetAddress ip;
    try {
      ip = java.net.InetAddress.getByName(address); // an IP literal: no lookup
    } catch (java.net.UnknownHostException e) {
      return "is not an IP address";
    }
    if (ip.isLoopbackAddress()) return "is a loopback address, which EndpointSlices may not use: set the node's real IP";
    if (ip.isLinkLocalAddress()) return "is link-local, which EndpointSlices may not use";
    if (ip.isAnyLocalAddress()) return "is unspecified (0.0.0.0/::), which EndpointSlices may not use";
    if (ip.isMulticastAddress()) return "is multicast, which EndpointSlices may not use";
    return null;
  }
}

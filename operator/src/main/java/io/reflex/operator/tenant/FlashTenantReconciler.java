package io.reflex.operator.tenant;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.operator.Conditions;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.PlacementService;
import io.reflex.operator.Translate;
import io.reflex.operator.placement.Allocation;
import io.reflex.operator.placement.Device;
import io.reflex.operator.placement.Ledger;
import io.reflex.operator.placement.Outcome;
import io.reflex.operator.placement.TenantRequest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Admits and places FlashTenants, and exposes placed ones (Service, EndpointSlice, Secret).
 *
 * <p>Placement runs under the ledger lock: plan, write the tenant's status (server-side apply of the operator's
 * fields), and only then commit the allocation to the ledger. Conditions: Admitted (placed, or why not), DeviceReady
 * (the device it lives on), Exposed (endpoint has the node's address). A finalizer frees the allocation on delete.
 */
@ControllerConfiguration(name = FlashTenantReconciler.NAME, finalizerName = FlashTenantReconciler.FINALIZER)
public class FlashTenantReconciler implements Reconciler<FlashTenant>, Cleaner<FlashTenant> {
  public static final String NAME = "flashtenant";
  public static final String FINALIZER = "reflex.io/placement";
  public static final String ADMITTED = "Admitted";
  public static final String DEVICE_READY = "DeviceReady";
  public static final String EXPOSED = "Exposed";
  private static final List<String> OURS = List.of(ADMITTED, DEVICE_READY, EXPOSED);
  private static final Logger LOG = Logger.getLogger(FlashTenantReconciler.class);

  private final PlacementService placement;
  private final OperatorSettings settings;
  private final OperatorMetrics metrics;
  private volatile InformerEventSource<FlashDevice, FlashTenant> devices;
  private volatile InformerEventSource<Node, FlashTenant> nodes;

  @Inject
  public FlashTenantReconciler(PlacementService placement, OperatorSettings settings, OperatorMetrics metrics) {
    this.placement = placement;
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, FlashTenant>> prepareEventSources(EventSourceContext<FlashTenant> context) {
    // FlashDevice events reach the tenants on the device (their endpoint address comes from this cache). Placement
    // decisions come from the ledger, which the device reconciler updates concurrently: tenants waiting for
    // capacity (and those on a device whose readiness changed) are retried by the ledger once it has absorbed the
    // change (ledger event source below), not by this watch event, which may be handled before the ledger knows.
    devices = new InformerEventSource<>(InformerEventSourceConfiguration.from(FlashDevice.class, FlashTenant.class)
        .withName("tenant-devices").withWatchAllNamespaces()
        .withSecondaryToPrimaryMapper(d -> placement.tenantsOn(d.getMetadata().getName())).build(), context);
    nodes = new InformerEventSource<>(InformerEventSourceConfiguration.from(Node.class, FlashTenant.class)
        .withName("tenant-nodes").withWatchAllNamespaces()
        .withSecondaryToPrimaryMapper(n -> placement.affectedByNode(n.getMetadata().getName())).build(), context);
    SimpleInboundEventSource<FlashTenant> ledger = new SimpleInboundEventSource<>("tenant-ledger");
    placement.onRetry(ids -> ids.forEach(ledger::propagateEvent));
    return List.of(devices, nodes, ledger);
  }

  /** What one reconcile decided, applied outside the lock (exposure, label). */
  private record Decision(Allocation allocation, boolean waiting, String address) {}

  @Override
  public UpdateControl<FlashTenant> reconcile(FlashTenant t, Context<FlashTenant> ctx) {
    var timer = metrics.start();
    boolean ok = false;
    try {
      KubernetesClient client = ctx.getClient();
      TenantRequest req;
      try {
        req = Translate.request(t);
      } catch (IllegalArgumentException e) {
        writeStatus(client, t, TenantPhase.Rejected, null, List.of(cond(t, ADMITTED, false, "InvalidSpec", e.getMessage())));
        ok = true;
        return UpdateControl.noUpdate();
      }
      ResourceID id = ResourceID.fromResource(t);
      Decision d = placement.withLedger(client, ledger -> {
        Decision x = decide(client, ledger, t, req);
        placement.waiting(id, x.waiting()); // under the lock: a device change after it sees this tenant waiting
        return x;
      });
      if (d.allocation() != null) {
        // An address EndpointSlices refuse (loopback, link-local…) is reported in the Exposed condition instead.
        String address = Translate.endpointAddressProblem(d.address()) == null ? d.address() : null;
        Exposure.apply(client, t, d.allocation(), address);
        label(client, t, d.allocation().device());
      } else {
        label(client, t, null);
      }
      ok = true;
      if (d.waiting() && !settings.rejectWhenNoFit()) {
        return UpdateControl.<FlashTenant>noUpdate().rescheduleAfter(settings.pendingRetry());
      }
      return UpdateControl.noUpdate();
    } finally {
      metrics.stop(timer, NAME, ok);
    }
  }

  /** Under the ledger lock: place / re-admit / re-place, write the status, commit. */
  private Decision decide(KubernetesClient client, Ledger ledger, FlashTenant t, TenantRequest req) {
    String key = req.key();
    Optional<Allocation> cur = ledger.allocation(key);
    if (cur.isEmpty()) {
      // Written before but not committed here (operator restarted or the write's response was lost): take it back.
      Optional<Allocation> recorded = Translate.allocation(t);
      if (recorded.isPresent() && ledger.restore(recorded.get()) == null) {
        cur = recorded;
      }
    }
    Long gen = t.getMetadata().getGeneration();
    boolean specSeen = t.getStatus() != null && Objects.equals(t.getStatus().getObservedGeneration(), gen);

    if (cur.isEmpty()) {
      if (specSeen && settings.rejectWhenNoFit() && t.getStatus().getPhase() == TenantPhase.Rejected) {
        return new Decision(null, true, null); // stays Rejected until its spec changes
      }
      Outcome o = ledger.place(req);
      if (!o.fits()) {
        TenantPhase phase = settings.rejectWhenNoFit() ? TenantPhase.Rejected : TenantPhase.Pending;
        if (writeStatus(client, t, phase, null, List.of(cond(t, ADMITTED, false, "NoFit", o.reason())))) {
          metrics.refused("NoFit");
          LOG.infof("%s %s: %s", phase, key, o.reason());
        }
        return new Decision(null, true, null);
      }
      return commit(client, ledger, t, o.allocation(), "Placed", "placed on " + o.allocation().device(), "placed");
    }

    Allocation a = cur.get();
    Device dev = ledger.device(a.device()).orElse(null);
    if ((dev == null || !dev.healthy()) && settings.replaceOnDeviceLoss()) {
      ledger.release(key);
      Outcome o = ledger.place(req);
      if (o.fits()) {
        try {
          return commit(client, ledger, t, o.allocation(), "Replaced", "re-placed on " + o.allocation().device()
            + " (an empty extent) because " + a.device() + (dev == null ? " is gone" : " is not Ready"), "replaced");
        } catch (RuntimeException e) {
          ledger.restore(a); // the status still holds the old placement
          throw e;
        }
      }
      ledger.restore(a);
    }
    Condition admitted;
    if (!specSeen) {
      Outcome o = ledger.replan(req);
      if (o.fits()) {
        if (!o.allocation().equals(a)) {
          return commit(client, ledger, t, o.allocation(), "Readmitted", "spec change re-admitted in place on "
              + a.device(), "readmitted");
        }
        admitted = cond(t, ADMITTED, true, "Placed", "placed on " + a.device());
      } else {
        admitted = cond(t, ADMITTED, false, "ReadmitRefused", o.reason() + "; the previous reservation stays in force");
        metrics.refused("ReadmitRefused");
      }
    } else {
      admitted = existing(t, ADMITTED).orElse(cond(t, ADMITTED, true, "Placed", "placed on " + a.device()));
    }
    String address = address(a);
    writeStatus(client, t, TenantPhase.Placed, a, List.of(admitted, deviceCond(t, a, dev), exposedCond(t, a, address)));
    return new Decision(a, false, address);
  }

  private Decision commit(KubernetesClient client, Ledger ledger, FlashTenant t, Allocation a, String reason,
                          String message, String metric) {
    Device dev = ledger.device(a.device()).orElse(null);
    String address = address(a);
    writeStatus(client, t, TenantPhase.Placed, a, List.of(cond(t, ADMITTED, true, reason, message),
        deviceCond(t, a, dev), exposedCond(t, a, address)));
    ledger.commit(a); // only after the status write succeeded (it throws otherwise)
    metrics.placed(metric);
    LOG.infof("%s %s: %s at offset %d, port %d", reason, a.tenant(), a.device(), a.lbaOffset(), a.port());
    return new Decision(a, false, address);
  }

  private Condition deviceCond(FlashTenant t, Allocation a, Device dev) {
    if (dev == null) {
      return cond(t, DEVICE_READY, false, "DeviceGone", "FlashDevice " + a.device() + " no longer exists"
          + (settings.replaceOnDeviceLoss() ? "; no other device fits yet" : "; delete and recreate the tenant to move it"));
    }
    if (!dev.healthy()) {
      return cond(t, DEVICE_READY, false, "DeviceNotReady", "FlashDevice " + a.device() + " is not Ready"
          + (settings.replaceOnDeviceLoss() ? "; no other device fits yet" : ""));
    }
    return cond(t, DEVICE_READY, true, "DeviceReady", "FlashDevice " + a.device() + " on node " + a.node() + " is Ready");
  }

  private Condition exposedCond(FlashTenant t, Allocation a, String address) {
    String problem = Translate.endpointAddressProblem(address);
    if (problem != null) {
      return cond(t, EXPOSED, false, "NodeAddressUnusable", "node address " + address + " of " + a.node() + " " + problem);
    }
    return address == null
        ? cond(t, EXPOSED, false, "NodeAddressUnknown", "node " + a.node() + " has no InternalIP (no Node object?) and "
            + "FlashDevice " + a.device() + " has no " + OperatorSettings.NODE_ADDRESS_ANNOTATION + " annotation")
        : cond(t, EXPOSED, true, "EndpointReady", "Service " + Exposure.serviceName(t) + " -> " + address + ":" + a.port());
  }

  private String address(Allocation a) {
    FlashDevice d = devices == null ? null : devices.get(new ResourceID(a.device())).orElse(null);
    Node n = nodes == null ? null : nodes.get(new ResourceID(a.node())).orElse(null);
    return Translate.nodeAddress(d, n).orElse(null);
  }

  private static Condition cond(FlashTenant t, String type, boolean status, String reason, String message) {
    return Conditions.of(t.getStatus() == null ? null : t.getStatus().getConditions(), type, status, reason, message,
        t.getMetadata().getGeneration());
  }

  private static Optional<Condition> existing(FlashTenant t, String type) {
    return t.getStatus() == null || t.getStatus().getConditions() == null ? Optional.empty()
        : t.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /**
   * Server-side applies the operator's status fields if they differ from the tenant's; returns whether it wrote.
   * Throws if the write fails, so the caller never commits an allocation the API server does not hold.
   */
  boolean writeStatus(KubernetesClient client, FlashTenant t, TenantPhase phase, Allocation a, List<Condition> conds) {
    FlashTenantStatus s = new FlashTenantStatus();
    FlashTenantStatus old = t.getStatus();
    // The node agent reports Serving; do not take the phase back while the placement is unchanged.
    boolean keepServing = old != null && old.getPhase() == TenantPhase.Serving && phase == TenantPhase.Placed
        && a != null && Translate.allocation(t).map(x -> x.offsetBytes() == a.offsetBytes()
        && x.device().equals(a.device())).orElse(false);
    s.setPhase(keepServing ? TenantPhase.Serving : phase);
    s.setObservedGeneration(t.getMetadata().getGeneration());
    if (a != null) {
      s.setPlacement(Translate.placement(a));
      s.setEndpoint(Exposure.endpoint(t, a.port()));
      s.setSecretName(Exposure.secretName(t));
    }
    List<Condition> sorted = new ArrayList<>(conds);
    sorted.sort(Comparator.comparing(Condition::getType));
    s.setConditions(sorted);
    if (old != null && same(old, s)) {
      return false;
    }
    FlashTenant patch = new FlashTenant();
    patch.setMetadata(new ObjectMetaBuilder().withName(t.getMetadata().getName())
        .withNamespace(t.getMetadata().getNamespace()).build());
    patch.setStatus(s);
    client.resource(patch).subresource("status").patch(new PatchContext.Builder()
        .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(OperatorSettings.FIELD_MANAGER).withForce(true)
        .build(), patch);
    return true;
  }

  private static boolean same(FlashTenantStatus old, FlashTenantStatus s) {
    if (old.getPhase() != s.getPhase() || !Objects.equals(old.getObservedGeneration(), s.getObservedGeneration())
        || !Objects.equals(old.getEndpoint(), s.getEndpoint()) || !Objects.equals(old.getSecretName(), s.getSecretName())
        || !Serialization.asJson(old.getPlacement() == null ? "" : old.getPlacement())
            .equals(Serialization.asJson(s.getPlacement() == null ? "" : s.getPlacement()))) {
      return false;
    }
    List<Condition> oldOurs = old.getConditions() == null ? List.of()
        : old.getConditions().stream().filter(c -> OURS.contains(c.getType()))
            .sorted(Comparator.comparing(Condition::getType)).toList();
    if (oldOurs.size() != s.getConditions().size()) {
      return false;
    }
    for (int i = 0; i < oldOurs.size(); i++) {
      if (!Conditions.sameAs(oldOurs.get(i), s.getConditions().get(i))) {
        return false;
      }
    }
    return true;
  }

  /** Label reflex.io/device (JSON merge patch of metadata only; null removes it). */
  private static void label(KubernetesClient client, FlashTenant t, String device) {
    String cur = t.getMetadata().getLabels() == null ? null : t.getMetadata().getLabels().get(FlashTenant.DEVICE_LABEL);
    if (Objects.equals(cur, device)) {
      return;
    }
    String value = device == null ? "null" : "\"" + device + "\"";
    client.resources(FlashTenant.class).inNamespace(t.getMetadata().getNamespace()).withName(t.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"labels\":{\"" + FlashTenant.DEVICE_LABEL + "\":" + value + "}}}");
  }

  @Override
  public DeleteControl cleanup(FlashTenant t, Context<FlashTenant> ctx) {
    String key = Translate.key(t);
    Optional<Allocation> freed = placement.withLedger(ctx.getClient(), ledger -> ledger.release(key));
    placement.waiting(ResourceID.fromResource(t), false);
    if (freed.isPresent()) {
      placement.capacityFreed(); // after the release: the waiting tenants' retry sees the freed extent and tokens
    }
    try {
      Exposure.delete(ctx.getClient(), t.getMetadata().getNamespace(), t);
    } catch (KubernetesClientException e) {
      LOG.warnf("FlashTenant %s: deleting its Service/EndpointSlice/Secret: %s (owner references clean up)", key,
          e.getMessage());
    }
    freed.ifPresent(a -> LOG.debugf("freed %s on %s", key, a.device()));
    return DeleteControl.defaultDelete();
  }
}

package io.reflex.operator.device;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
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
import io.reflex.crds.v1alpha1.FlashDeviceStatus;
import io.reflex.crds.v1alpha1.TokenLimit;
import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModel;
import io.reflex.crds.status.Conditions;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.PlacementService;
import io.reflex.operator.ServerSideApply;
import io.reflex.operator.cache.LeanItemStore;
import io.reflex.operator.Translate;
import io.reflex.operator.liveness.AgentHeartbeats;
import io.reflex.operator.placement.Device;
import io.reflex.operator.placement.Ledger;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Keeps the ledger's view of a FlashDevice (model, capacity, readiness, its node's labels) current and reports
 * what the operator placed there in the device's status: budget per SLO point, reserved tokens and percent,
 * allocated bytes, tenant count, and a Budgeted condition. The node agent owns phase, capacityBytes and Ready;
 * both write the status with server-side apply under their own field managers.
 */
// Not generation-aware: the agent reports readiness and capacity in the status, which must reach the ledger.
@ControllerConfiguration(name = FlashDeviceReconciler.NAME, finalizerName = FlashDeviceReconciler.FINALIZER,
    generationAwareEventProcessing = false, informer = @Informer(itemStore = LeanItemStore.class))
public class FlashDeviceReconciler implements Reconciler<FlashDevice>, Cleaner<FlashDevice> {
  public static final String NAME = "flashdevice";
  public static final String FINALIZER = "reflex.io/ledger";
  public static final String BUDGETED = "Budgeted";
  /** Operator condition on devices whose agent renews a Lease: is it still renewing (AgentHeartbeats)? */
  public static final String AGENT_HEARTBEAT = "AgentHeartbeat";

  private final PlacementService placement;
  private final OperatorMetrics metrics;
  private volatile InformerEventSource<Node, FlashDevice> nodes;

  @Inject
  public FlashDeviceReconciler(PlacementService placement, OperatorMetrics metrics) {
    this.placement = placement;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, FlashDevice>> prepareEventSources(EventSourceContext<FlashDevice> context) {
    var cache = context.getPrimaryCache();
    nodes = new InformerEventSource<>(InformerEventSourceConfiguration.from(Node.class, FlashDevice.class)
        .withName("device-nodes").withWatchAllNamespaces().withItemStore(new LeanItemStore<>())
        .withSecondaryToPrimaryMapper(n -> cache.list(d -> n.getMetadata().getName().equals(d.getSpec().getNodeName()))
            .map(ResourceID::fromResource).collect(Collectors.toSet()))
        .build(), context);
    // The ledger tells which devices' allocations changed (after the tenant's status write), instead of a second
    // watch of every FlashTenant here.
    SimpleInboundEventSource<FlashDevice> usage = new SimpleInboundEventSource<>("device-usage");
    placement.onUsageChanged(device -> usage.propagateEvent(new ResourceID(device)));
    // An agent's Lease stopped (or started again) being renewed: no watch event says so, the heartbeat sweep does.
    SimpleInboundEventSource<FlashDevice> heartbeat = new SimpleInboundEventSource<>("device-heartbeat");
    placement.heartbeats().onChange(lease -> cache.list(d -> lease.equals(AgentHeartbeats.leaseKey(d)))
        .forEach(d -> heartbeat.propagateEvent(ResourceID.fromResource(d))));
    return List.of(nodes, usage, heartbeat);
  }

  @Override
  public UpdateControl<FlashDevice> reconcile(FlashDevice d, Context<FlashDevice> ctx) {
    var timer = metrics.start();
    boolean ok = false;
    try {
      String name = d.getMetadata().getName();
      Node node = nodes == null ? null : nodes.get(new ResourceID(d.getSpec().getNodeName())).orElse(null);
      DeviceModel model;
      try {
        model = Translate.model(d);
      } catch (IllegalArgumentException e) {
        // Unusable for new tenants; tenants already there keep their (now unpriced) extents.
        boolean changed = placement.withLedger(ctx.getClient(), l -> {
          Optional<Device> old = l.device(name);
          old.ifPresent(o -> l.upsertDevice(o.withHealthy(false)));
          return old.isPresent() && old.get().healthy();
        });
        if (changed) {
          placement.deviceAbsorbed(name);
        }
        write(ctx, d, null, null, List.of(Conditions.of(conditions(d), BUDGETED, false,
            e instanceof Translate.AwaitingCalibration ? "AwaitingCalibration" : "InvalidModel", e.getMessage(),
            d.getMetadata().getGeneration())));
        ok = true;
        return UpdateControl.noUpdate();
      }
      Device fresh = placement.device(d, model, node);
      Absorbed absorbed = placement.withLedger(ctx.getClient(), l -> {
        boolean changed = !l.device(name).map(fresh::equals).orElse(false);
        l.upsertDevice(fresh);
        return new Absorbed(l.usage(name).orElseThrow(), changed);
      });
      if (absorbed.changed()) {
        // Only now may tenants waiting for capacity (or living here) decide again: see PlacementService#onRetry.
        placement.deviceAbsorbed(name);
      }
      Ledger.Usage u = absorbed.usage();
      Budget.Evaluation b = u.budget();
      String msg = String.format("budget %s tokens/s%s (%s); %s reserved by %d LC, %d BE tenants; %s of %s allocated",
          Budget.human(b.tokenRate()), b.lcCount() > 0 ? " at p95 " + b.strictestP95Micros() + "µs" : "",
          b.readOnly() ? "read-only" : "mixed", Budget.human(b.lcReserved()), b.lcCount(), b.beCount(),
          io.reflex.operator.placement.Bytes.human(u.allocatedBytes()),
          io.reflex.operator.placement.Bytes.human(u.capacityBytes()));
      boolean fine = !b.overcommitted() && u.allocatedBytes() <= u.capacityBytes();
      List<Condition> conds = new ArrayList<>();
      conds.add(Conditions.of(conditions(d), BUDGETED, fine, fine ? "WithinBudget" : "Overcommitted", msg,
          d.getMetadata().getGeneration()));
      String lease = AgentHeartbeats.leaseKey(d);
      if (lease != null && placement.heartbeats() != AgentHeartbeats.NONE) {
        String missed = placement.heartbeats().problem(d);
        conds.add(Conditions.of(conditions(d), AGENT_HEARTBEAT, missed == null, missed == null ? "Renewing" : "HeartbeatMissed",
            missed == null ? "its node agent renews Lease " + lease
                : missed + "; not Ready for placement, its tenants are told (DeviceReady=False)",
            d.getMetadata().getGeneration()));
      }
      write(ctx, d, model, u, conds);
      ok = true;
      return UpdateControl.noUpdate();
    } finally {
      metrics.stop(timer, NAME, ok);
    }
  }

  /** The device's usage after the upsert, and whether the ledger's view of the device changed. */
  private record Absorbed(Ledger.Usage usage, boolean changed) {}

  private static List<Condition> conditions(FlashDevice d) {
    return d.getStatus() == null ? null : d.getStatus().getConditions();
  }

  private void write(Context<FlashDevice> ctx, FlashDevice d, DeviceModel model, Ledger.Usage u, List<Condition> conds) {
    FlashDeviceStatus s = new FlashDeviceStatus();
    if (model != null && u != null) {
      s.setTokenBudget(model.tokenLimits().stream().map(l -> new TokenLimit((int) l.p95Micros(),
          (long) l.mixedTokensPerSec(), (long) l.readOnlyTokensPerSec())).toList());
      s.setReservedTokens(u.reservedTokens());
      s.setReservedPercent(u.reservedPercent());
      s.setAllocatedBytes(u.allocatedBytes());
      s.setTenantCount(u.tenants());
    }
    s.setConditions(conds);
    FlashDeviceStatus old = d.getStatus();
    if (old != null && Objects.equals(old.getTokenBudget(), s.getTokenBudget())
        && Objects.equals(old.getReservedTokens(), s.getReservedTokens())
        && Objects.equals(old.getReservedPercent(), s.getReservedPercent())
        && Objects.equals(old.getAllocatedBytes(), s.getAllocatedBytes())
        && Objects.equals(old.getTenantCount(), s.getTenantCount())
        && conds.stream().allMatch(c -> Conditions.sameAs(Conditions.find(old.getConditions(), c.getType()), c))) {
      return;
    }
    placement.fence().check("FlashDevice " + d.getMetadata().getName() + " status");
    FlashDevice patch = new FlashDevice();
    patch.setMetadata(new ObjectMetaBuilder().withName(d.getMetadata().getName()).build());
    patch.setStatus(s);
    ServerSideApply.applyStatus(ctx.getClient(), patch);
  }

  @Override
  public DeleteControl cleanup(FlashDevice d, Context<FlashDevice> ctx) {
    placement.withLedger(ctx.getClient(), l -> l.removeDevice(d.getMetadata().getName()));
    placement.deviceAbsorbed(d.getMetadata().getName()); // its tenants report DeviceGone (or are re-placed)
    return DeleteControl.defaultDelete();
  }
}

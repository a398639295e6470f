package io.reflex.operator.tenant;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.reflex.crds.access.TenantSecret;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.crds.status.Conditions;
import io.reflex.operator.OperatorMetrics;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.PlacementService;
import io.reflex.operator.ServerSideApply;
import io.reflex.operator.Translate;
import io.reflex.operator.cache.LeanItemStore;
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
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiPredicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * Admits and places FlashTenants, and exposes placed ones (Service, EndpointSlice, Secret).
 *
 * <p>Placement runs under the ledger lock: plan, write the tenant's status (server-side apply of the operator's
 * fields), and only then commit the allocation to the ledger. Conditions: Admitted (placed, or why not), DeviceReady
 * (the device it lives on), Exposed (endpoint has the node's address).
 *
 * <p>No finalizer: a delete event frees the allocation ({@link TenantDeletions}; a tenant being deleted behind someone
 * else's finalizer is freed by its reconcile). Nothing is lost when the operator misses a delete: the ledger is only
 * ever rebuilt from the statuses of the tenants that exist, and the exposure objects are the tenant's (owner
 * references). A finalizer cost a write per tenant and left tenants Terminating whenever no operator ran.
 */
@ControllerConfiguration(name = FlashTenantReconciler.NAME, informer = @Informer(itemStore = LeanItemStore.class))
public class FlashTenantReconciler implements Reconciler<FlashTenant> {
  public static final String NAME = "flashtenant";
  /** The finalizer older operators put on tenants: removed when such a tenant is deleted. */
  public static final String LEGACY_FINALIZER = "reflex.io/placement";
  public static final String ADMITTED = "Admitted";
  public static final String DEVICE_READY = "DeviceReady";
  public static final String EXPOSED = "Exposed";
  private static final List<String> OURS = List.of(ADMITTED, DEVICE_READY, EXPOSED);
  private static final Logger LOG = Logger.getLogger(FlashTenantReconciler.class);
  /** Exposure writes that run next to the reconciler thread's own (see {@link #expose}). */
  private static final ExecutorService EXPOSURE = Executors.newThreadPerTaskExecutor(
      Thread.ofVirtual().name("tenant-exposure-", 0).factory());

  private final PlacementService placement;
  private final OperatorSettings settings;
  private final OperatorMetrics metrics;
  private volatile InformerEventSource<FlashDevice, FlashTenant> devices;
  private volatile InformerEventSource<Node, FlashTenant> nodes;
  private volatile InformerEventSource<Service, FlashTenant> services;
  private volatile InformerEventSource<EndpointSlice, FlashTenant> slices;
  private volatile InformerEventSource<Secret, FlashTenant> secrets;

  @Inject
  public FlashTenantReconciler(PlacementService placement, OperatorSettings settings, OperatorMetrics metrics) {
    this.placement = placement;
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, FlashTenant>> prepareEventSources(EventSourceContext<FlashTenant> context) {
    // FlashDevice and Node events reach the tenants on them only when the endpoint address (from these caches)
    // changes: device status writes (reservations, after every placement) and node heartbeats must not reconcile
    // every tenant there again. Placement decisions come from the ledger, which the device reconciler updates
    // concurrently: tenants waiting for capacity (and those on a device whose readiness changed) are retried by the
    // ledger once it has absorbed the change (ledger event source below), not by this watch event, which may be
    // handled before the ledger knows.
    devices = new InformerEventSource<>(InformerEventSourceConfiguration.from(FlashDevice.class, FlashTenant.class)
        .withName("tenant-devices").withWatchAllNamespaces().withItemStore(new LeanItemStore<>())
        .withOnUpdateFilter((n, o) -> !Objects.equals(Translate.nodeAddress(n, null), Translate.nodeAddress(o, null))
            || !Objects.equals(Translate.nbdPort(n), Translate.nbdPort(o))
            || !Objects.equals(Translate.transport(n), Translate.transport(o)))
        .withSecondaryToPrimaryMapper(d -> placement.tenantsOn(d.getMetadata().getName())).build(), context);
    nodes = new InformerEventSource<>(InformerEventSourceConfiguration.from(Node.class, FlashTenant.class)
        .withName("tenant-nodes").withWatchAllNamespaces().withItemStore(new LeanItemStore<>())
        .withOnUpdateFilter((n, o) -> !Objects.equals(Translate.nodeAddress(null, n), Translate.nodeAddress(null, o)))
        .withSecondaryToPrimaryMapper(n -> placement.affectedByNode(n.getMetadata().getName())).build(), context);
    // The exposure objects (ours by label): written only when they differ from these caches; a change or delete by
    // someone else reconciles the tenant, our own writes do not (event-filtering writes below).
    services = exposureCache(Service.class, "tenant-services", context);
    slices = exposureCache(EndpointSlice.class, "tenant-endpointslices", context);
    secrets = exposureCache(Secret.class, "tenant-secrets", context);
    SimpleInboundEventSource<FlashTenant> ledger = new SimpleInboundEventSource<>("tenant-ledger");
    placement.onRetry(ids -> ids.forEach(ledger::propagateEvent));
    KubernetesClient client = context.getClient();
    TenantDeletions deletions = new TenantDeletions(t -> EXPOSURE.execute(() -> {
      try {
        forget(t, client);
        dropLegacyFinalizer(client, t);
      } catch (RuntimeException e) { // the ledger is freed first; a failed delete of an exposure object is left to GC
        LOG.warnf("FlashTenant %s deleted: %s", Translate.key(t), e.getMessage());
      }
    }));
    return List.of(devices, nodes, services, slices, secrets, ledger, deletions);
  }

  private static <R extends HasMetadata> InformerEventSource<R, FlashTenant> exposureCache(
      Class<R> type, String name, EventSourceContext<FlashTenant> context) {
    return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, FlashTenant.class).withName(name)
        .withItemStore(new LeanItemStore<>())
        .withNamespacesInheritedFromController()
        .withLabelSelector("app.kubernetes.io/managed-by=" + OperatorSettings.MANAGED_BY)
        .withSecondaryToPrimaryMapper(o -> {
          String tenant = o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(Exposure.TENANT_LABEL);
          return tenant == null ? Set.of() : Set.of(new ResourceID(tenant, o.getMetadata().getNamespace()));
        }).build(), context);
  }

  /**
   * What one reconcile decided under the lock. {@code held}: a new allocation reserved in the ledger
   * ({@link Ledger#hold}) that is confirmed only after the status write succeeded, else rolled back.
   * {@code conds}: Admitted (and for a placed tenant DeviceReady); Exposed is added once the exposure is written.
   */
  private record Decision(Allocation allocation, boolean held, boolean waiting, TenantPhase phase,
                          List<Condition> conds, String reason, String metric, String address, String previousDevice,
                          boolean restored) {
    static Decision waitOnly() {
      return new Decision(null, false, true, null, null, null, null, null, null, false);
    }
  }

  @Override
  public UpdateControl<FlashTenant> reconcile(FlashTenant t, Context<FlashTenant> ctx) {
    var timer = metrics.start();
    boolean ok = false;
    try {
      if (ctx.isPrimaryResourceDeleted() || t.getMetadata().getDeletionTimestamp() != null) {
        forget(t, ctx.getClient()); // TenantDeletions does this too; whichever comes second finds nothing to do
        dropLegacyFinalizer(ctx.getClient(), t);
        ok = true;
        return UpdateControl.noUpdate();
      }
      placement.fence().check("FlashTenant " + Translate.key(t)); // a deposed leader decides nothing
      KubernetesClient client = ctx.getClient();
      TenantRequest req;
      try {
        req = Translate.request(t);
      } catch (IllegalArgumentException e) {
        writeStatus(ctx, t, TenantPhase.Rejected, null, null, List.of(cond(t, ADMITTED, false, "InvalidSpec", e.getMessage())));
        ok = true;
        return UpdateControl.noUpdate();
      }
      ResourceID id = ResourceID.fromResource(t);
      // Only planning runs under the lock; the writes (exposure, status, label) run outside it, a new allocation
      // held in the ledger meanwhile so nobody else is planned onto it.
      Decision d = placement.withLedger(client, ledger -> {
        if (placement.isDeleted(t.getMetadata().getUid())) {
          return null; // read before its delete, which has been handled: nothing to place or restore
        }
        Decision x = decide(ledger, t, req);
        placement.waiting(id, x.waiting()); // under the lock: a device change after it sees this tenant waiting
        return x;
      });
      if (d == null) {
        ok = true;
        return UpdateControl.noUpdate();
      }
      String exposureError = null;
      if (d.allocation() == null) {
        if (d.phase() != null && writeStatus(ctx, t, d.phase(), null, null, d.conds())) {
          metrics.refused("NoFit");
          LOG.infof("%s %s: %s", d.phase(), req.key(), d.conds().getFirst().getMessage());
        }
        dropLegacyLabel(ctx, t);
      } else {
        Allocation a = d.allocation();
        // Exposure first, so that Exposed=True is only ever written once the objects are there.
        String address = Translate.endpointAddressProblem(d.address()) == null ? d.address() : null;
        try {
          Exposed ex = expose(client, t, a, address, nbdPort(a), transport(a));
          exposureError = ex.error();
          Condition exposed = exposureError != null
              ? cond(t, EXPOSED, false, "ExposureFailed", "writing Service/EndpointSlice/Secret failed: " + exposureError)
              : exposedCond(t, a, d.address());
          List<Condition> conds = new ArrayList<>(d.conds());
          conds.add(exposed);
          // A failed exposure keeps the hash the status had: the Secret (and its token) may be unchanged.
          String hash = exposureError == null ? TenantSecret.tokenHash(ex.token())
              : t.getStatus() == null ? null : t.getStatus().getTokenHash();
          writeStatus(ctx, t, TenantPhase.Placed, a, hash, conds);
        } catch (RuntimeException e) { // the status does not hold a held allocation: give it back
          if (d.held()) {
            String conflict = placement.withLedger(client, l -> l.rollback(req.key()));
            if (conflict != null) {
              LOG.errorf("FlashTenant %s: restoring its previous allocation after a failed status write: %s",
                  req.key(), conflict);
            }
            placement.usageChanged(a.device());
            placement.usageChanged(d.previousDevice());
            placement.capacityFreed();
          }
          throw e;
        }
        if (d.held()) {
          placement.withLedger(client, l -> {
            l.confirm(req.key()); // only after the status write succeeded
            return null;
          });
          placement.usageChanged(a.device());
          if (!a.device().equals(d.previousDevice())) {
            placement.usageChanged(d.previousDevice());
          }
          metrics.placed(d.metric());
          LOG.infof("%s %s: %s at offset %d, port %d", d.reason(), a.tenant(), a.device(), a.lbaOffset(), a.port());
        }
        if (d.restored()) {
          placement.usageChanged(a.device());
        }
        dropLegacyLabel(ctx, t);
      }
      if (exposureError != null) {
        // Placed and reported; the exposure is retried with JOSDK's backoff.
        throw new IllegalStateException("FlashTenant " + req.key() + ": exposure failed: " + exposureError);
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

  /** Under the ledger lock: place / re-admit / re-place (holding a new allocation), no API calls. */
  private Decision decide(Ledger ledger, FlashTenant t, TenantRequest req) {
    String key = req.key();
    Optional<Allocation> cur = ledger.allocation(key);
    boolean restored = false;
    if (cur.isEmpty()) {
      // Written before but not committed here (operator restarted or the write's response was lost): take it back.
      Optional<Allocation> recorded = Translate.allocation(t);
      if (recorded.isPresent() && ledger.restore(recorded.get()) == null) {
        cur = recorded;
        restored = true;
      }
    }
    Long gen = t.getMetadata().getGeneration();
    boolean specSeen = t.getStatus() != null && Objects.equals(t.getStatus().getObservedGeneration(), gen);

    if (cur.isEmpty()) {
      if (specSeen && settings.rejectWhenNoFit() && t.getStatus().getPhase() == TenantPhase.Rejected) {
        return Decision.waitOnly(); // stays Rejected until its spec changes
      }
      Outcome o = ledger.place(req);
      if (!o.fits()) {
        TenantPhase phase = settings.rejectWhenNoFit() ? TenantPhase.Rejected : TenantPhase.Pending;
        return new Decision(null, false, true, phase, List.of(cond(t, ADMITTED, false, "NoFit", o.reason())), null,
            null, null, null, false);
      }
      return held(ledger, t, o.allocation(), null, "Placed", "placed on " + o.allocation().device(), "placed");
    }

    Allocation a = cur.get();
    Device dev = ledger.device(a.device()).orElse(null);
    if ((dev == null || !dev.healthy()) && settings.replaceOnDeviceLoss()) {
      ledger.release(key);
      Outcome o = ledger.place(req);
      if (o.fits()) {
        return held(ledger, t, o.allocation(), a, "Replaced", "re-placed on " + o.allocation().device()
            + " (an empty extent) because " + a.device() + (dev == null ? " is gone" : " is not Ready"), "replaced");
      }
      ledger.restore(a);
    }
    Condition admitted;
    if (!specSeen) {
      Outcome o = ledger.replan(req);
      if (o.fits()) {
        if (!o.allocation().equals(a)) {
          return held(ledger, t, o.allocation(), a, "Readmitted", "spec change re-admitted in place on "
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
    return new Decision(a, false, false, TenantPhase.Placed, List.of(admitted, deviceCond(t, a, dev)), null, null,
        address(a), null, restored);
  }

  /** Holds {@code a} in the ledger (tentative until its status write succeeded). */
  private Decision held(Ledger ledger, FlashTenant t, Allocation a, Allocation previous, String reason, String message,
                        String metric) {
    ledger.hold(a, previous);
    Device dev = ledger.device(a.device()).orElse(null);
    return new Decision(a, true, false, TenantPhase.Placed, List.of(cond(t, ADMITTED, true, reason, message),
        deviceCond(t, a, dev)), reason, metric, address(a), previous == null ? null : previous.device(), false);
  }

  /**
   * Writes the Service, EndpointSlice and Secret where they are missing or differ from the informer caches (a new
   * tenant: three creates; a reconcile with nothing changed: no request). The Secret's token is kept (a user who
   * edits it, or deletes the Secret for a new one, rotates it).
   */
  private Exposed expose(KubernetesClient c, FlashTenant t, Allocation a, String address, Integer nbdPort,
                         String transport) {
    // The three writes are independent: Service and EndpointSlice go out on virtual threads while this thread writes
    // the Secret, so a new tenant costs one API round trip here instead of three (the reconcile holds a reconciler
    // thread throughout; with three in a row, API latency and not CPU set how fast tenants were placed).
    Service svc = Exposure.service(t, a, nbdPort, transport);
    EndpointSlice eps = Exposure.endpointSlice(t, a, address, nbdPort, transport);
    Future<?> service = EXPOSURE.submit(
        () -> write(c, services, svc, cached(services, svc), Exposure::sameService, o -> Exposure.applyService(c, o), null));
    Future<?> slice = EXPOSURE.submit(
        () -> write(c, slices, eps, cached(slices, eps), Exposure::sameEndpointSlice, o -> ServerSideApply.apply(c, o), null));
    RuntimeException failed = null;
    String[] kept = {null};
    Secret sec = null;
    try {
      Secret have = secrets == null ? null
          : secrets.get(new ResourceID(Exposure.secretName(t), t.getMetadata().getNamespace())).orElse(null);
      sec = Exposure.secret(t, a, Exposure.token(have), nbdPort, transport);
      write(c, secrets, sec, have, Exposure::sameSecret, null, () -> {
        // Exists but not in the cache yet: keep its token.
        Secret old = c.secrets().inNamespace(t.getMetadata().getNamespace()).withName(Exposure.secretName(t)).get();
        kept[0] = Exposure.token(old);
        return Exposure.secret(t, a, kept[0], nbdPort, transport);
      });
    } catch (RuntimeException e) {
      failed = e;
    }
    failed = joined(service, failed); // always both: no write of this reconcile may outlive it
    failed = joined(slice, failed);
    if (failed instanceof KubernetesClientException e) {
      LOG.warnf("FlashTenant %s: exposure: %s", Translate.key(t), e.getMessage());
      return new Exposed(e.getCode() > 0 && e.getStatus() != null ? "HTTP " + e.getCode() + ": " + e.getStatus().getMessage()
          : e.getMessage(), null);
    }
    if (failed != null) {
      throw failed;
    }
    return new Exposed(null, kept[0] != null ? kept[0] : Exposure.token(sec));
  }

  /** Waits for {@code f}; returns the first failure of {@code first} and {@code f}'s. */
  private static RuntimeException joined(Future<?> f, RuntimeException first) {
    RuntimeException e = null;
    boolean interrupted = false;
    while (true) {
      try {
        f.get();
        break;
      } catch (InterruptedException ie) {
        interrupted = true; // finish waiting: the write is in flight either way
      } catch (ExecutionException ee) {
        e = ee.getCause() instanceof RuntimeException r ? r : new IllegalStateException(ee.getCause());
        break;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return first != null ? first : e;
  }

  /** What {@link #expose} did: why it failed (null: it did not), and the token the Secret holds (null: none). */
  private record Exposed(String error, String token) {}

  private static <R extends HasMetadata> R cached(InformerEventSource<R, FlashTenant> cache, R want) {
    return cache == null ? null : cache.get(ResourceID.fromResource(want)).orElse(null);
  }

  /**
   * Writes {@code want} unless the cached object ({@code have}) already carries it: with {@code apply} (server-side
   * apply) when given, else server-side applied if cached and created if not (on "already exists", server-side
   * applies {@code onConflict}'s object, or {@code want}: the Secret, whose token must survive); through the informer
   * so the result is cached at once and our own write does not come back as an event.
   *
   * <p>Objects whose lists change later (a Service's ports, keyed by port, when the tenant gets another port) must be
   * created by apply too: fields a plain create wrote belong to another field-manager entry, and a later apply
   * without them does not remove them (the old port stayed next to the new one, and the Service was refused with
   * "Duplicate value: reflex" forever).
   */
  private static <R extends HasMetadata> void write(KubernetesClient c, InformerEventSource<R, FlashTenant> cache,
                                                    R want, R have, BiPredicate<R, R> same, UnaryOperator<R> apply,
                                                    Supplier<R> onConflict) {
    if (have != null && same.test(have, want)) {
      return;
    }
    UnaryOperator<R> op = o -> {
      if (apply != null) {
        return apply.apply(o);
      }
      if (have != null) {
        return ServerSideApply.apply(c, o);
      }
      try {
        return c.resource(o).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        return ServerSideApply.apply(c, onConflict == null ? o : onConflict.get());
      }
    };
    if (cache == null) {
      op.apply(want);
    } else {
      cache.eventFilteringUpdateAndCacheResource(want, op);
    }
  }

  private Condition deviceCond(FlashTenant t, Allocation a, Device dev) {
    if (dev == null) {
      return cond(t, DEVICE_READY, false, "DeviceGone", "FlashDevice " + a.device() + " no longer exists"
          + (settings.replaceOnDeviceLoss() ? "; no other device fits yet" : "; delete and recreate the tenant to move it"));
    }
    if (!dev.healthy()) {
      FlashDevice fd = devices == null ? null : devices.get(new ResourceID(a.device())).orElse(null);
      String agentGone = fd == null || !Translate.ready(fd) ? null : placement.heartbeats().problem(fd);
      String then = settings.replaceOnDeviceLoss() ? "; no other device fits yet"
          : "; its data stays there (reflex.operator.replace-on-device-loss=true moves it to an empty extent elsewhere)";
      if (agentGone != null) {
        return cond(t, DEVICE_READY, false, "AgentLost", "FlashDevice " + a.device() + " on node " + a.node()
            + " is not Ready: " + agentGone + then);
      }
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
        : cond(t, EXPOSED, true, "EndpointReady", "Service " + Exposure.serviceName(t) + " -> " + address + ":" + a.port()
            + ("UDP".equals(Exposure.protocol(transport(a))) ? "/udp (the node's DPDK port)" : ""));
  }

  /** The NBD port of the tenant's device (its agent publishes it), or null when the device has none. */
  private Integer nbdPort(Allocation a) {
    FlashDevice d = devices == null ? null : devices.get(new ResourceID(a.device())).orElse(null);
    return Translate.nbdPort(d);
  }

  /** How the tenant's device is reached ({@code status.transport}; null: tcp). */
  private String transport(Allocation a) {
    FlashDevice d = devices == null ? null : devices.get(new ResourceID(a.device())).orElse(null);
    return Translate.transport(d);
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
  boolean writeStatus(Context<FlashTenant> ctx, FlashTenant t, TenantPhase phase, Allocation a, String tokenHash,
                      List<Condition> conds) {
    FlashTenantStatus s = new FlashTenantStatus();
    FlashTenantStatus old = t.getStatus();
    // The node agent reports Serving; do not take the phase back while the placement is unchanged and its device
    // Ready (an agent that was killed cannot take it back itself).
    boolean deviceReady = conds.stream().noneMatch(c -> DEVICE_READY.equals(c.getType()) && "False".equals(c.getStatus()));
    boolean keepServing = old != null && old.getPhase() == TenantPhase.Serving && phase == TenantPhase.Placed
        && deviceReady && a != null && Translate.allocation(t).map(x -> x.offsetBytes() == a.offsetBytes()
        && x.device().equals(a.device())).orElse(false);
    s.setPhase(keepServing ? TenantPhase.Serving : phase);
    s.setObservedGeneration(t.getMetadata().getGeneration());
    if (a != null) {
      s.setPlacement(Translate.placement(a));
      s.setEndpoint(Exposure.endpoint(t, a.port()));
      s.setSecretName(Exposure.secretName(t));
      s.setTokenHash(tokenHash);
    }
    List<Condition> sorted = new ArrayList<>(conds);
    sorted.sort(Comparator.comparing(Condition::getType));
    s.setConditions(sorted);
    if (old != null && same(old, s)) {
      return false;
    }
    placement.fence().check("FlashTenant " + Translate.key(t) + " status");
    FlashTenant patch = new FlashTenant();
    patch.setMetadata(new ObjectMetaBuilder().withName(t.getMetadata().getName())
        .withNamespace(t.getMetadata().getNamespace()).build());
    patch.setStatus(s);
    // Through the primary cache: the response is what the next reconcile sees, and its event is not one.
    ctx.eventSourceRetriever().getControllerEventSource().eventFilteringUpdateAndCacheResource(patch,
        p -> ServerSideApply.applyStatus(ctx.getClient(), p));
    return true;
  }

  private static boolean same(FlashTenantStatus old, FlashTenantStatus s) {
    if (old.getPhase() != s.getPhase() || !Objects.equals(old.getObservedGeneration(), s.getObservedGeneration())
        || !Objects.equals(old.getEndpoint(), s.getEndpoint()) || !Objects.equals(old.getSecretName(), s.getSecretName())
        || !Objects.equals(old.getTokenHash(), s.getTokenHash())
        || !Objects.equals(old.getPlacement(), s.getPlacement())) {
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

  /** Removes the device label older operators put on placed tenants (it would go stale): once per such tenant. */
  private static void dropLegacyLabel(Context<FlashTenant> ctx, FlashTenant t) {
    if (t.getMetadata().getLabels() == null || !t.getMetadata().getLabels().containsKey(FlashTenant.LEGACY_DEVICE_LABEL)) {
      return;
    }
    String body = "{\"metadata\":{\"labels\":{\"" + FlashTenant.LEGACY_DEVICE_LABEL + "\":null}}}";
    ctx.eventSourceRetriever().getControllerEventSource().eventFilteringUpdateAndCacheResource(t,
        // resource(x), not withName(): the latter reads the object first.
        x -> ctx.getClient().resource(x).patch(PatchContext.of(PatchType.JSON_MERGE), body));
  }

  /**
   * A deleted tenant (or one being deleted behind someone else's finalizer): frees its allocation, deletes its
   * exposure objects (those the caches show are this tenant's, by owner UID: a tenant re-created under the same name
   * keeps its new ones; owner references remove them too where a garbage collector runs). Idempotent.
   */
  private void forget(FlashTenant t, KubernetesClient client) {
    String key = Translate.key(t);
    Optional<Allocation> freed = placement.withLedger(client, ledger -> {
      placement.markDeleted(t.getMetadata().getUid()); // a delete is final, even behind someone else's finalizer
      return ledger.release(key);
    });
    placement.waiting(ResourceID.fromResource(t), false);
    if (freed.isPresent()) {
      placement.capacityFreed(); // after the release: the waiting tenants' retry sees the freed extent and tokens
      placement.usageChanged(freed.get().device());
      LOG.debugf("freed %s on %s", key, freed.get().device());
    }
    String ns = t.getMetadata().getNamespace();
    String uid = t.getMetadata().getUid();
    try {
      deleteOwned(client, services, new ResourceID(Exposure.serviceName(t), ns), uid);
      deleteOwned(client, slices, new ResourceID(Exposure.endpointSliceName(t), ns), uid);
      deleteOwned(client, secrets, new ResourceID(Exposure.secretName(t), ns), uid);
    } catch (KubernetesClientException e) {
      LOG.warnf("FlashTenant %s: deleting its Service/EndpointSlice/Secret: %s (owner references clean up)", key,
          e.getMessage());
    }
  }

  /** Removes an older operator's finalizer from a tenant marked for deletion (that operator's cleanup is done). */
  private static void dropLegacyFinalizer(KubernetesClient c, FlashTenant t) {
    if (t.getMetadata().getDeletionTimestamp() == null || t.getMetadata().getFinalizers() == null
        || !t.getMetadata().getFinalizers().contains(LEGACY_FINALIZER)) {
      return;
    }
    int i = t.getMetadata().getFinalizers().indexOf(LEGACY_FINALIZER);
    // A JSON patch that tests the entry first: another controller's finalizer list edit in between fails it (422)
    // instead of removing the wrong entry; the next update event retries.
    String patch = "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/" + i + "\",\"value\":\"" + LEGACY_FINALIZER
        + "\"},{\"op\":\"remove\",\"path\":\"/metadata/finalizers/" + i + "\"}]";
    try {
      c.resources(FlashTenant.class).inNamespace(t.getMetadata().getNamespace()).withName(t.getMetadata().getName())
          .patch(new PatchContext.Builder().withPatchType(PatchType.JSON).build(), patch);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404 && e.getCode() != 422) {
        throw e;
      }
    }
  }

  /** Deletes the cached object {@code id} if {@code ownerUid} owns it, with that object's UID as precondition. */
  private static <R extends HasMetadata> void deleteOwned(KubernetesClient c, InformerEventSource<R, FlashTenant> cache,
                                                          ResourceID id, String ownerUid) {
    R o = cache == null ? null : cache.get(id).orElse(null);
    if (o == null || ownerUid == null || o.getMetadata().getOwnerReferences() == null
        || o.getMetadata().getOwnerReferences().stream().noneMatch(r -> ownerUid.equals(r.getUid()))) {
      return;
    }
    c.resource(o).withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND).delete();
  }
}

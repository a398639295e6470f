package io.reflex.agent;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.reflex.agent.binding.DriverBinder;
import io.reflex.agent.binding.SysfsWriter;
import io.reflex.agent.discovery.Nics;
import io.reflex.agent.network.DpdkPort;
import io.reflex.agent.calibration.CalibrationRunner;
import io.reflex.agent.calibration.DeviceCalibrations;
import io.reflex.agent.calibration.DriverCalibrationRunner;
import io.reflex.agent.calibration.ModelConfigMaps;
import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.discovery.Discovery;
import io.reflex.agent.hugepages.HugePages;
import io.reflex.crds.status.Conditions;
import io.reflex.agent.kube.NodeScopedInformers;
import io.reflex.agent.kube.Heartbeat;
import io.reflex.agent.kube.Publisher;
import io.reflex.agent.kube.TenantRows;
import io.reflex.agent.serving.DeviceCheck;
import io.reflex.agent.serving.DeviceResolver;
import io.reflex.agent.serving.DeviceServer;
import io.reflex.agent.serving.ManagedDevice;
import io.reflex.agent.state.ClaimStore;
import io.reflex.agent.state.NbdPorts;
import io.reflex.crds.v1alpha1.DevicePhase;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.dataplane.tenant.TenantSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One node's agent: keeps the devices it is responsible for published and claimed, runs a dataplane per usable device,
 * and serves exactly the FlashTenants the operator placed on them. Everything it decides runs on one control thread
 * (informer events and a periodic rescan only request a pass), so device state never races; the dataplane loops run on
 * their own threads and never wait for it.
 *
 * <p>Self-fencing (with the heartbeat on, see {@link Heartbeat}): when the Lease has not been renewed for the fence
 * interval, the heartbeat's watchdog calls {@link #fence} directly (the control thread may be stuck in a request to an
 * API server it cannot reach): every device's tenant table is emptied, which closes every tenant listener and every
 * ReFlex and NBD connection the way a deleted tenant's are (requests already at the device complete; nothing whose
 * reply was not sent was acknowledged). Devices stay open, claimed and published; no data is touched. Passes do
 * nothing while fenced. A successful renewal asks the control thread to unfence: it re-reads this node's devices and
 * tenants from the API server through new informers (a fresh list, not the cache from before the partition), and only
 * then lets the next pass serve the tenants still placed here. A tenant moved away meanwhile is never served again.
 */
public final class NodeAgent implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(NodeAgent.class.getName());
  /** FlashDevice condition (--net dpdk): how the device is reached, or why its DPDK port is not there. */
  public static final String NETWORK = "Network";

  /** What health checks read: written by the control thread after every pass. */
  public record Health(boolean synced, boolean live, List<String> notListening, int devices, int tenantsServing) {}

  private final AgentSettings settings;
  private final KubernetesClient client;
  private final Publisher publisher;
  private final DeviceResolver resolver;
  private final DeviceCheck check;
  private final AgentMetrics metrics;
  private final NbdPorts nbdPorts;
  /** The node's Lease the operator watches (null: heartbeat off). */
  private final Heartbeat heartbeat;
  private final ScheduledExecutorService control;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final Map<String, DeviceServer> servers = new LinkedHashMap<>();
  private final Set<String> reported = new HashSet<>();
  private final Map<String, String> loggedProblems = new HashMap<>();
  /** The node's DPDK port (--net dpdk): its NIC, found, checked and bound; also gives back NICs of earlier runs. */
  private final DpdkPort dpdkPort;
  /**
   * The device served from the DPDK port (--net dpdk): one per process (the EAL initialises once, a port belongs to
   * one process). The first device this agent wants, kept while it is wanted; every other device is served over
   * kernel TCP. Null in TCP mode or before there is a device.
   */
  private String dpdkDevice;
  /** A DPDK device server was started (and its port is closed once it stops: DPDK cannot open it again here). */
  private boolean dpdkPortUsed;
  /** Devices whose model is {@code calibrate}: their calibration, model and Calibrated condition. */
  private final DeviceCalibrations calibrations;
  private SharedIndexInformer<FlashDevice> devices;
  private SharedIndexInformer<FlashTenant> tenants;
  private volatile Health health = new Health(false, true, List.of(), 0, 0);
  private volatile boolean closed;
  /**
   * Guards {@link #fenced} and every change of {@link #servers} and of what they serve: the fence runs on the
   * heartbeat's watchdog thread, never interleaved with a pass applying tables.
   */
  private final Object fenceLock = new Object();
  /** Serving nothing until a renewal and a fresh read of the API server (see the class comment). */
  private volatile boolean fenced;
  private final AtomicBoolean unfencePending = new AtomicBoolean();
  /** Informers installed by {@link #start}: only then may an unfence replace them. */
  private volatile boolean started;

  public NodeAgent(KubernetesClient client, AgentSettings settings, MeterRegistry registry) {
    this(client, settings, registry, new DriverCalibrationRunner(settings.calibration()));
  }

  /** With another calibrator (tests): what measures devices whose model is {@code calibrate}. */
  public NodeAgent(KubernetesClient client, AgentSettings settings, MeterRegistry registry, CalibrationRunner calibrator) {
    this.settings = settings;
    this.client = client;
    this.heartbeat = Heartbeat.fromEnvironment(client, settings);
    this.publisher = new Publisher(client, settings, heartbeat == null ? null : heartbeat.key());
    this.resolver = new DeviceResolver(settings);
    // NICs are judged with the agent's own address in mind: the interface that carries it is never a DPDK port.
    Discovery discovery = new Discovery(settings.roots(), w -> LOG.warning(w), new Nics(settings.roots(),
        Nics.defaultAddresses(settings.roots()), Set.of(settings.address())));
    DriverBinder binder = new DriverBinder(settings.roots(), settings.stateDir(), discovery, SysfsWriter.REAL);
    this.check = new DeviceCheck(settings, discovery, binder, new HugePages(settings.roots()),
        new ClaimStore(settings.stateDir()));
    this.dpdkPort = new DpdkPort(settings.net(), discovery, binder, settings.restoreDrivers());
    this.metrics = new AgentMetrics(registry, () -> health);
    if (heartbeat != null) {
      metrics.fencing(() -> fenced, () -> {
        var since = heartbeat.sinceRenewal();
        return since == null ? Double.NaN : since.toNanos() / 1e9;
      });
      heartbeat.listener(new Heartbeat.Listener() {
        @Override public void lapsed(String why) { fence(why); }
        @Override public void renewed() { onRenewed(); }
      });
    }
    this.nbdPorts = new NbdPorts(settings.stateDir(), settings.nbdPort());
    this.calibrations = new DeviceCalibrations(calibrator, new ModelConfigMaps(client, agentNamespace(client),
        settings.node(), settings.fieldManager()), settings.stateDir(), settings.node(), settings.syncWrites(),
        this::requestPass);
    metrics.calibration(calibrations::running);
    calibrations.onOutcome(metrics::calibrationEnded);
    this.control = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "reflex-agent-" + settings.node());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Starts the heartbeat (the Lease exists before any device names it), the informers, waits until they have synced,
   * runs the first pass and schedules the periodic rescan.
   */
  public NodeAgent start() {
    dpdkPort.releaseStale(); // a NIC an earlier run bound for DPDK and this one does not use goes back
    if (heartbeat != null) heartbeat.start();
    try {
      startInformers(Duration.ofSeconds(60));
    } catch (Exception e) {
      throw new IllegalStateException("node agent " + settings.node() + ": informers did not sync: " + e.getMessage(), e);
    }
    started = true;
    onRenewed(); // fenced already (no renewal at startup yet)? unfences once the Lease is held
    requestPass();
    long every = settings.rescan().toMillis();
    control.scheduleWithFixedDelay(this::requestPass, every, every, TimeUnit.MILLISECONDS);
    return this;
  }

  /**
   * New informers for this node's devices and tenants, started and synced from a fresh list (see
   * {@link NodeScopedInformers#forNode}), then installed in place of the old ones (stopped). On failure the old ones
   * stay and the new ones are stopped.
   */
  private void startInformers(Duration timeout) throws Exception {
    ResourceEventHandler<Object> poke = new ResourceEventHandler<>() {
      @Override public void onAdd(Object o) { requestPass(); }
      @Override public void onUpdate(Object o, Object n) { requestPass(); }
      @Override public void onDelete(Object o, boolean unknown) { requestPass(); }
    };
    SharedIndexInformer<FlashDevice> d = null;
    SharedIndexInformer<FlashTenant> t = null;
    try {
      d = NodeScopedInformers.forNode(client.resources(FlashDevice.class), "FlashDevice", FlashDevice.NODE_FIELD,
          settings.node());
      t = NodeScopedInformers.forNode(client.resources(FlashTenant.class).inAnyNamespace(), "FlashTenant",
          FlashTenant.NODE_FIELD, settings.node());
      // Handlers before start; the fields are set before the first pass can run (requested only after this returns).
      d.addEventHandler(cast(poke));
      t.addEventHandler(cast(poke));
      long deadline = System.nanoTime() + timeout.toNanos();
      for (SharedIndexInformer<?> i : List.of(d, t)) {
        i.start().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (Exception e) {
      if (d != null) d.stop();
      if (t != null) t.stop();
      throw e;
    }
    SharedIndexInformer<FlashDevice> oldD = devices;
    SharedIndexInformer<FlashTenant> oldT = tenants;
    devices = d;
    tenants = t;
    if (oldD != null) oldD.stop();
    if (oldT != null) oldT.stop();
  }

  @SuppressWarnings("unchecked")
  private static <T> ResourceEventHandler<T> cast(ResourceEventHandler<Object> h) {
    return (ResourceEventHandler<T>) (ResourceEventHandler<?>) h;
  }

  /** Coalesces: at most one pass waits behind the running one. */
  public void requestPass() {
    if (!closed && pending.compareAndSet(false, true)) {
      control.execute(() -> {
        pending.set(false);
        if (closed) return;
        Timer.Sample t = metrics.startPass();
        try {
          pass();
          metrics.passDone(t, true);
        } catch (RuntimeException | Error e) { // an Error here would vanish in the executor's future
          metrics.passDone(t, false);
          LOG.log(Level.WARNING, "node agent pass failed (retried on the next event or rescan): " + e.getMessage(), e);
        }
      });
    }
  }

  // ---- one pass: devices, then tenants ------------------------------------------------------------------------

  private void pass() {
    if (fenced) return; // nothing is served until a renewal and a fresh read (unfence); no requests to the API server
    List<FlashDevice> ours = devices.getStore().list().stream()
        .filter(d -> d.getSpec() != null && settings.node().equals(d.getSpec().getNodeName())).toList();
    Map<String, FlashDevice> byName = new HashMap<>();
    ours.forEach(d -> byName.put(d.getMetadata().getName(), d));
    check.beginPass();
    DeviceResolver.Resolved resolved = resolver.resolve(ours, check::pciFunctions);
    resolved.problems().forEach(p -> logOnce(p, p));

    Map<String, ManagedDevice> wanted = new LinkedHashMap<>();
    for (ManagedDevice d : resolved.devices()) {
      FlashDevice other = devices.getStore().getByKey(d.name());
      if (other != null && other.getSpec() != null && !settings.node().equals(other.getSpec().getNodeName())) {
        // Never write another node's device: a configured name that is taken stays unserved, with the reason logged.
        logOnce(d.name(), "FlashDevice " + d.name() + " belongs to node " + other.getSpec().getNodeName()
            + "; give this device another name (--device ...,name=...)");
        continue;
      }
      wanted.put(d.name(), d);
    }
    // Devices no longer wanted (an admin deleted their FlashDevice): stop serving, give them back.
    for (String name : List.copyOf(servers.keySet())) {
      if (!wanted.containsKey(name)) stop(name, "no longer configured");
    }
    for (String name : calibrations.devices()) {
      ManagedDevice w = wanted.get(name);
      if (w == null) calibrations.forget(name, "the device is no longer configured");
      else if (!w.calibrates()) calibrations.forget(name, "the device was given model " + w.model());
    }
    String dpdkName = chooseDpdkDevice(wanted.keySet());
    DpdkPort.Outcome port = null; // prepared at most once a pass, for the DPDK device
    Map<String, List<String>> tenantsByDevice = tenantsByDevice();
    Map<String, DeviceCalibrations.Verdict> verdicts = new HashMap<>();
    check.releaseAllBut(wanted.keySet());

    Map<String, DeviceCheck.Outcome> outcomes = new LinkedHashMap<>();
    for (ManagedDevice d : List.copyOf(wanted.values())) {
      FlashDevice fd = byName.get(d.name());
      try {
        if (fd == null || d.configured() || !annotated(fd, addressOf(d.name()))) {
          byName.put(d.name(), publisher.applyDevice(d, addressOf(d.name())));
        }
      } catch (RuntimeException e) {
        if (!refusedByApiServer(e)) {
          // Unreachable or overloaded: go on as before. Whether to stop serving is the heartbeat's call (self-fencing),
          // not that of one failed request (an API server restart must not drop every tenant's connections).
          logOnce(d.name(), "cannot publish FlashDevice " + d.name() + " (retried next pass): " + e.getMessage());
        } else { // e.g. the API server refuses the spec: this device only, the others go on
          logOnce(d.name(), "cannot publish FlashDevice " + d.name() + ": " + e.getMessage());
          wanted.remove(d.name());
          if (servers.containsKey(d.name())) stop(d.name(), "its FlashDevice cannot be published");
          continue;
        }
      }
      boolean dpdk = d.name().equals(dpdkName);
      DeviceCheck.Outcome o = check.check(d, servers.containsKey(d.name()), dpdk && !settings.net().noHuge());
      ManagedDevice serveAs = d;
      DeviceCalibrations.Verdict v = null;
      if (d.calibrates()) {
        if (!o.usable()) {
          calibrations.cancel(d.name(), o.summary());
        } else {
          v = calibrations.decide(d, byName.get(d.name()), check.identity(d.name()), o.capacityBytes(),
              tenantsByDevice.getOrDefault(d.name(), List.of()), () -> stop(d.name(), "calibrating it"));
          verdicts.put(d.name(), v);
          if (v.mode() == DeviceCalibrations.Mode.SERVE) serveAs = d.withModel(v.modelFile());
        }
      }
      boolean held = calibrations.busy(d.name()); // a calibration thread still has the device open
      if (!o.usable()) {
        if (servers.containsKey(d.name())) stop(d.name(), o.summary());
      } else if (held || (v != null && v.mode() != DeviceCalibrations.Mode.SERVE)) {
        if (servers.containsKey(d.name())) stop(d.name(), v != null ? v.message() : "a calibration still holds it");
      } else if (!servers.containsKey(d.name())) {
        if (dpdk) { // the device is fine: now its network, the DPDK port (found, checked, bound)
          port = dpdkPort.prepare();
          if (!port.ok()) {
            o = o.unusable(port.refused().reason(), "not served: " + port.refused().message());
            logOnce(d.name() + "/dpdk", "device " + d.name() + ": no DPDK port: " + port.refused().message());
          } else if (dpdkPortUsed) {
            o = o.openFailed("the DPDK port was closed when device " + d.name() + " stopped serving, and DPDK cannot "
                + "open it again in this process: restart the agent");
          }
        }
        if (o.usable()) try {
          DeviceServer srv = dpdk && port != null && port.ok()
              ? new DeviceServer(serveAs, settings, 0, new DeviceServer.Dpdk(port.ready().ealArgs(), settings.net().ip(),
                  settings.net().inetAddress(), settings.net().mtu(), port.ready().description()))
              : new DeviceServer(serveAs, settings, nbdPorts.portFor(d.name()));
          if (srv.dpdk() != null) dpdkPortUsed = true;
          synchronized (fenceLock) {
            servers.put(d.name(), srv); // serves nothing until its table is applied below
          }
          LOG.info("serving device " + d.name() + " (" + o.summary() + ")");
        } catch (RuntimeException e) {
          o = o.openFailed("cannot open " + (d.path() == null ? d.name() : d.path()) + ": " + e.getMessage());
        }
      }
      outcomes.put(d.name(), o);
    }

    Map<String, Integer> served = serveTenants(wanted.keySet());
    if (served == null) return; // fenced meanwhile: nothing is written

    for (ManagedDevice d : wanted.values()) {
      FlashDevice fd = byName.get(d.name());
      DeviceCheck.Outcome o = outcomes.get(d.name());
      DeviceServer srv = servers.get(d.name());
      List<Condition> old = fd == null || fd.getStatus() == null ? null : fd.getStatus().getConditions();
      Long gen = fd == null ? null : fd.getMetadata().getGeneration();
      List<Condition> conds = new ArrayList<>(o.conditions(old, gen));
      int n = served.getOrDefault(d.name(), 0);
      if (srv != null) srv.retryNbd(); // a port that was busy may be free now
      // The assigned port, listening or not (like a tenant's port): Secrets and clients keep it across outages.
      boolean dpdk = d.name().equals(dpdkName);
      Integer nbd = nbdPorts.enabled() && !dpdk ? nbdPorts.portFor(d.name()) : null; // NBD needs kernel TCP
      String transport = dpdk ? FlashDevice.TRANSPORT_UDP : FlashDevice.TRANSPORT_TCP;
      if (settings.net().dpdk()) conds.add(networkCondition(old, gen, d.name(), dpdkName, srv, o));
      DeviceCalibrations.Verdict v = verdicts.get(d.name());
      boolean calibrating = srv == null && v != null && v.mode() == DeviceCalibrations.Mode.CALIBRATING;
      conds.add(srv != null
          ? Conditions.of(old, Publisher.SERVING, true, "Serving", "serving " + n + " tenant(s) on " + srv.address().getHostAddress()
              + (srv.dpdk() != null ? " over UDP (DPDK port)" : "")
              + (srv.nbdListening() != null ? "; NBD exports on port " + srv.nbdListening()
                  : srv.nbdProblem() != null ? "; " + srv.nbdProblem() : ""), gen)
          : v != null && v.mode() != DeviceCalibrations.Mode.SERVE && o.usable()
              ? Conditions.of(old, Publisher.SERVING, false, calibrating ? "Calibrating" : "NotCalibrated",
                  (calibrating ? "not served while it is calibrated: " : "not served: ") + v.message(), gen)
              : Conditions.of(old, Publisher.SERVING, false, o.reason(), o.summary(), gen));
      io.reflex.crds.v1alpha1.DeviceCalibration calibration = null;
      if (d.calibrates()) {
        calibration = v != null ? v.status() : calibrations.published(d.name(), fd);
        conds.add(v != null ? Conditions.of(old, DeviceCalibrations.CONDITION, v.ok(), v.reason(), v.message(), gen)
            : Conditions.of(old, DeviceCalibrations.CONDITION, calibration != null, calibration != null ? "Calibrated" : "NotCalibrated",
                (calibration != null ? "calibrated " + calibration.getCalibratedAt() + "; " : "not calibrated yet: ")
                    + "the device is not usable now (" + o.summary() + ")", gen));
      }
      DevicePhase phase = srv != null ? DevicePhase.Ready
          : calibrating ? DevicePhase.Calibrating
          : v != null && o.usable() ? DevicePhase.Unavailable : o.phase();
      Long capacity = srv != null ? Long.valueOf(srv.capacityBytes()) : o.capacityBytes();
      if (srv != null && srv.nbdProblem() != null) logOnce(d.name() + "/nbd", "device " + d.name() + ": " + srv.nbdProblem());
      if (fd == null || !sameDeviceStatus(fd, phase, gen, capacity, nbd, conds)
          || !Objects.equals(fd.getStatus().getCalibration(), calibration)
          || !Objects.equals(fd.getStatus().getTransport(), transport)) {
        try {
          publisher.deviceStatus(d.name(), phase, gen, capacity, nbd, conds, calibration, transport);
        } catch (RuntimeException e) {
          logOnce(d.name() + "/status", "cannot write the status of FlashDevice " + d.name() + ": " + e.getMessage());
        }
      }
    }
  }

  /** The device served from the DPDK port (see {@link #dpdkDevice}), or null. */
  private String chooseDpdkDevice(Set<String> wanted) {
    if (!settings.net().dpdk()) return null;
    if (dpdkDevice != null && (wanted.contains(dpdkDevice) || dpdkPortUsed)) return dpdkDevice;
    String first = wanted.isEmpty() ? null : wanted.iterator().next();
    if (!Objects.equals(first, dpdkDevice) && first != null) {
      LOG.info("device " + first + " is served from the DPDK port (" + settings.net().address() + ", MTU "
          + settings.net().mtu() + ")" + (wanted.size() > 1 ? "; one device per DPDK port: "
          + String.join(", ", wanted.stream().filter(n -> !n.equals(first)).toList()) + " over kernel TCP on "
          + settings.address().getHostAddress() : ""));
    }
    dpdkDevice = first;
    return first;
  }

  /** Where a device's tenants are reached: the DPDK port's address for the DPDK device, else the node's. */
  private String addressOf(String device) {
    return settings.net().dpdk() && device.equals(dpdkDevice) ? settings.net().inetAddress().getHostAddress()
        : settings.address().getHostAddress();
  }

  /** Condition Network (--net dpdk only): how the device is reached, or why the DPDK port is not there. */
  private Condition networkCondition(List<Condition> old, Long gen, String device, String dpdkName, DeviceServer srv,
                                     DeviceCheck.Outcome o) {
    if (!device.equals(dpdkName)) {
      return Conditions.of(old, NETWORK, true, "KernelTcp", "kernel TCP on " + settings.address().getHostAddress()
          + (dpdkName == null ? "" : ": the agent's one DPDK port serves device " + dpdkName), gen);
    }
    if (srv != null && srv.dpdk() != null) {
      return Conditions.of(old, NETWORK, true, "DpdkPort", "UDP on the DPDK port at " + settings.net().address() + ", MTU "
          + settings.net().mtu() + " (" + srv.dpdk().description() + ")", gen);
    }
    return Conditions.of(old, NETWORK, false, o.usable() ? "NotStarted" : o.reason(), o.usable()
        ? "the DPDK port is not started yet" : o.summary(), gen);
  }

  /** Tenants placed on each device (namespace/name), as the informer has them, those being deleted included. */
  private Map<String, List<String>> tenantsByDevice() {
    Map<String, List<String>> m = new HashMap<>();
    for (FlashTenant t : tenants.getStore().list()) {
      var st = t.getStatus();
      if (st == null || st.getPlacement() == null || st.getPlacement().getDevice() == null) continue;
      m.computeIfAbsent(st.getPlacement().getDevice(), k -> new ArrayList<>()).add(TenantRows.key(t));
    }
    m.values().forEach(l -> l.sort(null));
    return m;
  }

  /**
   * The agent's namespace (its calibrated models' ConfigMaps): REFLEX_NAMESPACE, else the heartbeat's
   * (REFLEX_HEARTBEAT_NAMESPACE), else the client's (in a Pod: its own), else default.
   */
  static String agentNamespace(KubernetesClient client) {
    for (String env : new String[] {"REFLEX_NAMESPACE", "REFLEX_HEARTBEAT_NAMESPACE"}) {
      String v = System.getenv(env);
      if (v != null && !v.isBlank()) return v.trim();
    }
    String ns = client.getNamespace();
    return ns == null || ns.isBlank() ? "default" : ns;
  }

  /** The API server answered and said no (invalid, forbidden, conflict...), as opposed to not answering or being overloaded. */
  static boolean refusedByApiServer(RuntimeException e) {
    return e instanceof KubernetesClientException k && k.getCode() >= 400 && k.getCode() < 500 && k.getCode() != 408
        && k.getCode() != 429;
  }

  /** Whether an admin-created device already carries the agent's annotations (address, heartbeat Lease). */
  private boolean annotated(FlashDevice fd, String address) {
    var a = fd.getMetadata().getAnnotations();
    return a != null && publisher.annotations(address).entrySet().stream().allMatch(e -> e.getValue().equals(a.get(e.getKey())));
  }

  /**
   * Applies each device's tenant table and reports every tenant placed on this node. Returns device → listening count,
   * or null when the agent is fenced (then every table is empty and nothing is reported).
   */
  private Map<String, Integer> serveTenants(Set<String> ourDevices) {
    Map<String, List<FlashTenant>> byDevice = new LinkedHashMap<>();
    List<FlashTenant> placedHere = new ArrayList<>();
    for (FlashTenant t : tenants.getStore().list()) {
      var st = t.getStatus();
      if (st == null || st.getPlacement() == null || !settings.node().equals(st.getPlacement().getNode())) continue;
      if (t.getMetadata().getDeletionTimestamp() != null) continue; // going away: its port closes now
      placedHere.add(t);
      byDevice.computeIfAbsent(st.getPlacement().getDevice(), k -> new ArrayList<>()).add(t);
    }
    Map<String, String> why = new HashMap<>(); // tenant key -> why it is not served (absent: listening)
    Map<String, Integer> listening = new HashMap<>();
    synchronized (fenceLock) { // a fence cannot slip in between deciding to serve and serving
      if (!fenced && heartbeat != null && !heartbeat.held()) {
        fenceLocked("the heartbeat Lease is not held (no successful renewal within "
            + heartbeat.fenceInterval().toMillis() + " ms)");
      }
      if (fenced) return null;
      for (var e : servers.entrySet()) {
        List<FlashTenant> list = byDevice.getOrDefault(e.getKey(), List.of());
        List<TenantSpec> rows = new ArrayList<>();
        Map<String, String> keyOf = new HashMap<>();
        for (FlashTenant t : list) {
          try {
            TenantSpec row = TenantRows.row(t);
            rows.add(row);
            keyOf.put(row.name(), TenantRows.key(t));
          } catch (RuntimeException ex) {
            why.put(TenantRows.key(t), ex.getMessage());
          }
        }
        Map<String, String> refused = e.getValue().apply(rows);
        refused.forEach((name, reason) -> why.put(keyOf.get(name), reason));
        listening.put(e.getKey(), rows.size() - refused.size());
      }
    }
    List<String> notListening = new ArrayList<>();
    List<Runnable> writes = new ArrayList<>();
    int serving = 0;
    Set<String> now = new HashSet<>();
    for (FlashTenant t : placedHere) {
      String key = TenantRows.key(t);
      String device = t.getStatus().getPlacement().getDevice();
      String reason;
      String problem;
      if (!ourDevices.contains(device)) {
        reason = "DeviceUnknown";
        problem = "device " + device + " is not managed by the agent on " + settings.node();
      } else if (!servers.containsKey(device)) {
        reason = "DeviceUnavailable";
        problem = "device " + device + " is not serving (see its FlashDevice conditions)";
      } else {
        problem = why.get(key);
        reason = problem == null ? "Listening" : problem.startsWith("waiting for") ? "WaitingForToken" : "NotServed";
      }
      boolean ok = problem == null;
      if (ok) serving++;
      else notListening.add(key + ": " + problem);
      now.add(key);
      DeviceServer srv = ok ? servers.get(device) : null;
      Runnable write = report(t, ok, reason, ok ? "listening on " + srv.address().getHostAddress() + ":"
          + t.getStatus().getPlacement().getPort() + (srv.dpdk() != null ? "/udp" : "") + " (device " + device
          + (srv.dpdk() != null ? ", DPDK port" : "") + ")" : problem);
      if (write != null) writes.add(write);
    }
    writeConcurrently(writes);
    for (String key : List.copyOf(reported)) {
      if (now.contains(key)) continue;
      reported.remove(key);
      String[] nn = key.split("/", 2);
      FlashTenant t = tenants.getStore().getByKey(key);
      if (t != null && t.getMetadata().getDeletionTimestamp() == null) {
        try {
          publisher.releaseTenantStatus(t); // moved to another node: that agent reports it now
        } catch (RuntimeException ex) {
          LOG.fine("releasing status of " + nn[1] + ": " + ex.getMessage());
        }
      }
    }
    boolean live = servers.values().stream().allMatch(DeviceServer::live);
    health = new Health(true, live, List.copyOf(notListening), servers.size(), serving);
    return listening;
  }

  /**
   * The write of the tenant's Serving condition (and phase), or null when the API server already has them. Run
   * concurrently: a pass after a burst of applies has one write per tenant, each a round trip.
   */
  private Runnable report(FlashTenant t, boolean serving, String reason, String message) {
    TenantPhase cur = t.getStatus().getPhase();
    if (cur != TenantPhase.Placed && cur != TenantPhase.Serving) return null; // the operator decides other phases
    reported.add(TenantRows.key(t));
    TenantPhase phase = serving ? TenantPhase.Serving : TenantPhase.Placed;
    List<Condition> old = t.getStatus().getConditions();
    Condition c = Conditions.of(old, Publisher.SERVING, serving, reason, message, t.getMetadata().getGeneration());
    if (cur == phase && Conditions.sameAs(Conditions.find(old, Publisher.SERVING), c)) return null;
    return () -> {
      try {
        publisher.tenantStatus(t, phase, c);
        if (serving && cur != TenantPhase.Serving) metrics.servingAfter(t.getMetadata().getCreationTimestamp());
      } catch (RuntimeException e) {
        LOG.warning("FlashTenant " + TenantRows.key(t) + ": writing Serving=" + serving + ": " + e.getMessage());
      }
    };
  }

  /** Runs the status writes, at most 8 at a time, and waits for all of them. */
  private static void writeConcurrently(List<Runnable> writes) {
    if (writes.size() <= 1) {
      writes.forEach(Runnable::run);
      return;
    }
    java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(8);
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Runnable w : writes) {
        slots.acquireUninterruptibly();
        ex.submit(() -> {
          try {
            w.run();
          } finally {
            slots.release();
          }
        });
      }
    }
  }

  private boolean sameDeviceStatus(FlashDevice fd, DevicePhase phase, Long gen, Long capacity, Integer nbd,
                                   List<Condition> conds) {
    var s = fd.getStatus();
    if (s == null || s.getPhase() != phase || !Objects.equals(s.getObservedGeneration(), gen)
        || !Objects.equals(s.getCapacityBytes(), capacity) || !Objects.equals(s.getNbdPort(), nbd)) {
      return false;
    }
    for (Condition c : conds) if (!Conditions.sameAs(Conditions.find(s.getConditions(), c.getType()), c)) return false;
    return true;
  }

  /** On SIGTERM: every tenant this agent reported Serving goes back to Placed with the reason (best effort). */
  private void withdrawServing() {
    if (tenants == null || fenced) return; // fenced: the cache may be stale (a tenant moved away must not be written)
    for (String key : List.copyOf(reported)) {
      FlashTenant t = tenants.getStore().getByKey(key);
      if (t == null || t.getStatus() == null || t.getStatus().getPhase() != TenantPhase.Serving) continue;
      try {
        publisher.tenantStatus(t, TenantPhase.Placed, Conditions.of(t.getStatus().getConditions(), Publisher.SERVING, false,
            "AgentStopped", "the agent on " + settings.node() + " is stopping (restart or upgrade); its data stays on "
                + t.getStatus().getPlacement().getDevice(), t.getMetadata().getGeneration()));
      } catch (RuntimeException e) {
        LOG.fine("withdrawing " + key + ": " + e.getMessage());
      }
    }
  }

  // ---- self-fencing ---------------------------------------------------------------------------------------------

  /**
   * The Lease lapsed (heartbeat watchdog thread): stop serving every tenant now. Never waits for the control thread
   * or the API server.
   */
  private void fence(String why) {
    synchronized (fenceLock) {
      fenceLocked(why);
    }
  }

  private void fenceLocked(String why) {
    if (fenced || closed) return;
    fenced = true;
    int tenantsClosed = 0;
    for (DeviceServer s : servers.values()) {
      tenantsClosed += s.listening().size();
      try {
        s.apply(List.of()); // every listener closes, every ReFlex and NBD connection of those tenants ends
      } catch (RuntimeException e) {
        LOG.log(Level.SEVERE, "fence: device " + s.device().name() + " did not take the empty table: " + e.getMessage(), e);
      }
    }
    metrics.fenced();
    Health h = health;
    health = new Health(h.synced(), h.live(), List.of("agent fenced: " + why), h.devices(), 0);
    String then = "this agent serves again only after a successful renewal and a fresh read of the tenants placed on "
        + "node " + settings.node() + ".";
    if (tenantsClosed == 0) {
      LOG.warning("FENCED: " + why + "; nothing was being served; " + then);
    } else {
      LOG.severe("FENCED: " + why + ". Stopped serving " + tenantsClosed + " tenant(s) on " + servers.size()
          + " device(s): listeners and connections closed (ReFlex and NBD); devices and data untouched. The operator may "
          + "move them elsewhere; " + then);
    }
  }

  /** A renewal succeeded (heartbeat thread): if fenced, the control thread unfences. */
  private void onRenewed() {
    if (!started || !fenced || closed || !unfencePending.compareAndSet(false, true)) return;
    try {
      control.execute(this::unfence);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      unfencePending.set(false); // closing
    }
  }

  /**
   * On the control thread: re-reads this node's devices and tenants through new informers, then lets passes run
   * again. Stays fenced when the read fails or the Lease lapsed again meanwhile (the next renewal retries).
   */
  private void unfence() {
    unfencePending.set(false);
    if (closed || !fenced || heartbeat == null || !heartbeat.held()) return;
    try {
      startInformers(Duration.ofSeconds(30));
    } catch (Exception e) {
      LOG.warning("still fenced: the Lease was renewed, but this node's tenants cannot be re-read from the API server: "
          + e.getMessage());
      return;
    }
    synchronized (fenceLock) {
      if (!heartbeat.held()) return; // lapsed again while re-reading
      fenced = false;
    }
    metrics.unfenced();
    LOG.warning("UNFENCED: Lease " + heartbeat.key() + " renewed and " + tenants.getStore().list().size()
        + " tenant(s) placed on node " + settings.node() + " re-read from the API server; serving those still placed here");
    requestPass();
  }

  /** Whether the agent is fenced (serving nothing because its heartbeat Lease lapsed). */
  public boolean fenced() {
    return fenced;
  }

  private void stop(String name, String why) {
    DeviceServer s;
    synchronized (fenceLock) {
      s = servers.remove(name);
    }
    if (s == null) return;
    LOG.warning("stopped serving device " + name + ": " + why);
    s.close();
  }

  private void logOnce(String key, String message) {
    if (!message.equals(loggedProblems.put(key, message))) LOG.warning(message);
  }

  public Health health() {
    return health;
  }

  public AgentSettings settings() {
    return settings;
  }

  /** Running device servers (metrics scrape, benchmarks). */
  public List<DeviceServer> servers() {
    try {
      return control.submit(() -> List.copyOf(servers.values())).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return List.of();
    }
  }

  /**
   * Stops accepting, drains in-flight I/O on every device, then returns. Tenants served here are first reported
   * Serving=False (a restart is not an outage of the data, but clients must not be told the port listens).
   */
  @Override
  public void close() {
    closed = true;
    if (heartbeat != null) heartbeat.close(); // the Lease stays: a restart within its duration goes unnoticed
    control.shutdown();
    try {
      control.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    calibrations.close(); // interrupts every calibration; their devices are measured again after a restart
    withdrawServing();
    for (SharedIndexInformer<?> i : new SharedIndexInformer<?>[] {devices, tenants}) if (i != null) i.stop();
    ExecutorService closer = Executors.newVirtualThreadPerTaskExecutor(); // devices drain in parallel
    List<DeviceServer> all;
    synchronized (fenceLock) {
      all = List.copyOf(servers.values());
      servers.clear();
    }
    all.forEach(s -> closer.submit(s::close));
    closer.shutdown();
    try {
      closer.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (settings.net().dpdk()) dpdkPort.close(); // ports closed: the EAL lets go of the NIC, which goes back (--restore-drivers)
  }

}

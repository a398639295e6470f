package io.reflex.agent.serving;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.net.LoopControl;
import io.reflex.dataplane.net.Layout;
import io.reflex.dataplane.tenant.AdmissionPlan;
import io.reflex.dataplane.tenant.SloTable;
import io.reflex.dataplane.tenant.TenantSpec;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.agent.config.AgentSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dataplane serving one device inside the agent's process. {@link #apply} hands it the tenants placed on the
 * device; tenants that stay keep their connections (the dataplane diffs tables). Each tenant ends up listening or
 * with the reason it is not. Over kernel TCP on the node's address, or (given a {@link Dpdk} port) over
 * ReFlex-on-UDP from a DPDK port with an address of its own: the same {@link Dataplane}, whose loops are then the DPDK
 * engine's UDP loops, so tables, metrics and liveness work alike.
 */
public final class DeviceServer implements AutoCloseable {
  private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(DeviceServer.class.getName());
  private final ManagedDevice device;
  private final Dataplane dataplane;
  /** The DPDK engine around {@link #dataplane}, or null over kernel TCP. */
  private final io.reflex.dataplane.dpdk.DpdkServer dpdkServer;
  private final Dpdk dpdk;
  private final java.net.InetAddress address;

  /**
   * A DPDK port to serve the device on.
   *
   * @param ealArgs     EAL arguments (the EAL is initialised once per process: every DPDK device server of a process
   *                    must pass the same ones)
   * @param ip          the port's IPv4 address (network order as an int)
   * @param address     the same address, for clients and status
   * @param mtu         the port's MTU
   * @param description what the port is, for conditions and logs (e.g. "NIC 0000:3b:00.0 (vfio-pci)")
   */
  public record Dpdk(List<String> ealArgs, int ip, java.net.InetAddress address, int mtu, String description) {
    public Dpdk {
      ealArgs = List.copyOf(ealArgs);
    }
  }
  private final Layout layout;
  private static final long STUCK_NANOS = 10_000_000_000L;
  private final long origin = System.nanoTime();
  private final java.util.concurrent.atomic.AtomicLongArray pingSent;
  private final java.util.concurrent.atomic.AtomicLongArray pingDone;
  private List<TenantSpec> applied = List.of();
  private Map<String, String> problems = Map.of();
  private final int nbdPort;
  private volatile String nbdProblem;

  /** Without an NBD front-end. */
  public DeviceServer(ManagedDevice device, AgentSettings settings) {
    this(device, settings, 0);
  }

  /**
   * @param nbdPort the device's NBD port on the node's address (0: none). A port that cannot be bound leaves the
   *                device serving ReFlex, with the reason in {@link #nbdProblem()}; {@link #retryNbd()} tries again.
   */
  public DeviceServer(ManagedDevice device, AgentSettings settings, int nbdPort) {
    this(device, settings, nbdPort, null);
  }

  /** @param dpdk the DPDK port to serve on (then no NBD: it needs kernel TCP), or null for kernel TCP */
  public DeviceServer(ManagedDevice device, AgentSettings settings, int nbdPort, Dpdk dpdk) {
    this.device = device;
    this.dpdk = dpdk;
    String engine = switch (device.engine()) {
      case URING -> "uring";
      case FILE -> "file";
      case MEMORY -> "memory";
      case SPDK -> throw new IllegalStateException("engine spdk is not part of this dataplane build (SPDK is not available here)");
    };
    Path path = device.path() == null ? null : Path.of(device.path());
    // Loops, pinning and polling from the agent's CPUs (its container's cpuset, or --cpus) and the device, unless
    // the agent's flags fix them: the same choice a standalone reflex-dataplane makes (Layout).
    List<Integer> cpus = settings.cpus().isEmpty() ? null : settings.cpus();
    this.layout = Layout.choose(new Layout.Request(cpus, settings.threads(), Layout.Pin.AUTO, settings.pollMode(), 0, path),
        Layout.Facts.probe(path, cpus));
    LOG.info("device " + device.name() + ": dataplane layout " + layout.describe());
    long memoryBytes = device.engine() == Engine.MEMORY ? device.capacity() : 0;
    if (dpdk == null) {
      DataplaneConfig config = new DataplaneConfig(path, engine, memoryBytes, new InetSocketAddress(settings.address(), 0),
          null, device.model(), layout.threads(), layout.poll(), settings.scheduler(), settings.syncWrites(), 256, null,
          null, layout.pins(), layout.submitBatch()).withConnectionLimits(settings.connections());
      this.dpdkServer = null;
      this.dataplane = new Dataplane(config);
      // --cpus: the loops own those CPUs; the agent's other threads keep to the rest of its cpuset.
      if (!settings.cpus().isEmpty()) LOG.info("device " + device.name() + ": " + io.reflex.client.cpu.Housekeeping.apply(layout.pins()));
      this.address = settings.address();
      this.nbdPort = nbdPort;
    } else {
      if (!io.reflex.dataplane.dpdk.DpdkLib.available()) {
        throw new IllegalStateException("DPDK is not usable in this agent: " + io.reflex.dataplane.dpdk.DpdkLib.reason());
      }
      var idle = switch (layout.poll()) {
        case BUSY -> io.reflex.dataplane.dpdk.UdpLoop.Idle.BUSY;
        case YIELD -> io.reflex.dataplane.dpdk.UdpLoop.Idle.YIELD;
        case ADAPTIVE, BLOCK -> io.reflex.dataplane.dpdk.UdpLoop.Idle.ADAPTIVE; // a DPDK queue has no fd to sleep on
      };
      // Started with an empty table (the TCP path's Dataplane starts with none either): no tenant is served, not even
      // a moment, before the agent applies the tenants placed on the device (without a table the engine would serve
      // the whole device, tokenless, on its default port).
      Path empty;
      try {
        empty = java.nio.file.Files.createTempFile("reflex-dpdk-table", ".yaml");
        java.nio.file.Files.writeString(empty, "tenants: []\n");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot write the DPDK engine's initial (empty) table: " + e.getMessage(), e);
      }
      var c = new io.reflex.dataplane.dpdk.DpdkServer.Config(dpdk.ealArgs(), null, dpdk.ip(), 1, dpdk.mtu(), 4095, engine,
          path, memoryBytes, settings.syncWrites(), 256, empty, device.model(), layout.threads(), layout.pins(), idle,
          settings.scheduler(), 1024, 256, 0);
      try {
        this.dpdkServer = startDpdk(c);
      } finally {
        try {
          java.nio.file.Files.deleteIfExists(empty);
        } catch (java.io.IOException ignored) {
          // a stray temp file
        }
      }
      this.dataplane = dpdkServer.dataplane();
      this.address = dpdk.address();
      this.nbdPort = 0; // NBD needs kernel TCP
      LOG.info("device " + device.name() + ": served over UDP from DPDK port " + dpdkServer.port() + " ("
          + dpdkServer.deviceInfo().driver() + ", " + dpdk.description() + ") at " + dpdk.address().getHostAddress()
          + ", MTU " + dpdk.mtu());
    }
    retryNbd();
    this.pingSent = new java.util.concurrent.atomic.AtomicLongArray(layout.threads());
    this.pingDone = new java.util.concurrent.atomic.AtomicLongArray(layout.threads());
  }

  /**
   * Starts the DPDK engine on a thread of its own: rte_eal_init pins the thread that calls it to the main lcore's CPU,
   * and that must not be the agent's control thread.
   */
  private static io.reflex.dataplane.dpdk.DpdkServer startDpdk(io.reflex.dataplane.dpdk.DpdkServer.Config c) {
    var server = new java.util.concurrent.atomic.AtomicReference<io.reflex.dataplane.dpdk.DpdkServer>();
    var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
    Thread t = Thread.ofPlatform().name("reflex-dpdk-start").start(() -> {
      try {
        server.set(io.reflex.dataplane.dpdk.DpdkServer.start(c));
      } catch (Throwable e) {
        failure.set(e);
      }
    });
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the DPDK port started", e);
    }
    Throwable e = failure.get();
    if (e instanceof RuntimeException r) throw r;
    if (e != null) throw new IllegalStateException("DPDK: " + e, e);
    return server.get();
  }

  public ManagedDevice device() {
    return device;
  }

  /** Where tenants are reached: the node's address over TCP, the DPDK port's over UDP. */
  public java.net.InetAddress address() {
    return address;
  }

  /** {@code tcp} or {@code udp} (the DPDK port). */
  public String transport() {
    return dpdk == null ? "tcp" : "udp";
  }

  /** The DPDK port (EAL arguments, address, MTU), or null over kernel TCP. */
  public Dpdk dpdk() {
    return dpdk;
  }

  /** The DPDK engine's counters (one line each), or null over kernel TCP. */
  public String dpdkSummary() {
    return dpdkServer == null ? null : dpdkServer.summary();
  }

  /** The loops, pinning and polling the device's dataplane runs with, and why. */
  public Layout layout() {
    return layout;
  }

  public Dataplane dataplane() {
    return dataplane;
  }

  public long capacityBytes() {
    long size = dataplane.engine().capacityBytes();
    return device.capacity() > 0 ? Math.min(size, device.capacity()) : size;
  }

  /**
   * Serves exactly {@code tenants} (by dataplane name). Rows that conflict with each other or with the device are
   * left out one by one with the reason, so one bad placement never takes the others down.
   *
   * @return tenant name → why it is not listening (absent: listening)
   */
  public synchronized Map<String, String> apply(List<TenantSpec> tenants) {
    if (tenants.equals(applied) && problems.isEmpty()) return problems; // else retry: a port may be free now
    long sectors = dataplane.deviceSectors();
    Map<String, String> refused = new LinkedHashMap<>();
    List<TenantSpec> accepted = new ArrayList<>();
    for (TenantSpec t : tenants) {
      List<TenantSpec> trial = new ArrayList<>(accepted);
      trial.add(t);
      List<String> p = new SloTable(trial).problems(sectors);
      if (p.isEmpty()) accepted.add(t);
      else refused.put(t.name(), String.join("; ", p));
    }
    while (accepted.size() > DataplaneConfig.MAX_TENANTS) { // the operator places at most this many; never fail the rest
      TenantSpec extra = accepted.removeLast();
      refused.put(extra.name(), "a device's dataplane serves at most " + DataplaneConfig.MAX_TENANTS + " tenants");
    }
    try {
      Dataplane.ApplyResult r = dataplane.apply(new SloTable(accepted));
      for (AdmissionPlan.Rejected rej : r.rejected()) refused.put(rej.spec().name(), rej.reason());
    } catch (RuntimeException e) { // the table as a whole was refused: say so for each tenant, keep serving the old one
      String listening = String.join(",", listening());
      for (TenantSpec t : accepted) {
        if (!listening.contains(t.name())) refused.put(t.name(), "the dataplane refused the table: " + e.getMessage());
      }
    }
    applied = List.copyOf(tenants);
    problems = Map.copyOf(refused);
    return problems;
  }

  /** Starts the NBD front-end if it should listen and does not yet; a failure is kept as {@link #nbdProblem()}. */
  public synchronized void retryNbd() {
    if (nbdPort == 0 || dataplane.nbdAddress() != null) return;
    InetSocketAddress at = new InetSocketAddress(dataplane.config().listen().getAddress(), nbdPort);
    try {
      dataplane.startNbd(at);
      nbdProblem = null;
    } catch (RuntimeException e) {
      nbdProblem = "NBD cannot listen on " + at.getAddress().getHostAddress() + ":" + nbdPort + ": "
          + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
    }
  }

  /** The NBD port while the front-end listens, else null. */
  public Integer nbdListening() {
    var a = dataplane.nbdAddress();
    return a == null ? null : a.getPort();
  }

  /** Why the NBD front-end is not listening although it should, or null. */
  public String nbdProblem() {
    return nbdProblem;
  }

  /** Names of the tenants listening now. */
  public List<String> listening() {
    return dataplane.tenants().stream().map(s -> s.spec().name()).toList();
  }

  /**
   * Every loop is making progress: each call posts a no-op to every loop (it wakes a loop blocked in epoll) and a loop
   * that has not run the previous one within {@link #STUCK_NANOS} is stuck.
   */
  public boolean live() {
    long now = clock();
    LoopControl[] loops = dataplane.netLoops(); // whatever the network engine
    boolean ok = true;
    for (int i = 0; i < loops.length; i++) {
      if (!loops[i].isRunning()) return false;
      long sent = pingSent.get(i);
      if (sent > pingDone.get(i)) {
        if (now - sent > STUCK_NANOS) ok = false;
        continue;
      }
      pingSent.set(i, now);
      int k = i;
      loops[i].execute(() -> pingDone.set(k, clock()));
    }
    return ok;
  }

  /** Nanoseconds since this server started, plus one: always positive, unlike nanoTime, so 0 means "never". */
  private long clock() {
    return System.nanoTime() - origin + 1;
  }

  /** Stops accepting, lets writes already at the device finish, closes the device. */
  @Override
  public void close() {
    if (dpdkServer != null) {
      dpdkServer.close(); // loops, engine, then the port and its mbuf pools; the EAL stays for the process
      LOG.info("device " + device.name() + ": DPDK port closed; " + dpdkServer.summary().replace('\n', ';'));
    } else {
      dataplane.close();
    }
  }
}

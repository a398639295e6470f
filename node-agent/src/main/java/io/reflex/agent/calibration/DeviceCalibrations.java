package io.reflex.agent.calibration;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.reflex.agent.serving.ManagedDevice;
import io.reflex.agent.state.AtomicJson;
import io.reflex.crds.v1alpha1.DeviceCalibration;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.devmodels.Budget;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationException;
import io.reflex.devmodels.calibration.CalibrationListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Calibration of the devices whose model is {@code calibrate} (or absent): decides, for each control pass, whether
 * such a device is served (with which model), is being calibrated, or cannot be used yet, and runs each calibration on
 * a thread of its own so the agent keeps serving its other devices and renewing its heartbeat meanwhile.
 *
 * <p>Everything but the calibration threads runs on the agent's control thread. A model, once complete, is saved in
 * the state directory first (so nothing measured is lost), then published in a ConfigMap ({@link ModelConfigMaps}) and
 * in the FlashDevice's status.calibration (the operator prices tenants from the latter). After a restart the model is
 * taken from the ConfigMap, the status or the state directory (the newest that was measured on this very device:
 * same path, identity and size), so nothing is measured twice.
 *
 * <p>Safety: calibration writes to the device. It never starts on a device that has tenants placed on it unless
 * asked twice (annotations {@code reflex.io/recalibrate: TOKEN} and {@code reflex.io/calibration-overwrites-data:
 * "true"}); a calibration that finds a tenant placed meanwhile is cancelled. While a calibration runs the device is
 * not served (phase Calibrating: nothing new is placed there; a recalibration keeps the previous model published
 * until the new one is complete). A recalibration request (a new token) is handled once: the token is recorded with
 * the model it produced.
 */
public final class DeviceCalibrations implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(DeviceCalibrations.class.getName());
  public static final String CONDITION = "Calibrated";
  /** Progress reaches the status at most this often. */
  static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);
  static final Duration FIRST_RETRY = Duration.ofSeconds(30);
  static final Duration MAX_RETRY = Duration.ofMinutes(10);

  /** What a pass does with the device. */
  public enum Mode {
    /** Serve it with {@link Verdict#modelFile()}. */
    SERVE,
    /** Being calibrated (or about to be): not served; phase Calibrating. */
    CALIBRATING,
    /** No usable model and no calibration running (refused, or failed and waiting to retry): not served. */
    UNAVAILABLE
  }

  /**
   * @param mode      what to do
   * @param modelFile the model file to serve with (SERVE), else null
   * @param status    status.calibration to publish (the model in force, also while recalibrating), or null
   * @param ok        the Calibrated condition's status
   * @param reason    its reason: Calibrated, RecalibrationRefused, Running, Failed, Refused
   * @param message   its message
   */
  public record Verdict(Mode mode, String modelFile, DeviceCalibration status, boolean ok, String reason, String message) {}

  /** The latest progress of a running calibration. */
  record Progress(double fraction, Duration left, String current) {}

  /** One calibration on its thread. */
  static final class Job {
    final String token;
    final boolean recalibration;
    final Instant started = Instant.now();
    final FutureTask<Calibration> task;
    final Thread thread;
    volatile Progress shown;
    volatile long shownAt = Long.MIN_VALUE;
    volatile String cancelReason;

    Job(String token, boolean recalibration, FutureTask<Calibration> task, Thread thread) {
      this.token = token;
      this.recalibration = recalibration;
      this.task = task;
      this.thread = thread;
    }
  }

  /** Per device; control thread only. */
  static final class State {
    PublishedModel published;
    /** published is what the ConfigMap holds. */
    boolean inConfigMap;
    String configMapProblem;
    boolean looked;
    String modelFileFor;
    Job job;
    int failures;
    Instant retryAt;
    String failure;
    /** Why the last calibration was cancelled (shown until another starts). */
    String cancelled;
  }

  private final CalibrationRunner runner;
  private final ModelConfigMaps configMaps;
  private final Path stateDir;
  private final String node;
  private final boolean syncWrites;
  private final Runnable onChange;
  private final LongSupplier nanos;
  private final Map<String, State> states = new HashMap<>();
  /** Cancelled calibrations of forgotten devices whose threads have not ended yet. */
  private final Map<String, Job> ending = new HashMap<>();
  private final Map<String, String> logged = new HashMap<>();
  private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
  private volatile java.util.function.Consumer<String> outcomes = o -> {};

  /** Calibration threads running now (a gauge). */
  public int running() {
    return running.get();
  }

  /** Told each calibration's outcome: calibrated, failed or cancelled (a counter). */
  public void onOutcome(java.util.function.Consumer<String> c) {
    outcomes = c;
  }

  /**
   * @param onChange asks for a control pass (a calibration progressed, finished or ended)
   */
  public DeviceCalibrations(CalibrationRunner runner, ModelConfigMaps configMaps, Path stateDir, String node,
                            boolean syncWrites, Runnable onChange) {
    this(runner, configMaps, stateDir, node, syncWrites, onChange, System::nanoTime);
  }

  DeviceCalibrations(CalibrationRunner runner, ModelConfigMaps configMaps, Path stateDir, String node, boolean syncWrites,
                     Runnable onChange, LongSupplier nanos) {
    this.runner = runner;
    this.configMaps = configMaps;
    this.stateDir = stateDir;
    this.node = node;
    this.syncWrites = syncWrites;
    this.onChange = onChange;
    this.nanos = nanos;
  }

  /**
   * The decision for one device this pass (control thread). {@code stopServing} is called before a calibration
   * starts: the device must not be served (nor its dataplane hold it open) while it is measured.
   *
   * @param d           the device (model {@code calibrate}), usable per the agent's checks
   * @param fd          its FlashDevice as the informer has it, or null
   * @param identity    its identity as inspected now, or null
   * @param capacity    its capacity as inspected now, or null
   * @param tenants     the tenants placed on it (namespace/name) as the agent's informers know them
   * @param stopServing stops its dataplane (called on the control thread before a calibration starts)
   */
  public Verdict decide(ManagedDevice d, FlashDevice fd, String identity, Long capacity, List<String> tenants,
                        Runnable stopServing) {
    State st = states.computeIfAbsent(d.name(), k -> new State());
    if (!st.looked) lookup(st, d, fd, identity, capacity);
    int tenantCount = Math.max(tenants.size(), fd == null || fd.getStatus() == null || fd.getStatus().getTenantCount() == null
        ? 0 : fd.getStatus().getTenantCount());
    Map<String, String> ann = fd == null || fd.getMetadata().getAnnotations() == null ? Map.of() : fd.getMetadata().getAnnotations();
    String token = blankToNull(ann.get(FlashDevice.RECALIBRATE_ANNOTATION));
    boolean overwrite = "true".equalsIgnoreCase(String.valueOf(ann.get(FlashDevice.CALIBRATION_OVERWRITES_DATA_ANNOTATION)).trim());
    boolean requested = st.published != null && token != null && !token.equals(st.published.recalibrateToken());
    boolean needed = st.published == null || requested;
    boolean mayOverwrite = token != null && overwrite;

    // A finished (or cancelled) calibration first.
    Job job = st.job;
    if (job != null && job.task.isDone()) {
      if (job.thread.isAlive()) { // cancelled: its driver may still hold the device until the thread ends
        return new Verdict(Mode.CALIBRATING, null, status(st), false, "Running", job.cancelReason == null
            ? "finishing the calibration" : "stopping the calibration (" + job.cancelReason + ")");
      }
      st.job = null;
      finished(st, d, job, identity, capacity);
      requested = st.published != null && token != null && !token.equals(st.published.recalibrateToken());
      needed = st.published == null || requested;
    }
    job = st.job;

    if (job != null) { // running: should it go on?
      String stop = null;
      if (tenantCount > 0 && !mayOverwrite) {
        stop = "tenant(s) " + describe(tenants, tenantCount) + " were placed on the device meanwhile";
      } else if (job.recalibration && st.published != null && !requested) {
        stop = "the recalibration request was withdrawn (annotation " + FlashDevice.RECALIBRATE_ANNOTATION + " removed)";
      }
      if (stop != null) {
        job.cancelReason = stop;
        st.cancelled = "calibration cancelled: " + stop;
        LOG.warning("device " + d.name() + ": " + st.cancelled);
        job.task.cancel(true); // interrupts the calibration thread
        return new Verdict(Mode.CALIBRATING, null, status(st), false, "Running", "stopping the calibration (" + stop + ")");
      }
      return new Verdict(Mode.CALIBRATING, null, status(st), false, "Running", running(job));
    }

    if (!needed) {
      st.failures = 0;
      st.failure = null;
      return serve(st, d, null);
    }
    if (tenantCount > 0 && !mayOverwrite) {
      String why = "the device holds the data of " + describe(tenants, tenantCount)
          + " and calibration writes to it";
      if (st.published != null) {
        return serve(st, d, "recalibration request '" + token + "' refused: " + why + "; add annotation "
            + FlashDevice.CALIBRATION_OVERWRITES_DATA_ANNOTATION + "=\"true\" to recalibrate anyway (their data is "
            + "overwritten; the device is not served meanwhile)");
      }
      return new Verdict(Mode.UNAVAILABLE, null, null, false, "Refused", "not calibrated: " + why
          + (st.cancelled == null ? "" : " (" + st.cancelled + ")") + "; to calibrate anyway (their data is overwritten) set annotations "
          + FlashDevice.RECALIBRATE_ANNOTATION + "=TOKEN and " + FlashDevice.CALIBRATION_OVERWRITES_DATA_ANNOTATION + "=\"true\"");
    }
    String unsupported = unsupported(d);
    if (unsupported != null) {
      return new Verdict(Mode.UNAVAILABLE, null, status(st), false, "Failed", unsupported);
    }
    if (st.retryAt != null && Instant.now().isBefore(st.retryAt)) {
      return new Verdict(Mode.UNAVAILABLE, null, status(st), false, "Failed", failed(st, requested));
    }
    stopServing.run();
    start(st, d, token, requested, capacity);
    return new Verdict(Mode.CALIBRATING, null, status(st), false, "Running", running(st.job));
  }

  /**
   * The device is no longer calibrated by this agent (removed, or given another model): stop measuring it. Its
   * model is looked up again if it comes back.
   */
  public void forget(String device, String why) {
    State st = states.remove(device);
    if (st != null && st.job != null) {
      if (!st.job.task.isDone()) {
        st.job.cancelReason = why;
        LOG.warning("device " + device + ": calibration cancelled: " + why);
        st.job.task.cancel(true);
      }
      if (st.job.thread.isAlive()) ending.put(device, st.job);
    }
  }

  /** Cancels a running calibration of a device that failed the agent's checks (in use, missing); retried once usable. */
  public void cancel(String device, String why) {
    State st = states.get(device);
    if (st != null && st.job != null && !st.job.task.isDone()) {
      st.job.cancelReason = why;
      st.cancelled = "calibration cancelled: " + why;
      LOG.warning("device " + device + ": " + st.cancelled);
      st.job.task.cancel(true);
    }
  }

  /** Whether a calibration thread still runs for the device (its dataplane must not open it meanwhile). */
  public boolean busy(String device) {
    State st = states.get(device);
    if (st != null && st.job != null && st.job.thread.isAlive()) return true;
    Job e = ending.get(device);
    if (e != null && !e.thread.isAlive()) ending.remove(device);
    return e != null && e.thread.isAlive();
  }

  /**
   * status.calibration to keep publishing for a device this pass did not decide on (e.g. it is in use right now):
   * the model in force, or, before the agent has looked, what the FlashDevice already says.
   */
  public DeviceCalibration published(String device, FlashDevice fd) {
    State st = states.get(device);
    if (st != null && st.looked) return status(st);
    return fd == null || fd.getStatus() == null ? null : fd.getStatus().getCalibration();
  }

  /** Devices with state (calibrated or being calibrated). */
  public java.util.Set<String> devices() {
    return java.util.Set.copyOf(states.keySet());
  }

  /** Cancels every calibration and waits (up to 10 s in all) for their threads to end. */
  @Override
  public void close() {
    List<Job> jobs = new ArrayList<>(ending.values());
    for (var e : states.entrySet()) {
      Job j = e.getValue().job;
      if (j != null) {
        j.cancelReason = "the agent is stopping";
        j.task.cancel(true);
        jobs.add(j);
      }
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    for (Job j : jobs) {
      try {
        j.thread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (j.thread.isAlive()) LOG.warning("calibration thread " + j.thread.getName() + " did not stop within 10 s");
    }
  }

  // ---- the model in force ----------------------------------------------------------------------------------------

  /** Serve with the model in force; the Calibrated condition True (with a note, e.g. a refused request). */
  private Verdict serve(State st, ManagedDevice d, String note) {
    PublishedModel p = st.published;
    if (!st.inConfigMap) publishConfigMap(st, d);
    String file;
    DeviceModel model;
    try {
      model = p.model();
      file = modelFile(st, d).toString();
    } catch (IOException | RuntimeException e) {
      return new Verdict(Mode.UNAVAILABLE, null, status(st), false, "Failed", "cannot use the calibrated model: "
          + e.getMessage());
    }
    String msg = "calibrated " + p.calibratedAt() + ": " + budgetAt1ms(model) + "; 4 KiB read "
        + model.readCost4k() + ", write " + model.writeCost4k() + " tokens; model in ConfigMap " + configMaps.namespace()
        + "/" + ModelConfigMaps.name(d.name())
        + (st.inConfigMap ? "" : " (not written yet: " + st.configMapProblem + "; retried)")
        + (note == null ? "" : "; " + note);
    return new Verdict(Mode.SERVE, file, status(st), true, note == null ? "Calibrated" : "RecalibrationRefused", msg);
  }

  /** The budget at p95 1 ms, or, when the device reaches no p95 that strict, its strictest point. */
  static String budgetAt1ms(DeviceModel m) {
    if (m.unlimited() || m.tokenLimits().isEmpty()) return "no budget (unlimited)";
    var first = m.tokenLimits().getFirst();
    if (first.p95Micros() <= 1000) {
      return "budget " + Budget.human(m.tokenRateAt(1000, false)) + " tokens/s at p95 1 ms (mixed), "
          + Budget.human(m.tokenRateAt(1000, true)) + " read-only";
    }
    return "no budget at p95 1 ms (the device reaches no p95 that strict); strictest: " + Budget.human(first.mixedTokensPerSec())
        + " tokens/s at p95 " + first.p95Micros() + " µs (mixed), " + Budget.human(first.readOnlyTokensPerSec()) + " read-only";
  }

  private void publishConfigMap(State st, ManagedDevice d) {
    try {
      configMaps.apply(st.published);
      st.inConfigMap = true;
      st.configMapProblem = null;
      LOG.info("device " + d.name() + ": calibrated model published in ConfigMap " + configMaps.namespace() + "/"
          + ModelConfigMaps.name(d.name()));
    } catch (RuntimeException e) {
      st.configMapProblem = e.getMessage();
      logOnce(d.name() + "/cm", "device " + d.name() + ": cannot write ConfigMap " + configMaps.namespace() + "/"
          + ModelConfigMaps.name(d.name()) + " (retried each pass): " + e.getMessage());
    }
  }

  /** The model file the dataplane reads: STATE/models/DEVICE.calibrated.yaml, rewritten when the model changes. */
  private Path modelFile(State st, ManagedDevice d) throws IOException {
    Path file = stateDir.resolve("models").resolve(d.name() + ".calibrated.yaml");
    String key = st.published.calibratedAt() + "|" + st.published.yaml().hashCode();
    if (key.equals(st.modelFileFor) && Files.exists(file)) return file;
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, st.published.yaml());
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    st.modelFileFor = key;
    return file;
  }

  /** status.calibration for the model in force, or null. */
  private DeviceCalibration status(State st) {
    PublishedModel p = st.published;
    if (p == null) return null;
    DeviceModel m;
    try {
      m = p.model();
    } catch (RuntimeException e) {
      return null;
    }
    DeviceCalibration c = new DeviceCalibration();
    c.setConfigMap(ModelConfigMaps.name(p.device()));
    c.setNamespace(configMaps.namespace());
    c.setCalibratedAt(p.calibratedAt());
    c.setReadCost4k(m.readCost4k());
    c.setWriteCost4k(m.writeCost4k());
    c.setTokenLimits(m.tokenLimits().stream().map(l -> new io.reflex.crds.v1alpha1.TokenLimit((int) l.p95Micros(),
        (long) l.mixedTokensPerSec(), (long) l.readOnlyTokensPerSec())).toList());
    c.setDriver(p.driver() == null ? null : p.driver().length() <= 1024 ? p.driver() : p.driver().substring(0, 1024));
    c.setCapacityBytes(p.capacityBytes());
    c.setDeviceIdentity(p.identity());
    c.setRecalibrateToken(p.recalibrateToken());
    return c;
  }

  /**
   * After a (re)start: the newest model measured on this very device, from the ConfigMap, the FlashDevice's status
   * or the state directory. A ConfigMap the API server cannot give now is looked up again next pass.
   */
  private void lookup(State st, ManagedDevice d, FlashDevice fd, String identity, Long capacity) {
    List<PublishedModel> found = new ArrayList<>();
    PublishedModel fromConfigMap = null;
    boolean complete = true;
    try {
      ConfigMap cm = configMaps.get(d.name());
      PublishedModel p = ModelConfigMaps.read(cm);
      if (cm != null && p == null) {
        logOnce(d.name() + "/cm-read", "device " + d.name() + ": ConfigMap " + cm.getMetadata().getName()
            + " holds no calibrated model (no model.yaml or annotations); it is replaced after calibration");
      }
      if (usable(p, d, identity, capacity, "ConfigMap " + ModelConfigMaps.name(d.name()))) {
        found.add(p);
        fromConfigMap = p;
      }
    } catch (KubernetesClientException e) {
      complete = false;
      logOnce(d.name() + "/cm-get", "device " + d.name() + ": cannot read ConfigMap " + configMaps.namespace() + "/"
          + ModelConfigMaps.name(d.name()) + " (retried): " + e.getMessage());
    }
    DeviceCalibration s = fd == null || fd.getStatus() == null ? null : fd.getStatus().getCalibration();
    if (s != null) {
      PublishedModel p = fromStatus(d, s);
      if (usable(p, d, identity, capacity, "status.calibration")) found.add(p);
    }
    PublishedModel local = readLocal(d.name());
    if (usable(local, d, identity, capacity, "the state directory's model")) found.add(local);
    PublishedModel best = null;
    for (PublishedModel p : found) if (best == null || at(p).isAfter(at(best))) best = p;
    if (best != null) {
      st.published = best;
      st.inConfigMap = best == fromConfigMap;
      LOG.info("device " + d.name() + ": reusing the model calibrated " + best.calibratedAt() + " ("
          + (best == fromConfigMap ? "ConfigMap" : best == local ? "state directory" : "FlashDevice status") + ")");
    }
    st.looked = complete || best != null;
  }

  private boolean usable(PublishedModel p, ManagedDevice d, String identity, Long capacity, String where) {
    if (p == null) return false;
    String why = p.mismatch(d.path(), d.pciAddress(), identity, capacity);
    if (why == null) {
      try {
        p.model();
        at(p);
        return true;
      } catch (RuntimeException e) {
        why = "it is not a valid model: " + e.getMessage();
      }
    }
    logOnce(d.name() + "/" + where, "device " + d.name() + ": not reusing " + where + ": " + why + "; calibrating again");
    return false;
  }

  private static Instant at(PublishedModel p) {
    return Instant.parse(p.calibratedAt());
  }

  /** A model rebuilt from status.calibration (its ConfigMap lost): the token rates and costs, without the points. */
  private PublishedModel fromStatus(ManagedDevice d, DeviceCalibration s) {
    try {
      List<io.reflex.devmodels.TokenLimit> limits = s.getTokenLimits().stream()
          .sorted(java.util.Comparator.comparing(io.reflex.crds.v1alpha1.TokenLimit::getP95Micros))
          .map(l -> new io.reflex.devmodels.TokenLimit(l.getP95Micros(), l.getMixedTokensPerSec(), l.getReadOnlyTokensPerSec()))
          .toList();
      DeviceModel m = new DeviceModel(d.name(), "calibrated " + s.getCalibratedAt() + " (restored from FlashDevice "
          + d.name() + " status.calibration; the measured points were in its lost ConfigMap)", s.getReadCost4k(),
          s.getWriteCost4k(), false, limits);
      return new PublishedModel(d.name(), d.path(), d.pciAddress(), s.getDeviceIdentity(), s.getCapacityBytes(),
          engineName(d.engine()), s.getCalibratedAt(), s.getDriver(), s.getRecalibrateToken(), DeviceModels.toYaml(m));
    } catch (RuntimeException e) {
      return null;
    }
  }

  // ---- running one ------------------------------------------------------------------------------------------------

  private void start(State st, ManagedDevice d, String token, boolean recalibration, Long capacity) {
    CalibrationRunner.Target target = new CalibrationRunner.Target(d.name(), Path.of(d.path()), engineName(d.engine()),
        d.capacity(), syncWrites, node);
    Job[] self = new Job[1];
    CalibrationListener listener = new CalibrationListener() {
      @Override
      public void progress(double fractionDone, Duration timeLeft, String current) {
        Job j = self[0];
        if (j == null) return;
        long now = nanos.getAsLong();
        if (j.shown != null && now - j.shownAt < PROGRESS_EVERY.toNanos()) return;
        j.shown = new Progress(fractionDone, timeLeft, current);
        j.shownAt = now;
        onChange.run();
      }
    };
    FutureTask<Calibration> task = new FutureTask<>(() -> runner.run(target, listener));
    Thread t = Thread.ofPlatform().daemon().name("reflex-calibrate-" + d.name()).unstarted(() -> {
      running.incrementAndGet();
      try {
        task.run();
      } finally {
        running.decrementAndGet();
        outcomes.accept(task.isCancelled() ? "cancelled" : ok(task) ? "calibrated" : "failed");
        onChange.run(); // the control thread takes the result (or the failure)
      }
    });
    Job job = new Job(token, recalibration, task, t);
    self[0] = job;
    st.job = job;
    st.cancelled = null;
    LOG.info("device " + d.name() + ": " + (recalibration ? "recalibrating (request '" + token + "')" : "calibrating")
        + " " + d.path() + " (" + runner.describe() + "); it is not offered until the model is published");
    t.start();
  }

  private static boolean ok(FutureTask<Calibration> task) {
    try {
      task.get();
      return true;
    } catch (ExecutionException | CancellationException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Takes a finished calibration's outcome (control thread). */
  private void finished(State st, ManagedDevice d, Job job, String identity, Long capacity) {
    Calibration c;
    try {
      c = job.task.get();
    } catch (CancellationException e) {
      return; // cancelled: st.cancelled says why
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      if (t instanceof InterruptedIOException && job.cancelReason != null) return;
      st.failures++;
      Duration backoff = FIRST_RETRY.multipliedBy(1L << Math.min(10, st.failures - 1));
      if (backoff.compareTo(MAX_RETRY) > 0) backoff = MAX_RETRY;
      st.retryAt = Instant.now().plus(backoff).truncatedTo(ChronoUnit.SECONDS);
      st.failure = t instanceof CalibrationException || t instanceof IOException ? t.getMessage()
          : t.getClass().getSimpleName() + ": " + t.getMessage();
      LOG.log(t instanceof CalibrationException ? Level.WARNING : Level.SEVERE, "device " + d.name() + ": calibration failed"
          + " (attempt " + st.failures + ", retried at " + st.retryAt + "): " + st.failure, t instanceof CalibrationException ? null : t);
      return;
    }
    String yaml = c.yaml();
    try {
      DeviceModels.parse(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8), "calibration");
    } catch (RuntimeException e) {
      LOG.warning("device " + d.name() + ": the calibrator's YAML does not parse (" + e.getMessage()
          + "); publishing the fitted model without its comments");
      yaml = DeviceModels.toYaml(c.model());
    }
    String at = (c.at() == null ? Instant.now() : c.at()).truncatedTo(ChronoUnit.SECONDS).toString();
    PublishedModel p = new PublishedModel(d.name(), d.path(), d.pciAddress(), identity, capacity, engineName(d.engine()),
        at, c.driver(), job.token, yaml);
    try {
      saveLocal(p);
    } catch (IOException e) {
      LOG.warning("device " + d.name() + ": cannot save the calibrated model in " + stateDir + ": " + e.getMessage());
    }
    st.published = p;
    st.inConfigMap = false;
    st.failures = 0;
    st.failure = null;
    st.retryAt = null;
    DeviceModel m = c.model();
    LOG.info("device " + d.name() + ": calibrated in " + Duration.between(job.started, Instant.now()).toSeconds() + " s: "
        + budgetAt1ms(m) + "; write cost "
        + m.writeCost4k() + "/" + m.readCost4k() + " of a read; " + c.method());
  }

  private Path localFile(String device) {
    return stateDir.resolve("calibrations").resolve(device + ".json");
  }

  private void saveLocal(PublishedModel p) throws IOException {
    Files.createDirectories(localFile(p.device()).getParent());
    AtomicJson.write(localFile(p.device()), p);
  }

  private PublishedModel readLocal(String device) {
    Path f = localFile(device);
    if (!Files.exists(f)) return null;
    try {
      return AtomicJson.JSON.readValue(f.toFile(), PublishedModel.class);
    } catch (IOException e) {
      logOnce(device + "/local", "device " + device + ": cannot read " + f + ": " + e.getMessage());
      return null;
    }
  }

  // ---- messages ---------------------------------------------------------------------------------------------------

  private String running(Job j) {
    Progress p = j.shown;
    String what = j.recalibration ? "recalibrating (request '" + j.token + "'; the previous model stays published until "
        + "the new one is complete)" : "calibrating";
    if (p == null) return what + " (" + runner.describe() + "): starting, since " + j.started.truncatedTo(ChronoUnit.SECONDS);
    return String.format("%s (%s): %.0f%% done, about %s left; now %s", what, runner.describe(), p.fraction() * 100,
        human(p.left()), p.current());
  }

  private static String failed(State st, boolean recalibration) {
    return "calibration failed (attempt " + st.failures + "): " + st.failure + "; retried at " + st.retryAt
        + (recalibration ? " (remove annotation " + FlashDevice.RECALIBRATE_ANNOTATION
            + " to serve with the previous model meanwhile)" : "");
  }

  static String human(Duration d) {
    if (d == null) return "?";
    long s = Math.max(0, d.toSeconds());
    return s >= 3600 ? (s / 3600) + "h " + (s % 3600) / 60 + "m" : s >= 60 ? (s / 60) + "m " + (s % 60) + "s" : s + "s";
  }

  private static String describe(List<String> tenants, int count) {
    if (tenants.isEmpty()) return count + " tenant(s)";
    List<String> l = tenants.size() <= 3 ? tenants : tenants.subList(0, 3);
    return count + " tenant(s) (" + String.join(", ", l) + (tenants.size() > 3 ? ", ..." : "") + ")";
  }

  private static String unsupported(ManagedDevice d) {
    if (d.engine() != Engine.URING && d.engine() != Engine.FILE) {
      return "engine " + engineName(d.engine()) + " cannot be calibrated by the agent (uring and file can); give the "
          + "device a model (engine memory: model null)";
    }
    if (d.path() == null) return "the device has no path to calibrate";
    return null;
  }

  private static String engineName(Engine e) {
    return e.name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private void logOnce(String key, String message) {
    if (!message.equals(logged.put(key, message))) LOG.warning(message);
  }
}

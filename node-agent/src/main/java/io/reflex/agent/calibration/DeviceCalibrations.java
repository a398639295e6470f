package io.reflex.agent.calibration;

import io.reflex.agent.serving.ManagedDevice;
import io.reflex.crds.v1alpha1.DeviceCalibration;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.CalibrationException;
import io.reflex.devmodels.calibration.CalibrationListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Calibration of the devices whose model is {@code calibrate} (or absent): decides, for each control pass, whether
 * such a device is served (with which model), is being calibrated, or cannot be used yet, and runs each calibration on
 * a thread of its own so the agent keeps serving its other devices and renewing its heartbeat meanwhile.
 *
 * <p>Everything but the calibration threads runs on the agent's control thread. Where a model is kept, published and
 * found again after a restart (so nothing is measured twice) is {@link PublishedModels}'.
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
    final PublishedModels.InForce model = new PublishedModels.InForce();
    Job job;
    int failures;
    Instant retryAt;
    String failure;
    /** Why the last calibration was cancelled (shown until another starts). */
    String cancelled;
  }

  private final CalibrationRunner runner;
  private final PublishedModels models;
  private final String node;
  private final boolean syncWrites;
  private final Runnable onChange;
  private final LongSupplier nanos;
  private final Map<String, State> states = new HashMap<>();
  /** Cancelled calibrations of forgotten devices whose threads have not ended yet. */
  private final Map<String, Job> ending = new HashMap<>();
  private final AtomicInteger running = new AtomicInteger();
  private volatile Consumer<String> outcomes = o -> {};

  /** Calibration threads running now (a gauge). */
  public int running() {
    return running.get();
  }

  /** Told each calibration's outcome: calibrated, failed or cancelled (a counter). */
  public void onOutcome(Consumer<String> c) {
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
    this.models = new PublishedModels(configMaps, stateDir);
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
    if (!st.model.looked()) models.lookup(st.model, d, fd, identity, capacity);
    int tenantCount = Math.max(tenants.size(), fd == null || fd.getStatus() == null || fd.getStatus().getTenantCount() == null
        ? 0 : fd.getStatus().getTenantCount());
    Map<String, String> ann = fd == null || fd.getMetadata().getAnnotations() == null ? Map.of() : fd.getMetadata().getAnnotations();
    String token = blankToNull(ann.get(FlashDevice.RECALIBRATE_ANNOTATION));
    boolean overwrite = "true".equalsIgnoreCase(String.valueOf(ann.get(FlashDevice.CALIBRATION_OVERWRITES_DATA_ANNOTATION)).trim());
    boolean requested = requested(st, token);
    boolean mayOverwrite = token != null && overwrite;

    // A finished (or cancelled) calibration first.
    Job job = st.job;
    if (job != null && job.task.isDone()) {
      if (job.thread.isAlive()) { // cancelled: its driver may still hold the device until the thread ends
        return calibrating(st, CalibrationTexts.ending(job.cancelReason));
      }
      st.job = null;
      finished(st, d, job, identity, capacity);
      requested = requested(st, token);
    }
    job = st.job;

    if (job != null) { // running: should it go on?
      String stop = null;
      if (tenantCount > 0 && !mayOverwrite) {
        stop = CalibrationTexts.placedMeanwhile(tenants, tenantCount);
      } else if (job.recalibration && st.model.published() != null && !requested) {
        stop = CalibrationTexts.REQUEST_WITHDRAWN;
      }
      if (stop != null) {
        stop(st, d.name(), stop);
        return calibrating(st, CalibrationTexts.ending(stop));
      }
      return calibrating(st, CalibrationTexts.running(job, runner.describe()));
    }

    if (st.model.published() != null && !requested) {
      st.failures = 0;
      st.failure = null;
      return serve(st, d, null);
    }
    if (tenantCount > 0 && !mayOverwrite) {
      String why = CalibrationTexts.holdsData(tenants, tenantCount);
      if (st.model.published() != null) return serve(st, d, CalibrationTexts.recalibrationRefused(token, why));
      return new Verdict(Mode.UNAVAILABLE, null, null, false, "Refused", CalibrationTexts.calibrationRefused(why, st.cancelled));
    }
    String unsupported = unsupported(d);
    if (unsupported != null) return failed(st, unsupported);
    if (st.retryAt != null && Instant.now().isBefore(st.retryAt)) {
      return failed(st, CalibrationTexts.failed(st.failures, st.failure, st.retryAt, requested));
    }
    stopServing.run();
    start(st, d, token, requested);
    return calibrating(st, CalibrationTexts.running(st.job, runner.describe()));
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
    if (st != null && st.job != null && !st.job.task.isDone()) stop(st, device, why);
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
    if (st != null && st.model.looked()) return status(st);
    return fd == null || fd.getStatus() == null ? null : fd.getStatus().getCalibration();
  }

  /** Devices with state (calibrated or being calibrated). */
  public Set<String> devices() {
    return Set.copyOf(states.keySet());
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

  // ---- verdicts ---------------------------------------------------------------------------------------------------

  /** Serve with the model in force; the Calibrated condition True (with a note, e.g. a refused request). */
  private Verdict serve(State st, ManagedDevice d, String note) {
    models.publish(st.model, d);
    String file;
    DeviceModel model;
    try {
      model = st.model.published().model();
      file = models.modelFile(st.model, d).toString();
    } catch (IOException | RuntimeException e) {
      return failed(st, "cannot use the calibrated model: " + e.getMessage());
    }
    return new Verdict(Mode.SERVE, file, status(st), true, note == null ? "Calibrated" : "RecalibrationRefused",
        CalibrationTexts.served(st.model, model, models.configMap(d.name()), note));
  }

  private Verdict calibrating(State st, String message) {
    return new Verdict(Mode.CALIBRATING, null, status(st), false, "Running", message);
  }

  private Verdict failed(State st, String message) {
    return new Verdict(Mode.UNAVAILABLE, null, status(st), false, "Failed", message);
  }

  /** status.calibration for the model in force, or null. */
  private DeviceCalibration status(State st) {
    return models.status(st.model);
  }

  /** Whether the annotation asks for a recalibration the model in force does not answer yet. */
  private static boolean requested(State st, String token) {
    PublishedModel p = st.model.published();
    return p != null && token != null && !token.equals(p.recalibrateToken());
  }

  private static String unsupported(ManagedDevice d) {
    if (d.engine() != Engine.URING && d.engine() != Engine.FILE) {
      return "engine " + CalibrationTexts.engine(d.engine()) + " cannot be calibrated by the agent (uring and file can); "
          + "give the device a model (engine memory: model null)";
    }
    if (d.path() == null) return "the device has no path to calibrate";
    return null;
  }

  // ---- running one ------------------------------------------------------------------------------------------------

  private void start(State st, ManagedDevice d, String token, boolean recalibration) {
    CalibrationRunner.Target target = new CalibrationRunner.Target(d.name(), Path.of(d.path()),
        CalibrationTexts.engine(d.engine()), d.capacity(), syncWrites, node);
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

  /** Cancels the device's running calibration; the next passes say why until another starts. */
  private static void stop(State st, String device, String why) {
    st.job.cancelReason = why;
    st.cancelled = "calibration cancelled: " + why;
    LOG.warning("device " + device + ": " + st.cancelled);
    st.job.task.cancel(true); // interrupts the calibration thread
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
      if (!(t instanceof InterruptedIOException && job.cancelReason != null)) retryLater(st, d, t);
      return;
    }
    models.adopt(st.model, PublishedModels.measured(d, c, identity, capacity, job.token));
    st.failures = 0;
    st.failure = null;
    st.retryAt = null;
    DeviceModel m = c.model();
    LOG.info("device " + d.name() + ": calibrated in " + Duration.between(job.started, Instant.now()).toSeconds() + " s: "
        + CalibrationTexts.budgetAt1ms(m) + "; write cost "
        + m.writeCost4k() + "/" + m.readCost4k() + " of a read; " + c.method());
  }

  /** A failed calibration: retried after a backoff doubling per failure up to {@link #MAX_RETRY}. */
  private static void retryLater(State st, ManagedDevice d, Throwable t) {
    st.failures++;
    Duration backoff = FIRST_RETRY.multipliedBy(1L << Math.min(10, st.failures - 1));
    if (backoff.compareTo(MAX_RETRY) > 0) backoff = MAX_RETRY;
    st.retryAt = Instant.now().plus(backoff).truncatedTo(ChronoUnit.SECONDS);
    st.failure = t instanceof CalibrationException || t instanceof IOException ? t.getMessage()
        : t.getClass().getSimpleName() + ": " + t.getMessage();
    LOG.log(t instanceof CalibrationException ? Level.WARNING : Level.SEVERE, "device " + d.name() + ": calibration failed"
        + " (attempt " + st.failures + ", retried at " + st.retryAt + "): " + st.failure, t instanceof CalibrationException ? null : t);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}

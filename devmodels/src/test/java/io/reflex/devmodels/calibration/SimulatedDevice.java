package io.reflex.devmodels.calibration;

import java.io.IOException;
import java.time.Duration;
import java.util.Random;
import java.util.function.DoubleConsumer;

/**
 * A tiny queueing model of a device: it serves {@code capacity} read-equivalents per second, a write costing
 * {@code writeWeight} reads; read p95 = base x (1 + 0.5 rho / (1 - rho)) at utilisation rho (steep near capacity), with
 * a little seeded noise. Open loop beyond capacity it completes 99% of capacity and the backlog grows for the whole
 * run, as a coordinated-omission-corrected p95 shows it. Runs in simulated time ({@link FakeClock}).
 */
final class SimulatedDevice implements LoadDriver {
    final FakeClock clock;
    final double capacity;
    final double writeWeight;
    final double baseMicros;
    /** The closed-loop probe reports this many times the real capacity (like a virtio disk's burst credit). */
    double probeOverstatement = 1;
    /** From this call on (1-based, warm-ups included), points report failed requests; 0: never. */
    int errorsFromCall;
    /** On this call the driver's thread is interrupted (as a CLI's Ctrl-C would); 0: never. */
    int interruptOnCall;
    int calls;
    private final Random noise = new Random(42);

    SimulatedDevice(FakeClock clock, double capacity, double writeWeight, double baseMicros) {
        this.clock = clock;
        this.capacity = capacity;
        this.writeWeight = writeWeight;
        this.baseMicros = baseMicros;
    }

    /** The p95 the model gives at utilisation rho below 1, without noise. */
    double p95(double rho) {
        return baseMicros * (1 + 0.5 * rho / (1 - rho));
    }

    /** The utilisation whose p95 is {@code micros}: inverse of {@link #p95}. */
    double utilisationAt(double micros) {
        double g = micros / baseMicros - 1;
        return g / (g + 0.5);
    }

    @Override
    public String describe() {
        return "simulated device: " + capacity + " read-equivalent IOPS, write weight " + writeWeight;
    }

    @Override
    public long spanBytes() {
        return 4L << 30;
    }

    @Override
    public void precondition(DoubleConsumer progress) throws IOException {
        for (int i = 1; i <= 200; i++) {
            clock.advance(Duration.ofMillis(50));
            progress.accept(i / 200.0);
        }
    }

    @Override
    public LoadPoint closedLoop(int readPercent, int queueDepth, Duration duration) throws IOException {
        call();
        clock.advance(duration);
        double r = readPercent / 100.0;
        double total = 0.95 * capacity * probeOverstatement / (r + writeWeight * (1 - r));
        return point(readPercent, 0, total, p95(0.95), duration);
    }

    @Override
    public LoadPoint openLoop(int readPercent, double iops, Duration duration) throws IOException {
        call();
        clock.advance(duration);
        double r = readPercent / 100.0;
        double rho = iops * (r + writeWeight * (1 - r)) / capacity;
        if (rho < 1) return point(readPercent, iops, iops, p95(rho) * (1 + 0.03 * (2 * noise.nextDouble() - 1)), duration);
        double backlogMicros = 0.95 * duration.toNanos() / 1e3 * (1 - 1 / rho);
        return point(readPercent, iops, iops * 0.99 / rho, p95(0.99) + backlogMicros, duration);
    }

    private LoadPoint point(int readPercent, double offered, double total, double p95, Duration d) {
        double rd = total * readPercent / 100, wr = total - rd;
        long errors = errorsFromCall > 0 && calls >= errorsFromCall ? 3 : 0;
        return new LoadPoint(readPercent, offered, rd, wr, Math.round(p95 / 2), Math.round(p95), wr > 0 ? Math.round(3 * p95) : 0,
                errors, d.toNanos() / 1e9);
    }

    private void call() {
        if (++calls == interruptOnCall) Thread.currentThread().interrupt();
    }

    @Override
    public void close() {}
}

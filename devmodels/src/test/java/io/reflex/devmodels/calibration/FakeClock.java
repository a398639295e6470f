package io.reflex.devmodels.calibration;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** Simulated time: a simulated driver advances it by what it was asked to run, so tests take no real time. */
final class FakeClock implements InstantSource {
    static final Instant START = Instant.parse("2026-12-06T12:00:00Z");
    private Instant now = START;

    @Override
    public Instant instant() {
        return now;
    }

    void advance(Duration d) {
        now = now.plus(d);
    }
}

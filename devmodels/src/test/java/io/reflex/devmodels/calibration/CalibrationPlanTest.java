package io.reflex.devmodels.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CalibrationPlanTest {
    private static final CalibrationPlan STD = CalibrationPlan.standard();

    @Test
    void standardFitsInFiveMinutesWithPreconditioning() {
        assertThat(STD.readPercents()).containsExactly(100, 90, 50);
        assertThat(STD.perPoint()).isEqualTo(Duration.ofSeconds(5));
        assertThat(STD.probeQueueDepth()).isEqualTo(32);
        assertThat(STD.targetsMicros()).containsExactly(250L, 500L, 750L, 1000L, 1500L, 2000L, 3000L, 5000L);
        assertThat(STD.precondition()).isTrue();
        assertThat(STD.pointCount()).isEqualTo(29);
        assertThat(STD.confirmMicros()).isEqualTo(1000);
        // probes, sweeps and knees (each mix's first point warms up 2 s longer), then per mix 2 confirmations (the first
        // also warming up longer): 4 min 30 s, leaving the drivers' overrun (6-9% measured) and preconditioning 30 s.
        assertThat(STD.confirmSteps()).isEqualTo(Duration.ofSeconds(8 + 6));
        assertThat(STD.estimate()).isEqualTo(Duration.ofSeconds(3 * 4 + (29 + 3 * 2) * 6 + 3 * 2 + 3 * (8 + 6)))
                .isLessThanOrEqualTo(Duration.ofMinutes(4).plusSeconds(30));
    }

    @Test
    void quickIsAFewSeconds() {
        CalibrationPlan q = CalibrationPlan.quick();
        assertThat(q.estimate()).isEqualTo(Duration.ofMillis(3 * 250 + (9 + 3 * 2) * 200 + 3 * 100 + 3 * (300 + 200)))
                .isLessThan(Duration.ofSeconds(10));
        assertThat(q.readOnlyFractions()).hasSize(3);
        assertThat(q.mixedFractions()).hasSize(3);
    }

    @Test
    void withersChangeOneThing() {
        CalibrationPlan p = STD.withPerPoint(Duration.ofSeconds(2)).withPrecondition(false);
        assertThat(p.perPoint()).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.precondition()).isFalse();
        assertThat(p.withPerPoint(STD.perPoint()).withPrecondition(true)).isEqualTo(STD);
        assertThat(p.estimate()).isEqualTo(Duration.ofSeconds(3 * 4 + (29 + 6) * 3 + 3 * 2 + 3 * (5 + 3)));
    }

    @Test
    void rejectsPlansThatCannotCalibrate() {
        assertThatThrownBy(() -> plan(List.of(90, 100), List.of(0.5), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("start with 100");
        assertThatThrownBy(() -> plan(List.of(100), List.of(0.5), Duration.ofSeconds(1)))
                .hasMessageContaining("at least one mixed");
        assertThatThrownBy(() -> plan(List.of(100, 0), List.of(0.5), Duration.ofSeconds(1))).hasMessageContaining("1..99");
        assertThatThrownBy(() -> plan(List.of(100, 100), List.of(0.5), Duration.ofSeconds(1))).hasMessageContaining("1..99");
        assertThatThrownBy(() -> plan(List.of(100, 90, 90), List.of(0.5), Duration.ofSeconds(1))).hasMessageContaining("duplicates");
        assertThatThrownBy(() -> plan(List.of(100, 90), List.of(0.0), Duration.ofSeconds(1))).hasMessageContaining("(0, 1.5]");
        assertThatThrownBy(() -> plan(List.of(100, 90), List.of(1.6), Duration.ofSeconds(1))).hasMessageContaining("(0, 1.5]");
        assertThatThrownBy(() -> plan(List.of(100, 90), List.of(0.5, 0.2), Duration.ofSeconds(1))).hasMessageContaining("ascending");
        assertThatThrownBy(() -> plan(List.of(100, 90), List.of(0.5), Duration.ZERO)).hasMessageContaining("perPoint must be > 0");
        assertThatThrownBy(() -> STD.withPerPoint(Duration.ofSeconds(-1))).hasMessageContaining("perPoint");
        assertThatThrownBy(() -> new CalibrationPlan(STD.readPercents(), STD.perPoint(), STD.warmup(), STD.probe(), 32,
                STD.readOnlyFractions(), STD.mixedFractions(), List.of(500L, 250L), 1000, true)).hasMessageContaining("targetsMicros");
        assertThatThrownBy(() -> new CalibrationPlan(STD.readPercents(), STD.perPoint(), STD.warmup(), STD.probe(), 32,
                STD.readOnlyFractions(), STD.mixedFractions(), STD.targetsMicros(), 0, true)).hasMessageContaining("confirmMicros must be > 0");
    }

    private static CalibrationPlan plan(List<Integer> percents, List<Double> fractions, Duration perPoint) {
        return new CalibrationPlan(percents, perPoint, Duration.ZERO, Duration.ofSeconds(1), 32, fractions, fractions,
                List.of(500L), 500, false);
    }
}

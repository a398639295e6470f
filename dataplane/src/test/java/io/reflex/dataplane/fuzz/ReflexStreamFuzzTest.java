package io.reflex.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Coverage-guided fuzzing of the native ReFlex request stream: the bytes a client sends, fed to a real
 * {@code Connection} on a real dataplane loop (memory engine, a loopback connection: {@link SessionFuzzDriver}). Byte 0 picks the
 * tenant (plain, token-protected, the device's top edge), how the bytes arrive and how fast replies are read.
 * Invariants (an AssertionError otherwise): nothing escapes the loop; no device access outside the tenant's extent
 * (the loop's own assertion and the driver's check); no hang; replies are well-formed; a connection closed before
 * the client was done logged why or answered with an error status.
 *
 * <p>{@code ./mvnw verify} replays the committed inputs ({@code ReflexStreamFuzzTestInputs/}); {@code
 * bench/fuzz/run.sh} fuzzes (JAZZER_FUZZ=1).
 */
class ReflexStreamFuzzTest {
    private static SessionFuzzDriver driver;

    @BeforeAll
    static void start() {
        driver = new SessionFuzzDriver();
    }

    @AfterAll
    static void stop() {
        driver.close();
    }

    /** The harness is not vacuous: a valid stream is served to the end, a bad one closed with the reason logged. */
    @Test
    void theHarnessServesValidStreamsAndSeesRefusals() {
        var served = driver.run(SessionFuzzDriver.Protocol.REFLEX, SessionFuzzDriver.seed(getClass(), "reflexStream", "hello-token"));
        assertThat(served.closedEarly()).isFalse();
        assertThat(served.replies()).isEqualTo(5); // HELLO, GET, SET, FLUSH, GET
        assertThat(served.deviceRequests()).isEqualTo(4);
        var refused = driver.run(SessionFuzzDriver.Protocol.REFLEX, SessionFuzzDriver.seed(getClass(), "reflexStream", "legacy-out-of-range"));
        assertThat(refused.closedEarly()).isTrue();
        assertThat(refused.deviceRequests()).isZero();
        assertThat(refused.log()).contains("outside the tenant's 2048 sectors");
    }

    @FuzzTest(maxDuration = "60s")
    void reflexStream(byte[] input) {
        driver.run(SessionFuzzDriver.Protocol.REFLEX, input);
    }
}

package io.reflex.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Coverage-guided fuzzing of the NBD front-end: client flags, options (EXPORT_NAME, GO, INFO, LIST, ABORT, unknown,
 * oversized) and transmission requests, fed to a real {@code NbdSession} on a real dataplane loop (memory engine, a
 * loopback connection: {@link SessionFuzzDriver}). Exports: {@code fuzz}, {@code locked:s3cret}, {@code default} (the empty name;
 * the device's last 4 KiB). Byte 0 picks how the bytes arrive, how fast replies are read and sync writes (FUA).
 * Invariants as for {@link ReflexStreamFuzzTest}.
 */
class NbdStreamFuzzTest {
    private static SessionFuzzDriver driver;

    @BeforeAll
    static void start() {
        driver = new SessionFuzzDriver();
    }

    @AfterAll
    static void stop() {
        driver.close();
    }

    /** The harness is not vacuous: a valid session reaches the device and disconnects cleanly; a bad one is refused. */
    @Test
    void theHarnessServesValidSessionsAndSeesRefusals() {
        var served = driver.run(SessionFuzzDriver.Protocol.NBD, SessionFuzzDriver.seed(getClass(), "nbdStream", "go-read-write"));
        assertThat(served.deviceRequests()).isEqualTo(5); // READ, WRITE, FLUSH, WRITE_ZEROES, READ (TRIM is a no-op)
        assertThat(served.log()).isEmpty();
        var locked = driver.run(SessionFuzzDriver.Protocol.NBD, SessionFuzzDriver.seed(getClass(), "nbdStream", "locked-wrong-token"));
        assertThat(locked.deviceRequests()).isEqualTo(1); // only through "fuzz:ignored" (a token for a tokenless export)
        var refused = driver.run(SessionFuzzDriver.Protocol.NBD, SessionFuzzDriver.seed(getClass(), "nbdStream", "bad-request-magic"));
        assertThat(refused.closedEarly()).isTrue();
        assertThat(refused.deviceRequests()).isZero();
        assertThat(refused.log()).contains("NBD protocol violation");
    }

    @FuzzTest(maxDuration = "60s")
    void nbdStream(byte[] input) {
        driver.run(SessionFuzzDriver.Protocol.NBD, input);
    }
}

package io.reflex.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UdpFramingTest {
    @Test
    void dataPerDatagramFollowsTheMtu() {
        assertThat(UdpFraming.maxDataBytes(9000)).isEqualTo(8704);                 // 17 sectors on jumbo frames
        assertThat(UdpFraming.maxDataBytes(UdpFraming.MIN_MTU)).isEqualTo(4096);   // the smallest MTU we accept carries 4 KiB
        assertThat(UdpFraming.maxDataBytes(4147)).isEqualTo(3584);                 // one byte short of 4096 + 52
        assertThat(UdpFraming.maxDataBytes(1500)).isEqualTo(1024);
        assertThat(UdpFraming.maxDataBytes(500)).isZero();
        assertThat(UdpFraming.maxDataBytes(65535)).isEqualTo(65024);
    }

    @Test
    void requestDatagramsHaveOneExactLength() {
        assertThat(UdpFraming.requestBytes(Opcode.GET, 8)).isEqualTo(24);
        assertThat(UdpFraming.requestBytes(Opcode.SET, 8)).isEqualTo(24 + 4096);
        assertThat(UdpFraming.requestBytes(Opcode.HELLO, 5)).isEqualTo(29);
        assertThat(UdpFraming.requestBytes(Opcode.FLUSH, 0)).isEqualTo(24);
        assertThat(UdpFraming.requestBytes(Opcode.SET_NO_ACK, 8)).isEqualTo(-1);
        assertThat(UdpFraming.requestBytes(99, 8)).isEqualTo(-1);
    }

    @Test
    void theFieldCheckAgreesWithTheHeaderCheck() {
        assertThat(RequestCheck.frame(24, Opcode.GET, 8)).isEqualTo(Status.OK);
        assertThat(RequestCheck.frame(25, Opcode.GET, 8)).isEqualTo(Status.EINVAL);
        assertThat(RequestCheck.frame(24, Opcode.GET, 0)).isEqualTo(Status.EINVAL);
        assertThat(RequestCheck.frame(24, Opcode.SET, ReflexHeader.MAX_SECTORS + 1)).isEqualTo(Status.EINVAL);
        assertThat(RequestCheck.frame(24, Opcode.FLUSH, 1)).isEqualTo(Status.EINVAL);
    }
}

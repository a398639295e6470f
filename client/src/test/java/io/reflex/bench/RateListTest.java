package io.reflex.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RateListTest {
    @Test
    void parsesListsRangesAndSuffixes() {
        assertThat(RateList.parse("1000,5000,10000")).containsExactly(1000.0, 5000.0, 10000.0);
        assertThat(RateList.parse("1000, 5k:20k:5k")).containsExactly(1000.0, 5000.0, 10000.0, 15000.0, 20000.0);
        assertThat(RateList.parse("0.1m:0.3m:0.1m")).hasSize(3).last().satisfies(v -> assertThat(v).isCloseTo(300_000.0, org.assertj.core.data.Offset.offset(1e-6)));
        assertThat(RateList.parse("10:25:10")).containsExactly(10.0, 20.0);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> RateList.parse("abc")).hasMessageContaining("not a rate");
        assertThatThrownBy(() -> RateList.parse("0")).hasMessageContaining("positive");
        assertThatThrownBy(() -> RateList.parse("1:2")).hasMessageContaining("START:END:STEP");
        assertThatThrownBy(() -> RateList.parse("1:1000000:1")).hasMessageContaining("more than");
        assertThatThrownBy(() -> RateList.parse(",")).hasMessageContaining("no rates");
    }

    @Test
    void serverAddressesParse() {
        assertThat(ServerAddress.parse("10.0.0.1:1234")).isEqualTo(new ServerAddress("10.0.0.1", 1234));
        assertThat(ServerAddress.parse("[::1]:99").host()).isEqualTo("::1");
        assertThatThrownBy(() -> ServerAddress.parse("host:0")).isInstanceOf(IllegalArgumentException.class);
    }
}

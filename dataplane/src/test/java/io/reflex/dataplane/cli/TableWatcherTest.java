package io.reflex.dataplane.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class TableWatcherTest {
    @Test
    void firesOnContentChangeIncludingSymlinkSwaps() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "watch-test")).toAbsolutePath();
        Path v1 = dir.resolve("v1.yaml"), v2 = dir.resolve("v2.yaml"), link = dir.resolve("slo.yaml");
        Files.writeString(v1, "tenants: []\n");
        Files.writeString(v2, "tenants: [] # changed\n");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, v1);
        AtomicInteger fired = new AtomicInteger();
        try (TableWatcher w = TableWatcher.start(link, fired::incrementAndGet)) {
            Thread.sleep(1500);
            assertThat(fired).hasValue(0); // unchanged content: nothing
            Path tmp = dir.resolve("tmp-link");
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, v2);
            Files.move(tmp, link, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(fired).hasValue(1));
        }
    }

    @Test
    void sizesParseQuantities() {
        assertThat(Sizes.parse("4Gi")).isEqualTo(4L << 30);
        assertThat(Sizes.parse("512")).isEqualTo(512);
        assertThat(Sizes.parse("1G")).isEqualTo(1_000_000_000L);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Sizes.parse("lots")).hasMessageContaining("invalid size");
    }
}

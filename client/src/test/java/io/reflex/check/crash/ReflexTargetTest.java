package io.reflex.check.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.reflex.client.LoopbackServer;
import io.reflex.protocol.Status;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ReflexTargetTest {
  @Test
  void writesReadsAndFlushesWholeBlocks() throws Exception {
    try (LoopbackServer s = new LoopbackServer(64 * 8); ReflexTarget t = ReflexTarget.connect("127.0.0.1", s.port(), null)) {
      byte[] a = BlockImage.image(1, 5, 1);
      byte[] b = BlockImage.image(1, 6, 2);
      t.write(5, a, false).get(10, TimeUnit.SECONDS);
      t.write(6, b, false).get(10, TimeUnit.SECONDS);
      t.flush().get(10, TimeUnit.SECONDS);
      byte[] back = t.read(5, 2).get(10, TimeUnit.SECONDS);
      assertThat(BlockImage.matches(back, 0, 1, 5, 1)).isTrue();
      assertThat(BlockImage.matches(back, 4096, 1, 6, 2)).isTrue();
    }
  }

  @Test
  void aClosedConnectionIsTellingApartFromAnError() throws Exception {
    try (LoopbackServer s = new LoopbackServer(64 * 8).fail(8, Status.EIO);
         ReflexTarget t = ReflexTarget.connect("127.0.0.1", s.port(), null)) {
      Throwable error = catchThrowable(() -> t.write(1, BlockImage.image(1, 1, 1), false).get(10, TimeUnit.SECONDS));
      assertThat(BlockTarget.isClosed(error)).isFalse();
      assertThat(error.getCause()).isInstanceOf(BlockTarget.TargetErrorException.class).hasMessageContaining("EIO");
      s.dropConnections();
      Throwable closed = catchThrowable(() -> {
        for (int i = 0; i < 100; i++) t.write(2, BlockImage.image(1, 2, 1), false).get(10, TimeUnit.SECONDS);
      });
      assertThat(BlockTarget.isClosed(closed)).as("%s", closed).isTrue();
    }
  }
}

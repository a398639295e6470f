package io.reflex.operator.apiserver;

import static io.reflex.operator.apiserver.Fixtures.be;
import static io.reflex.operator.apiserver.Fixtures.device;
import static io.reflex.operator.apiserver.Fixtures.lc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.TenantPhase;
import io.reflex.e2e.KubeApi;
import io.reflex.e2e.KubeApiTest;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.liveness.AgentHeartbeats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The operator killed while tenants are being created (issue 15), in-process: 30 tenants applied concurrently over a
 * few seconds while the operator is killed three times at random moments (its connections cut, its threads stopped,
 * its ledger dropped) and a fresh one started each time, which must rebuild its ledger from the API server. A sampler
 * checks placement safety (no overcommit, no extent or port twice) on the API objects throughout, not only at the
 * end; once the last operator has caught up every tenant must be decided with its reason, exposed on its port, and
 * counted in its device's status.
 */
@KubeApiTest
class OperatorRestartTest {
  static final String GROUP = "restart";
  static final int TENANTS = 30;
  static final Duration WAIT = Duration.ofSeconds(120);

  @Test
  void tenantsCreatedWhileTheOperatorIsKilledThreeTimesEndUpDecidedWithoutOvercommit(KubeApi api) throws Exception {
    KubernetesClient client = api.client();
    String ns = api.namespace();
    api.installCrds(InProcessOperator.crds());
    Fixtures.node(client, "rs-node-a", "10.3.0.1", "zone-a");
    // Three devices on two nodes (the second one has no Node object: its address comes from the annotation).
    List<String> devices = List.of("rs-a-1", "rs-a-2", "rs-b-1");
    device(client, "rs-a-1", "rs-node-a", "16Gi", GROUP, Map.of());
    device(client, "rs-a-2", "rs-node-a", "16Gi", GROUP, Map.of());
    device(client, "rs-b-1", "rs-node-b", "16Gi", GROUP, Map.of(OperatorSettings.NODE_ADDRESS_ANNOTATION, "10.3.0.2"));
    // LC tenants of 2-42K IOPS at p95 0.5-2 ms and BE tenants, 1-3 GiB each: more than the devices hold (tokens and
    // bytes), so some stay Pending.
    List<FlashTenant> batch = IntStream.range(0, TENANTS).mapToObj(i -> i % 5 == 4
        ? be("rs" + i, (1 + i % 3) + "Gi", GROUP)
        : lc("rs" + i, 2_000 + (i * 7919L) % 40_000, (i * 37) % 101, 500 + (i % 4) * 500, (1 + i % 3) + "Gi", GROUP)).toList();
    long seed = System.nanoTime();
    Random random = new Random(seed);
    String context = "seed " + seed;

    List<String> seenUnsafe = new ArrayList<>();
    List<String> samplerErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicBoolean sampling = new AtomicBoolean(true);
    ExecutorService creators = Executors.newFixedThreadPool(6);
    ExecutorService sampler = Executors.newSingleThreadExecutor();
    InProcessOperator operator = start(api);
    boolean passed = false;
    try {
      // Placement safety on the API objects every 200 ms while the faults happen.
      Future<?> sampled = sampler.submit(() -> {
        while (sampling.get()) {
          try {
            List<String> v = Invariants.placement(client, Invariants.tenants(client, ns, GROUP));
            if (!v.isEmpty()) {
              synchronized (seenUnsafe) {
                seenUnsafe.addAll(v);
              }
            }
            Thread.sleep(200);
          } catch (InterruptedException e) {
            return;
          } catch (RuntimeException e) {
            samplerErrors.add(e.toString()); // e.g. a request timing out on a busy machine: not a finding
          }
        }
      });
      // One apply every 150 ms (~4.5 s in all), from six threads.
      long t0 = System.nanoTime();
      List<Future<?>> creates = new ArrayList<>();
      for (int i = 0; i < TENANTS; i++) {
        FlashTenant t = batch.get(i);
        long at = t0 + i * 150_000_000L;
        creates.add(creators.submit(() -> {
          sleepUntil(at);
          return client.resource(t).inNamespace(ns).fieldManager("user").forceConflicts().serverSideApply();
        }));
      }
      List<String> kills = new ArrayList<>();
      for (int k = 1; k <= 3; k++) {
        Thread.sleep(300 + random.nextInt(1500));
        kills.add("kill " + k + " with " + Invariants.tenants(client, ns, GROUP).size() + " tenants created");
        operator.kill();
        operator = start(api);
      }
      for (Future<?> f : creates) {
        f.get();
      }
      await().atMost(WAIT).until(() -> Invariants.tenants(client, ns, GROUP).stream().allMatch(OperatorRestartTest::decided));
      await().atMost(WAIT).untilAsserted(() -> assertThat(Invariants.settled(client, ns,
          Invariants.tenants(client, ns, GROUP), devices)).as("%s, %s", context, kills).isEmpty());
      sampling.set(false);
      sampled.get();
      List<FlashTenant> end = Invariants.tenants(client, ns, GROUP);
      assertThat(Invariants.placement(client, end)).as(context).isEmpty();
      assertThat(seenUnsafe).as("placement safety while the operator was killed (%s; sampler errors: %s)", context,
          samplerErrors).isEmpty();
      assertThat(end).hasSize(TENANTS);
      assertThat(end).as("some placed").anyMatch(t -> t.getStatus().getPhase() == TenantPhase.Placed);
      assertThat(end).as("some waiting for capacity").anyMatch(t -> t.getStatus().getPhase() == TenantPhase.Pending);
      passed = true;
    } finally {
      sampling.set(false);
      sampler.shutdownNow();
      creators.shutdownNow();
      try {
        cleanUp(client, ns, devices);
      } catch (RuntimeException | Error e) {
        if (passed) {
          throw e;
        }
        System.err.println("cleaning up after the failure: " + e); // the test's own failure is the one to report
      } finally {
        operator.close();
      }
    }
  }

  /** Devices carry our finalizer: removed while an operator still runs. */
  static void cleanUp(KubernetesClient client, String ns, List<String> devices) {
    client.resources(FlashTenant.class).inNamespace(ns).delete();
    try {
      await().atMost(WAIT).untilAsserted(() -> assertThat(client.resources(FlashTenant.class).inNamespace(ns).list().getItems())
          .as("tenants left after delete").extracting(t -> t.getMetadata().getName() + " " + t.getMetadata().getFinalizers()
              + " " + (t.getStatus() == null ? null : t.getStatus().getPhase())).isEmpty());
    } catch (RuntimeException | Error e) {
      StringBuilder dump = new StringBuilder();
      client.resources(FlashTenant.class).inNamespace(ns).list().getItems().forEach(t -> dump.append("LEFT ")
          .append(io.fabric8.kubernetes.client.utils.Serialization.asJson(t)).append('\n'));
      Thread.getAllStackTraces().forEach((th, st) -> {
        dump.append("THREAD ").append(th.getName()).append(' ').append(th.getState()).append('\n');
        for (StackTraceElement f : st) dump.append("    at ").append(f).append('\n');
      });
      try {
        java.nio.file.Files.writeString(java.nio.file.Path.of("target", "OperatorRestartTest-stuck.txt"), dump);
      } catch (java.io.IOException io) {
        e.addSuppressed(io);
      }
      throw e;
    }
    devices.forEach(d -> client.resources(FlashDevice.class).withName(d).delete());
    await().atMost(WAIT).until(() -> devices.stream().allMatch(d -> client.resources(FlashDevice.class).withName(d).get() == null));
  }

  /** A fresh operator with a client of its own (so that {@link InProcessOperator#kill} cuts only its connections). */
  static InProcessOperator start(KubeApi api) {
    return new InProcessOperator(api.controlPlane().newClient(api.namespace()), api.namespace(),
        OperatorSettings.defaults(), AgentHeartbeats.NONE, true);
  }

  static boolean decided(FlashTenant t) {
    var s = t.getStatus();
    return s != null && s.getPhase() != null && t.getMetadata().getGeneration().equals(s.getObservedGeneration());
  }

  static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) {
      Thread.sleep(Duration.ofNanos(left));
    }
  }
}

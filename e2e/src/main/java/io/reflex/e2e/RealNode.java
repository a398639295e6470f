package io.reflex.e2e;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What a {@link RealNodeTest} gets: the real single-node cluster, its own namespace (pods allowed), a client bound
 * to it, kubectl, image import and one-shot pods.
 */
public final class RealNode implements AutoCloseable {

  /** Images {@code e2e/cluster up} imports (built by {@code e2e/bin/build-node}; never pulled). */
  public static final String PROBE_IMAGE = "reflex.local/probe:1";
  public static final String PAUSE_IMAGE = "reflex.local/pause:3.10";

  // Safety bound for a one-shot pod (the probe takes about a second); not an assertion on speed.
  private static final long POD_TIMEOUT_SECONDS = 180;
  // Container states a pod never leaves on its own: fail at once, with the reason, instead of at the bound.
  private static final Set<String> STUCK = Set.of("ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff",
      "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError");

  private final RealNodeCluster cluster;
  private final String namespace;
  private final KubernetesClient client;
  private final Kubectl kubectl;

  RealNode(RealNodeCluster cluster, String namespace, KubernetesClient client, Path kubectlCache) {
    this.cluster = cluster;
    this.namespace = namespace;
    this.client = client;
    this.kubectl = new Kubectl(cluster.kubeconfig(), namespace, kubectlCache);
  }

  public RealNodeCluster cluster() {
    return cluster;
  }

  /** The cluster admin's kubeconfig (for tools run by the test). */
  public Path kubeconfig() {
    return cluster.kubeconfig();
  }

  /** This test class's namespace (created before the class, deleted after it). */
  public String namespace() {
    return namespace;
  }

  /** Admin client whose default namespace is {@link #namespace()}; closed after the class. */
  public KubernetesClient client() {
    return client;
  }

  public Kubectl kubectl() {
    return kubectl;
  }

  public Kubectl.Result kubectl(String... args) {
    return kubectl.run(args);
  }

  /** Imports an image tar into the node's containerd; pods then use it with imagePullPolicy Never or IfNotPresent. */
  public void importImage(Path tar) {
    cluster.load(tar);
  }

  /** The cluster's one node. */
  public Node node() {
    List<Node> nodes = client.nodes().list().getItems();
    if (nodes.size() != 1) {
      throw new IllegalStateException("expected one node, found " + nodes.size());
    }
    return nodes.getFirst();
  }

  /** The node's InternalIP: the address the operator writes into tenants' EndpointSlices. */
  public String nodeAddress() {
    return node().getStatus().getAddresses().stream().filter(a -> "InternalIP".equals(a.getType()))
        .map(NodeAddress::getAddress).findFirst()
        .orElseThrow(() -> new IllegalStateException("node " + node().getMetadata().getName() + " has no InternalIP"));
  }

  /** A one-shot pod: one container {@code main} running {@code image} with {@code args}, never restarted or pulled. */
  public static Pod pod(String name, String image, String... args) {
    return new PodBuilder().withNewMetadata().withName(name).endMetadata()
        .withNewSpec().withRestartPolicy("Never").withTerminationGracePeriodSeconds(1L)
        .addNewContainer().withName("main").withImage(image).withImagePullPolicy("Never").withArgs(args).endContainer()
        .endSpec().build();
  }

  /** As {@link #runPod(Pod)} for {@link #pod(String, String, String...)}. */
  public PodResult runPod(String name, String image, String... args) {
    return runPod(pod(name, image, args));
  }

  /**
   * Creates the pod in this namespace (restartPolicy Never), waits until it has run to completion, and returns its
   * phase, exit code and log; the pod is deleted afterwards whatever happened.
   */
  public PodResult runPod(Pod pod) {
    String name = pod.getMetadata().getName();
    client.pods().resource(new PodBuilder(pod).editMetadata().withNamespace(namespace).endMetadata()
        .editSpec().withRestartPolicy("Never").endSpec().build()).create();
    try {
      Pod done;
      try {
        done = client.pods().withName(name).waitUntilCondition(p -> p == null || finished(p) || stuckReason(p) != null,
            POD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (KubernetesClientTimeoutException e) {
        throw new AssertionError("pod " + name + " did not finish within " + POD_TIMEOUT_SECONDS + " s: "
            + client.pods().withName(name).get().getStatus(), e);
      }
      if (done == null) {
        throw new AssertionError("pod " + name + " was deleted while it ran");
      }
      String stuck = stuckReason(done);
      if (stuck != null && !finished(done)) {
        throw new AssertionError("pod " + name + " cannot start: " + stuck
            + (stuck.startsWith("ErrImageNeverPull") ? " (import the image: RealNode.importImage / e2e/cluster load)" : ""));
      }
      ContainerStateTerminated t = done.getStatus().getContainerStatuses().getFirst().getState().getTerminated();
      return new PodResult(name, done.getStatus().getPhase(), t.getExitCode(), client.pods().withName(name).getLog(),
          done.getStatus().getPodIP(), done.getStatus().getHostIP(), done.getSpec().getNodeName());
    } finally {
      try {
        client.pods().withName(name).withGracePeriod(0).delete();
        client.pods().withName(name).waitUntilCondition(p -> p == null, 60, TimeUnit.SECONDS);
      } catch (RuntimeException e) {
        System.err.println("[reflex-e2e] could not delete pod " + name + " (the namespace goes after the class): " + e);
      }
    }
  }

  private static boolean finished(Pod p) {
    String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
    return ("Succeeded".equals(phase) || "Failed".equals(phase)) && p.getStatus().getContainerStatuses() != null
        && p.getStatus().getContainerStatuses().stream().allMatch(c -> c.getState().getTerminated() != null);
  }

  private static String stuckReason(Pod p) {
    if (p.getStatus() == null || p.getStatus().getContainerStatuses() == null) {
      return null;
    }
    for (ContainerStatus c : p.getStatus().getContainerStatuses()) {
      ContainerStateWaiting w = c.getState() == null ? null : c.getState().getWaiting();
      if (w != null && STUCK.contains(w.getReason())) {
        return w.getReason() + ": " + w.getMessage();
      }
    }
    return null;
  }

  @Override
  public void close() {
    client.close();
  }
}

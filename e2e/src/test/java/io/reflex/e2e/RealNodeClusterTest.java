package io.reflex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What the product relies on from a real node: pods are scheduled and run, reach the API server and cluster DNS,
 * a tenant's selector-less Service resolves to the address in its hand-written EndpointSlice (what the operator
 * writes), and a hostNetwork pod (the agent's DaemonSet) runs at the node's address.
 */
@RealNodeTest
class RealNodeClusterTest {

  /** The probe's success line for one name: {@code ok   dns NAME -> ADDR[,ADDR...] (N ms)}. */
  private static final Pattern DNS_OK = Pattern.compile("^ok\\s+dns (\\S+) -> (\\S+) \\(\\d+ ms\\)$");

  RealNode node;
  KubernetesClient client;

  @Test
  void theNodeIsReadyAndSchedulable() {
    Node n = node.node();
    assertThat(n.getStatus().getConditions()).filteredOn(c -> "Ready".equals(c.getType()))
        .extracting(NodeCondition::getStatus).containsExactly("True");
    assertThat(n.getSpec().getUnschedulable()).as("cordoned").isNotEqualTo(Boolean.TRUE);
    assertThat(n.getSpec().getTaints() == null ? List.of() : n.getSpec().getTaints())
        .as("taints that keep ordinary pods off")
        .noneMatch(t -> "NoSchedule".equals(t.getEffect()) || "NoExecute".equals(t.getEffect()));
    assertThat(Integer.parseInt(n.getStatus().getAllocatable().get("pods").getAmount())).isPositive();
  }

  @Test
  void aPodResolvesTheApiServerServiceAndReachesIt() {
    PodResult probe = node.runPod("probe-api", RealNode.PROBE_IMAGE);

    assertThat(probe.succeeded()).as("%s", probe).isTrue();
    String kubernetesIp = client.services().inNamespace("default").withName("kubernetes").get().getSpec().getClusterIP();
    assertThat(resolved(probe, "kubernetes.default.svc")).containsExactly(kubernetesIp);
    String version = client.getKubernetesVersion().getGitVersion();
    assertThat(probe.lines()).as("%s", probe)
        .anyMatch(l -> l.startsWith("ok   api https://kubernetes.default.svc/version -> ")
            && l.contains("\"gitVersion\": \"" + version + "\""));
  }

  @Test
  void aTenantServiceNameResolvesToTheAddressInItsEndpointSlice() {
    // As the operator exposes a tenant: headless, no selector, one slice naming the node's address and the port.
    String address = node.nodeAddress();
    Service svc = new ServiceBuilder().withNewMetadata().withName("tenant").endMetadata()
        .withNewSpec().withClusterIP("None").addNewPort().withName("reflex").withProtocol("TCP").withPort(20000)
        .withNewTargetPort(20000).endPort().endSpec().build();
    EndpointSlice slice = new EndpointSliceBuilder().withNewMetadata().withName("tenant-reflex")
        .addToLabels("kubernetes.io/service-name", "tenant")
        .addToLabels("endpointslice.kubernetes.io/managed-by", "reflex-e2e").endMetadata()
        .withAddressType("IPv4").addNewPort().withName("reflex").withProtocol("TCP").withPort(20000).endPort()
        .addNewEndpoint().withAddresses(address).withNodeName(node.node().getMetadata().getName())
        .withNewConditions().withReady(true).endConditions().endEndpoint().build();
    client.services().resource(svc).create();
    client.discovery().v1().endpointSlices().resource(slice).create();
    try {
      String name = "tenant." + node.namespace() + ".svc";
      PodResult probe = node.runPod("probe-tenant", RealNode.PROBE_IMAGE, name);

      assertThat(probe.succeeded()).as("%s", probe).isTrue();
      assertThat(resolved(probe, name)).as("%s", probe).containsExactly(address);
    } finally {
      client.discovery().v1().endpointSlices().resource(slice).delete();
      client.services().resource(svc).delete();
    }
  }

  @Test
  void aHostNetworkPodRunsAtTheNodeAddressAndReachesTheApiServer() {
    // As the agent's DaemonSet runs: host network, cluster DNS through ClusterFirstWithHostNet.
    Pod pod = new PodBuilder(RealNode.pod("probe-hostnet", RealNode.PROBE_IMAGE)).editSpec()
        .withHostNetwork(true).withDnsPolicy("ClusterFirstWithHostNet").endSpec().build();

    PodResult probe = node.runPod(pod);

    assertThat(probe.succeeded()).as("%s", probe).isTrue();
    assertThat(probe.podIP()).isEqualTo(node.nodeAddress()).isEqualTo(probe.hostIP());
  }

  /** The addresses the probe resolved {@code name} to (it prints them comma-separated). */
  private static List<String> resolved(PodResult probe, String name) {
    for (String line : probe.lines()) {
      Matcher m = DNS_OK.matcher(line);
      if (m.matches() && m.group(1).equals(name)) {
        return List.of(m.group(2).split(","));
      }
    }
    throw new AssertionError("the probe resolved no " + name + ": " + probe);
  }
}

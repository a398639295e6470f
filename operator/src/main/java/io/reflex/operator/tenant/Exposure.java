package io.reflex.operator.tenant;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.reflex.crds.access.TenantNames;
import io.reflex.crds.access.TenantSecret;
import io.reflex.crds.v1alpha1.AuthMode;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.operator.OperatorSettings;
import io.reflex.operator.ServerSideApply;
import io.reflex.operator.placement.Allocation;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How clients reach a placed tenant: a headless, selector-less Service named like the tenant whose one
 * EndpointSlice points at the node's address and the tenant's port (and, when the device has an NBD front-end, its
 * NBD port), and a Secret with endpoint, port, LBA size, an access token and the NBD export. For a device served over
 * UDP from its agent's DPDK port ({@code status.transport: udp}) the address is the port's (the device's
 * node-address annotation), the ReFlex port's protocol is UDP and the Secret says {@code transport: udp}. All owned by the
 * FlashTenant (garbage-collected where a controller manager runs) and deleted by the operator when it sees the
 * tenant's delete (FlashTenantReconciler, by owner UID).
 */
public final class Exposure {
  public static final String TENANT_LABEL = "reflex.io/tenant";
  public static final String PORT_NAME = "reflex";
  public static final String NBD_PORT_NAME = "nbd";
  /** The Secret's key saying how to reach the tenant: {@code udp}; absent, TCP. */
  public static final String TRANSPORT_KEY = "transport";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Exposure() {}

  public static String serviceName(FlashTenant t) {
    return t.getMetadata().getName();
  }

  public static String endpointSliceName(FlashTenant t) {
    return t.getMetadata().getName() + "-reflex";
  }

  public static String secretName(FlashTenant t) {
    return TenantSecret.name(t);
  }

  public static String endpoint(FlashTenant t, int port) {
    return serviceName(t) + "." + t.getMetadata().getNamespace() + ".svc:" + port;
  }

  static Map<String, String> labels(FlashTenant t) {
    return Map.of(TenantSecret.MANAGED_BY_LABEL, OperatorSettings.MANAGED_BY, TENANT_LABEL, t.getMetadata().getName());
  }

  static OwnerReference owner(FlashTenant t) {
    return new OwnerReferenceBuilder().withApiVersion(t.getApiVersion()).withKind(t.getKind())
        .withName(t.getMetadata().getName()).withUid(t.getMetadata().getUid()).withController(true)
        .withBlockOwnerDeletion(false).build();
  }

  public static String host(FlashTenant t) {
    return serviceName(t) + "." + t.getMetadata().getNamespace() + ".svc";
  }

  /** {@code nbdPort}: the device's NBD port, or null for a Service with the ReFlex port only. */
  public static Service service(FlashTenant t, Allocation a, Integer nbdPort) {
    return service(t, a, nbdPort, null);
  }

  /**
   * The ReFlex port's protocol: UDP for a device its agent serves from a DPDK port ({@code status.transport: udp}),
   * else TCP.
   */
  public static String protocol(String transport) {
    return FlashDevice.TRANSPORT_UDP.equals(transport) ? "UDP" : "TCP";
  }

  /** {@code transport}: the device's {@code status.transport} (null: tcp). */
  public static Service service(FlashTenant t, Allocation a, Integer nbdPort, String transport) {
    var spec = new ServiceBuilder().withNewMetadata().withName(serviceName(t)).withNamespace(t.getMetadata().getNamespace())
        .withLabels(labels(t)).withOwnerReferences(owner(t)).endMetadata()
        .withNewSpec().withClusterIP("None").addNewPort().withName(PORT_NAME).withProtocol(protocol(transport)).withPort(a.port())
        .withNewTargetPort(a.port()).endPort();
    if (nbdPort != null) {
      spec.addNewPort().withName(NBD_PORT_NAME).withProtocol("TCP").withPort(nbdPort).withNewTargetPort(nbdPort).endPort();
    }
    return spec.endSpec().build();
  }

  /** The slice; no endpoints while the node's address is unknown. */
  public static EndpointSlice endpointSlice(FlashTenant t, Allocation a, String address, Integer nbdPort) {
    return endpointSlice(t, a, address, nbdPort, null);
  }

  /** {@code transport}: the device's {@code status.transport} (null: tcp). */
  public static EndpointSlice endpointSlice(FlashTenant t, Allocation a, String address, Integer nbdPort, String transport) {
    Map<String, String> labels = new LinkedHashMap<>(labels(t));
    labels.put("kubernetes.io/service-name", serviceName(t));
    labels.put("endpointslice.kubernetes.io/managed-by", "reflex.io-operator");
    var b = new EndpointSliceBuilder().withNewMetadata().withName(endpointSliceName(t))
        .withNamespace(t.getMetadata().getNamespace()).withLabels(labels).withOwnerReferences(owner(t)).endMetadata()
        .withAddressType(address != null && address.contains(":") ? "IPv6" : "IPv4")
        .addNewPort().withName(PORT_NAME).withProtocol(protocol(transport)).withPort(a.port()).endPort();
    if (nbdPort != null) {
      b.addNewPort().withName(NBD_PORT_NAME).withProtocol("TCP").withPort(nbdPort).endPort();
    }
    if (address != null) {
      b.addNewEndpoint().withAddresses(address).withNodeName(a.node()).withNewConditions().withReady(true).endConditions()
          .endEndpoint();
    } else {
      b.withEndpoints(List.of());
    }
    return b.build();
  }

  /**
   * The Secret's keys: endpoint, host, port, lbaCount, capacityBytes, token (unless auth is None) and, when the device
   * has an NBD front-end, nbdPort, nbdExport (the export name, with the token) and nbdUri ({@code nbd://host:port/export},
   * what fio's nbd engine, nbdcopy, nbdinfo and qemu take).
   */
  public static Secret secret(FlashTenant t, Allocation a, String existingToken, Integer nbdPort) {
    return secret(t, a, existingToken, nbdPort, null);
  }

  /**
   * As above; for a device served over UDP (its agent's DPDK port) also {@code transport: udp}, which a client must
   * follow ({@code ReflexClient.connectUdp}, {@code reflex-bench --transport udp}). Absent: TCP.
   */
  public static Secret secret(FlashTenant t, Allocation a, String existingToken, Integer nbdPort, String transport) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("endpoint", endpoint(t, a.port()));
    data.put("host", host(t));
    data.put("port", Integer.toString(a.port()));
    if (FlashDevice.TRANSPORT_UDP.equals(transport)) {
      data.put(TRANSPORT_KEY, FlashDevice.TRANSPORT_UDP);
    }
    data.put("lbaCount", Long.toString(a.sizeBytes() / Allocation.SECTOR_BYTES));
    data.put("capacityBytes", Long.toString(a.sizeBytes()));
    boolean needsToken = t.getSpec().getAuth() == null || t.getSpec().getAuth().getMode() != AuthMode.None;
    String token = needsToken ? (existingToken != null ? existingToken : newToken()) : null;
    if (token != null) {
      data.put(TenantSecret.TOKEN_KEY, token);
    }
    if (nbdPort != null) {
      // Tokens are base64url (RFC 3986 unreserved characters): the URI needs no escaping.
      String export = TenantNames.nbdExport(t, token);
      data.put("nbdPort", Integer.toString(nbdPort));
      data.put("nbdExport", export);
      data.put("nbdUri", "nbd://" + host(t) + ":" + nbdPort + "/" + export);
    }
    Map<String, String> encoded = new LinkedHashMap<>();
    data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return new SecretBuilder().withNewMetadata().withName(secretName(t)).withNamespace(t.getMetadata().getNamespace())
        .withLabels(labels(t)).withOwnerReferences(owner(t)).endMetadata().withType("Opaque").withData(encoded).build();
  }

  static String newToken() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** The access token a Secret holds, or null. */
  public static String token(Secret s) {
    return TenantSecret.token(s);
  }

  /**
   * Server-side applies the Service. One created by a plain POST (earlier operator versions) keeps its first port
   * under that create's field-manager entry, so an apply with a new port is refused (two ports named "reflex"): such
   * a Service is deleted and applied afresh (its port is changing anyway, so clients reconnect).
   */
  static Service applyService(KubernetesClient c, Service s) {
    try {
      return ServerSideApply.apply(c, s);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() != 422 || e.getMessage() == null || !e.getMessage().contains("Duplicate value")) {
        throw e;
      }
      c.services().inNamespace(s.getMetadata().getNamespace()).withName(s.getMetadata().getName()).delete();
      return ServerSideApply.apply(c, s);
    }
  }

  // ---- does an object in the cluster carry what we would write? (labels, owner and the fields we set) ----------

  static boolean sameMeta(HasMetadata have, HasMetadata want) {
    Map<String, String> labels = have.getMetadata().getLabels() == null ? Map.of() : have.getMetadata().getLabels();
    if (!labels.entrySet().containsAll(want.getMetadata().getLabels().entrySet())) {
      return false;
    }
    String uid = want.getMetadata().getOwnerReferences().getFirst().getUid();
    return have.getMetadata().getOwnerReferences() != null && have.getMetadata().getOwnerReferences().stream()
        .anyMatch(r -> uid.equals(r.getUid()) && Boolean.TRUE.equals(r.getController()));
  }

  public static boolean sameService(Service have, Service want) {
    if (!sameMeta(have, want) || have.getSpec() == null || !"None".equals(have.getSpec().getClusterIP())
        || (have.getSpec().getSelector() != null && !have.getSpec().getSelector().isEmpty())
        || have.getSpec().getPorts() == null || have.getSpec().getPorts().size() != want.getSpec().getPorts().size()) {
      return false;
    }
    for (int i = 0; i < want.getSpec().getPorts().size(); i++) {
      var h = have.getSpec().getPorts().get(i);
      var w = want.getSpec().getPorts().get(i);
      if (!Objects.equals(h.getName(), w.getName()) || !Objects.equals(h.getProtocol(), w.getProtocol())
          || !Objects.equals(h.getPort(), w.getPort()) || !Objects.equals(h.getTargetPort(), w.getTargetPort())) {
        return false;
      }
    }
    return true;
  }

  public static boolean sameEndpointSlice(EndpointSlice have, EndpointSlice want) {
    if (!sameMeta(have, want) || !Objects.equals(have.getAddressType(), want.getAddressType())) {
      return false;
    }
    List<String> hp = have.getPorts() == null ? List.of()
        : have.getPorts().stream().map(p -> p.getName() + "/" + p.getProtocol() + "/" + p.getPort()).toList();
    List<String> wp = want.getPorts().stream().map(p -> p.getName() + "/" + p.getProtocol() + "/" + p.getPort()).toList();
    if (!hp.equals(wp)) {
      return false;
    }
    List<String> he = have.getEndpoints() == null ? List.of() : have.getEndpoints().stream().map(Exposure::endpointKey).toList();
    List<String> we = want.getEndpoints().stream().map(Exposure::endpointKey).toList();
    return he.equals(we);
  }

  private static String endpointKey(Endpoint e) {
    return e.getAddresses() + "@" + e.getNodeName() + ":" + (e.getConditions() == null ? null : e.getConditions().getReady());
  }

  public static boolean sameSecret(Secret have, Secret want) {
    return sameMeta(have, want) && Objects.equals(have.getType(), want.getType())
        && Objects.equals(have.getData(), want.getData());
  }
}

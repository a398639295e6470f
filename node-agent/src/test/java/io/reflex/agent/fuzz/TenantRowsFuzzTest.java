package io.reflex.agent.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.reflex.agent.kube.TenantRows;
import io.reflex.crds.access.TenantNames;
import io.reflex.crds.access.TenantSecret;
import io.reflex.crds.v1alpha1.AuthMode;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.TenantAuth;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.dataplane.tenant.AccessToken;
import io.reflex.dataplane.tenant.AdmissionPlan;
import io.reflex.dataplane.tenant.SloTable;
import io.reflex.dataplane.tenant.TenantSpec;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import java.util.List;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the CRD → SLO-table translation on the node: a placed FlashTenant (fabric8 model
 * objects with fuzzed spec and status) → {@link TenantRows#row} → the checks the agent's dataplane applies to it
 * (SloTable problems, token digest, admission). The first byte chooses between a tenant the API server would admit
 * (every field within the CRD schema, a status as the operator writes it) and one of the schema's shape with any
 * values (a hand-edited or older status). Invariants: a row or an IllegalStateException/IllegalArgumentException with a message, never another
 * exception; the row's LBA window and port are the placement's; what the dataplane is told is either refused with
 * problems or a window inside the device; and an admitted tenant placed inside the device always yields a row the
 * dataplane accepts.
 */
class TenantRowsFuzzTest {
  /** The device the rows are checked against: 1 GiB of 512-byte sectors. */
  static final long DEVICE_SECTORS = 1L << 21;
  private static final DeviceModel MODEL = DeviceModels.load("sample");
  private static final String DNS_LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-";
  private static final String[] QUANTITY_SUFFIXES = {"", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "e3", "E2"};

  @FuzzTest(maxDuration = "60s")
  void tenantRow(FuzzedDataProvider data) {
    boolean admitted = data.consumeBoolean();
    FlashTenant t = admitted ? admittedTenant(data) : anyTenant(data);
    TenantPlacement p = t.getStatus().getPlacement();
    TenantSpec row;
    try {
      row = TenantRows.row(t);
    } catch (IllegalStateException | IllegalArgumentException e) {
      if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("refused without a message", e);
      return;
    }
    if (row.lbaBase() != p.getLbaOffset() || row.lbaCount() != p.getLbaCount() || row.port() != p.getPort()) {
      throw new AssertionError("the row " + row + " is not the placement's window/port " + describe(p));
    }
    if (!row.name().equals(TenantNames.dataplane(t))) throw new AssertionError("row name " + row.name());
    List<String> problems = new SloTable(List.of(row)).problems(DEVICE_SECTORS);
    if (problems.isEmpty()) {
      if (row.lbaBase() < 0 || row.lbaCount() <= 0 || row.lbaBase() > DEVICE_SECTORS - row.lbaCount()) {
        throw new AssertionError("the dataplane would serve a window outside the device: " + row);
      }
      if (row.token() != null) AccessToken.digest(row.token());
      AdmissionPlan.plan(MODEL, Map.of(), new SloTable(List.of(row)));
    } else if (admitted && p.getLbaOffset() + p.getLbaCount() <= DEVICE_SECTORS) {
      throw new AssertionError("an admitted tenant placed inside the device is refused by the dataplane: " + problems + " " + row);
    }
  }

  /** What the API server admits (CRD schema and CEL rules), with the status the operator writes. */
  static FlashTenant admittedTenant(FuzzedDataProvider data) {
    FlashTenantSpec s = new FlashTenantSpec();
    boolean lc = data.consumeBoolean();
    s.setServiceClass(lc ? TenantClass.LC : TenantClass.BE);
    if (lc || data.consumeBoolean()) s.setIops(data.consumeLong(1, 100_000_000));
    if (data.consumeBoolean()) s.setReadPercent(data.consumeInt(0, 100));
    if (lc) s.setP95LatencyMicros(data.consumeInt(50, 1_000_000));
    s.setCapacity(new Quantity(data.consumeLong(1, 1L << 40) + data.pickValue(QUANTITY_SUFFIXES)));
    s.setAuth(auth(data));
    TenantPlacement p = new TenantPlacement();
    p.setDevice(dnsLabel(data, 63));
    p.setNode(dnsLabel(data, 63));
    p.setPort(data.consumeInt(1, 65535));
    p.setLbaOffset(data.consumeLong(0, DEVICE_SECTORS + 16));
    p.setLbaCount(data.consumeLong(1, DEVICE_SECTORS + 16));
    p.setTokens(data.consumeLong(0, Long.MAX_VALUE));
    // The SLO the operator admitted (absent in statuses older operators wrote): the spec's, or an earlier one the
    // spec has since moved away from (a refused re-admission), possibly of the other class.
    if (data.consumeBoolean()) {
      boolean admittedLc = data.consumeBoolean() ? lc : !lc;
      p.setServiceClass(admittedLc ? TenantClass.LC : TenantClass.BE);
      if (admittedLc) {
        p.setIops(data.consumeLong(1, 100_000_000));
        p.setReadPercent(data.consumeInt(0, 100));
        p.setP95LatencyMicros(data.consumeInt(50, 1_000_000));
      }
    }
    FlashTenantStatus st = new FlashTenantStatus();
    st.setPlacement(p);
    // The operator publishes the token's hash with the placement; a tokenless tenant may keep an old one.
    boolean tokenless = s.getAuth() != null && s.getAuth().getMode() == AuthMode.None;
    if (!tokenless || data.consumeBoolean()) st.setTokenHash(TenantSecret.tokenHash(data.consumeString(64) + "x"));
    return tenant(dnsLabel(data, 63), dnsSubdomain(data), s, st);
  }

  /**
   * The schema's shape with any values: required fields present, enums as declared (what the API server guarantees
   * whatever the schema version), numbers, strings and optional fields unconstrained; metadata and status.placement
   * present (the agent only looks at placed tenants).
   */
  static FlashTenant anyTenant(FuzzedDataProvider data) {
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(data.pickValue(TenantClass.values()));
    if (data.consumeBoolean()) s.setIops(data.consumeLong());
    if (data.consumeBoolean()) s.setReadPercent(data.consumeInt());
    if (data.consumeBoolean()) s.setP95LatencyMicros(data.consumeInt());
    s.setCapacity(quantity(data.consumeString(24)));
    s.setAuth(auth(data));
    TenantPlacement p = new TenantPlacement();
    if (data.consumeBoolean()) p.setDevice(data.consumeString(80));
    if (data.consumeBoolean()) p.setNode(data.consumeString(80));
    if (data.consumeBoolean()) p.setPort(data.consumeInt());
    if (data.consumeBoolean()) p.setLbaOffset(data.consumeLong());
    if (data.consumeBoolean()) p.setLbaCount(data.consumeLong());
    if (data.consumeBoolean()) p.setTokens(data.consumeLong());
    if (data.consumeBoolean()) p.setServiceClass(data.pickValue(TenantClass.values()));
    if (data.consumeBoolean()) p.setIops(data.consumeLong());
    if (data.consumeBoolean()) p.setReadPercent(data.consumeInt());
    if (data.consumeBoolean()) p.setP95LatencyMicros(data.consumeInt());
    FlashTenantStatus st = new FlashTenantStatus();
    st.setPlacement(p);
    int hash = data.consumeInt(0, 3);
    if (hash == 1) st.setTokenHash(TenantSecret.tokenHash(data.consumeString(300)));
    if (hash == 2) st.setTokenHash(data.consumeString(100));
    if (hash == 3) st.setTokenHash(AccessToken.DIGEST_PREFIX + data.consumeString(70));
    return tenant(data.consumeString(80), data.consumeString(300), s, st);
  }

  /** A quantity as the client deserializes it: fabric8 parses it then, so unparseable strings never get here. */
  static Quantity quantity(String s) {
    try {
      return new Quantity(s);
    } catch (IllegalArgumentException e) {
      return new Quantity("1");
    }
  }

  private static TenantAuth auth(FuzzedDataProvider data) {
    int a = data.consumeInt(0, 3);
    if (a == 0) return null;
    TenantAuth auth = new TenantAuth();
    auth.setMode(a == 1 ? null : a == 2 ? AuthMode.Token : AuthMode.None);
    return auth;
  }

  private static FlashTenant tenant(String namespace, String name, FlashTenantSpec spec, FlashTenantStatus status) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    t.setSpec(spec);
    t.setStatus(status);
    return t;
  }

  /** A DNS label (namespaces, node and device names): 1–max of [a-z0-9-], alphanumeric at both ends. */
  static String dnsLabel(FuzzedDataProvider data, int max) {
    int n = data.consumeInt(1, max);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      char c = DNS_LABEL_CHARS.charAt(data.consumeInt(0, DNS_LABEL_CHARS.length() - 1));
      if ((i == 0 || i == n - 1) && c == '-') c = 'a';
      b.append(c);
    }
    return b.toString();
  }

  /** A DNS subdomain (object names): dot-separated labels, at most 253 characters. */
  static String dnsSubdomain(FuzzedDataProvider data) {
    StringBuilder b = new StringBuilder(dnsLabel(data, 63));
    while (data.consumeBoolean()) {
      String next = dnsLabel(data, 63);
      if (b.length() + 1 + next.length() > 253) break;
      b.append('.').append(next);
    }
    return b.toString();
  }

  private static String describe(TenantPlacement p) {
    return "port " + p.getPort() + ", lbaOffset " + p.getLbaOffset() + ", lbaCount " + p.getLbaCount();
  }
}

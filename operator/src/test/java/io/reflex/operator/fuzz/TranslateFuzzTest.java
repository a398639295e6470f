package io.reflex.operator.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.reflex.crds.v1alpha1.DeviceModelRef;
import io.reflex.crds.v1alpha1.DeviceSelector;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashDeviceSpec;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.InlineDeviceModel;
import io.reflex.crds.v1alpha1.PlacementConstraints;
import io.reflex.crds.v1alpha1.SelectorOperator;
import io.reflex.crds.v1alpha1.SelectorRequirement;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.crds.v1alpha1.TokenLimit;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.operator.Translate;
import io.reflex.operator.placement.Allocation;
import io.reflex.operator.placement.Device;
import io.reflex.operator.placement.Ledger;
import io.reflex.operator.placement.Outcome;
import io.reflex.operator.placement.PlacementPolicy;
import io.reflex.operator.placement.TenantRequest;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing of the operator's CRD → placement translation ({@link Translate}): a FlashTenant (fabric8
 * model objects with fuzzed spec and status) → the placement request ({@link Translate#request}), the allocation a
 * status records ({@link Translate#allocation}, how the ledger is rebuilt after a restart) and back
 * ({@link Translate#placement}); the request placed on an empty device ({@link Ledger#place}) and written back as a
 * status window; a FlashDevice's inline cost model ({@link Translate#model}). The first byte chooses
 * between objects the API server would admit (CRD schema and CEL rules) and objects of the schema's shape with any
 * values (required fields present, types and enums as declared; numbers, strings and optional fields unconstrained:
 * what an older schema version or a buggy writer could leave behind).
 * Invariants: a result or an IllegalArgumentException/IllegalStateException with a message, never another
 * exception; a request's capacity is the quantity asked for (to the byte, never wrapped); a placed extent lies inside
 * the device, holds the capacity and is the status window it is written as; an allocation read back from a status is
 * that window to the byte and round-trips to the same placement.
 */
class TranslateFuzzTest {
  private static final String[] SUFFIXES = {"", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "e3", "E18", "e-3"};
  private static final String LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._";
  private static final Long[] DEVICE_BYTES = {1L << 30, 1L << 40, Long.MAX_VALUE / 4096 * 4096, Long.MAX_VALUE};

  // ---- the fuzzer's findings, as plain regression tests (its inputs are opaque bytes for a FuzzedDataProvider) ------

  /** Was wrapped: "1446803456761533460Mi" became a request for 4702111234474901504 bytes (BigDecimal.longValue). */
  @Test
  void aCapacityBeyond2To63BytesIsRefusedNotWrapped() {
    assertThatThrownBy(() -> Translate.bytes(new Quantity("1446803456761533460Mi")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is more than 9223372036854775807 bytes");
    assertThatThrownBy(() -> Translate.bytes(new Quantity("16Ei"))).isInstanceOf(IllegalArgumentException.class);
    assertThat(Translate.bytes(new Quantity("1.5Ki"))).isEqualTo(1536);
  }

  /** Was a NumberFormatException without a message (fabric8 sizes "E" with an index out of bounds). */
  @Test
  void aQuantityFabric8CannotSizeIsRefusedWithAMessage() {
    assertThatThrownBy(() -> Translate.bytes(new Quantity("E")))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("'E' is not a usable quantity");
  }

  /** Was a placed extent of -9223372036854771712 bytes: the ledger rounds up to 4 KiB and wrapped. */
  @Test
  void aCapacityTheLedgerWouldRoundPast2To63IsRefused() {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("big").build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(TenantClass.BE);
    s.setCapacity(new Quantity("9223372036854775554"));
    t.setSpec(s);
    assertThatThrownBy(() -> Translate.request(t)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("capacity must be at most " + TenantRequest.MAX_CAPACITY_BYTES);
    s.setCapacity(new Quantity(Long.toString(TenantRequest.MAX_CAPACITY_BYTES)));
    assertThat(Translate.request(t).capacityBytes()).isEqualTo(TenantRequest.MAX_CAPACITY_BYTES);
  }

  /** Was an allocation of bytes [1584269667034221568, -71947462466732544): sectors × 512 wrapped. */
  @Test
  void aStatusWindowBeyond2To63BytesIsNoAllocation() {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("far").build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(TenantClass.BE);
    s.setCapacity(new Quantity("1Gi"));
    t.setSpec(s);
    TenantPlacement p = new TenantPlacement();
    p.setDevice("d");
    p.setNode("n");
    p.setPort(20000);
    p.setLbaOffset(9154408719510274086L);
    p.setLbaCount(71917071650297599L);
    FlashTenantStatus st = new FlashTenantStatus();
    st.setPlacement(p);
    t.setStatus(st);
    assertThat(Translate.allocation(t)).isEmpty();
    p.setLbaOffset(2048L);
    p.setLbaCount(2097152L);
    assertThat(Translate.allocation(t)).hasValueSatisfying(a -> assertThat(a.offsetBytes()).isEqualTo(2048L * 512));
  }

  @FuzzTest(maxDuration = "60s")
  void translate(FuzzedDataProvider data) {
    boolean admitted = data.consumeBoolean();
    FlashTenant t = tenant(data, admitted);
    request(t, data.pickValue(DEVICE_BYTES));
    allocation(t);
    model(device(data, admitted));
  }

  private static void request(FlashTenant t, long deviceBytes) {
    TenantRequest r;
    try {
      r = Translate.request(t);
    } catch (IllegalArgumentException | IllegalStateException e) {
      refused(e);
      return;
    }
    BigDecimal asked = Quantity.getAmountInBytes(t.getSpec().getCapacity());
    if (r.capacityBytes() <= 0 || asked.subtract(BigDecimal.valueOf(r.capacityBytes())).abs().compareTo(BigDecimal.ONE) >= 0) {
      throw new AssertionError("capacity " + t.getSpec().getCapacity() + " (" + asked.toPlainString() + " bytes) became a request for "
          + r.capacityBytes() + " bytes");
    }
    // Placed on an empty device: no fit, or an extent inside the device at least as large as asked, whose status
    // window (Translate.placement) is that extent.
    Ledger ledger = new Ledger(PlacementPolicy.BEST_FIT, 20000, 20100);
    ledger.upsertDevice(new Device("d", "n", Map.of(), Map.of(), true, deviceBytes, DeviceModels.load("null")));
    Outcome o = ledger.place(r);
    if (!o.fits()) return;
    Allocation a = o.allocation();
    if (a.offsetBytes() < 0 || a.sizeBytes() < r.capacityBytes() || a.offsetBytes() > deviceBytes - a.sizeBytes()) {
      throw new AssertionError("a request for " + r.capacityBytes() + " bytes was given [" + a.offsetBytes() + ", +" + a.sizeBytes()
          + ") of a " + deviceBytes + "-byte device");
    }
    TenantPlacement p = Translate.placement(a);
    if (p.getLbaOffset() * Allocation.SECTOR_BYTES != a.offsetBytes() || p.getLbaCount() * Allocation.SECTOR_BYTES != a.sizeBytes()) {
      throw new AssertionError("status window " + p.getLbaOffset() + "+" + p.getLbaCount() + " for extent " + a);
    }
  }

  private static void allocation(FlashTenant t) {
    Optional<Allocation> a;
    try {
      a = Translate.allocation(t);
    } catch (IllegalArgumentException | IllegalStateException e) {
      refused(e);
      return;
    }
    if (a.isEmpty()) return;
    TenantPlacement p = t.getStatus().getPlacement();
    BigDecimal offset = BigDecimal.valueOf(p.getLbaOffset()).multiply(BigDecimal.valueOf(Allocation.SECTOR_BYTES));
    BigDecimal size = BigDecimal.valueOf(p.getLbaCount()).multiply(BigDecimal.valueOf(Allocation.SECTOR_BYTES));
    if (offset.compareTo(BigDecimal.valueOf(a.get().offsetBytes())) != 0 || size.compareTo(BigDecimal.valueOf(a.get().sizeBytes())) != 0) {
      throw new AssertionError("status window lbaOffset " + p.getLbaOffset() + " lbaCount " + p.getLbaCount() + " became bytes ["
          + a.get().offsetBytes() + ", +" + a.get().sizeBytes() + ")");
    }
    TenantPlacement back = Translate.placement(a.get());
    if (!back.getLbaOffset().equals(p.getLbaOffset()) || !back.getLbaCount().equals(p.getLbaCount()) || !back.getPort().equals(p.getPort())) {
      throw new AssertionError("placement does not round-trip: " + p.getLbaOffset() + "+" + p.getLbaCount() + " -> "
          + back.getLbaOffset() + "+" + back.getLbaCount());
    }
  }

  private static void model(FlashDevice d) {
    try {
      DeviceModel m = Translate.model(d);
      if (m.readCost4k() <= 0 || m.writeCost4k() <= 0) throw new AssertionError("model " + m);
    } catch (IllegalArgumentException | IllegalStateException e) {
      refused(e);
    }
  }

  private static void refused(RuntimeException e) {
    if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("refused without a message", e);
  }

  // ---- generators -----------------------------------------------------------------------------------------------

  static FlashTenant tenant(FuzzedDataProvider data, boolean admitted) {
    FlashTenantSpec s = new FlashTenantSpec();
    if (admitted) {
      boolean lc = data.consumeBoolean();
      s.setServiceClass(lc ? TenantClass.LC : TenantClass.BE);
      if (lc || data.consumeBoolean()) s.setIops(data.consumeLong(1, 100_000_000));
      if (data.consumeBoolean()) s.setReadPercent(data.consumeInt(0, 100));
      if (lc) s.setP95LatencyMicros(data.consumeInt(50, 1_000_000));
    } else {
      s.setServiceClass(data.pickValue(TenantClass.values()));
      if (data.consumeBoolean()) s.setIops(data.consumeLong());
      if (data.consumeBoolean()) s.setReadPercent(data.consumeInt());
      if (data.consumeBoolean()) s.setP95LatencyMicros(data.consumeInt());
    }
    try {
      s.setCapacity(new Quantity(quantity(data, admitted)));
    } catch (IllegalArgumentException e) { // fabric8 parses while deserializing: such a string never gets here
      s.setCapacity(new Quantity("1"));
    }
    if (data.consumeBoolean()) s.setPlacement(constraints(data, admitted));
    FlashTenantStatus st = new FlashTenantStatus();
    if (data.consumeBoolean()) {
      TenantPlacement p = new TenantPlacement();
      if (admitted || data.consumeBoolean()) p.setDevice(label(data));
      if (admitted || data.consumeBoolean()) p.setNode(label(data));
      if (admitted || data.consumeBoolean()) p.setPort(admitted ? data.consumeInt(1, 65535) : data.consumeInt());
      if (admitted || data.consumeBoolean()) p.setLbaOffset(admitted ? data.consumeLong(0, Long.MAX_VALUE) : data.consumeLong());
      if (admitted || data.consumeBoolean()) p.setLbaCount(admitted ? data.consumeLong(1, Long.MAX_VALUE) : data.consumeLong());
      if (data.consumeBoolean()) p.setTokens(admitted ? data.consumeLong(0, Long.MAX_VALUE) : data.consumeLong());
      st.setPlacement(p);
    }
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withNamespace(label(data)).withName(label(data)).build());
    t.setSpec(s);
    t.setStatus(st);
    return t;
  }

  /** A quantity string: digits (maybe a fraction) and a suffix, as the CRD's CEL rule accepts (> 0) — or any string. */
  static String quantity(FuzzedDataProvider data, boolean admitted) {
    if (!admitted && data.consumeBoolean()) return data.consumeString(30); // a string the schema's type allows
    String digits = Long.toString(data.consumeLong(admitted ? 1 : 0, Long.MAX_VALUE));
    if (data.consumeBoolean()) digits += "." + data.consumeInt(0, 999);
    return digits + data.pickValue(SUFFIXES);
  }

  static PlacementConstraints constraints(FuzzedDataProvider data, boolean admitted) {
    PlacementConstraints p = new PlacementConstraints();
    if (data.consumeBoolean()) p.setNodeSelector(labels(data, admitted));
    if (data.consumeBoolean()) p.setZone(label(data));
    if (data.consumeBoolean()) {
      DeviceSelector ds = new DeviceSelector();
      if (data.consumeBoolean()) ds.setMatchLabels(labels(data, admitted));
      if (data.consumeBoolean()) {
        List<SelectorRequirement> exprs = new ArrayList<>();
        int n = data.consumeInt(0, 4);
        for (int i = 0; i < n; i++) {
          SelectorOperator op = data.pickValue(SelectorOperator.values());
          List<String> values = null;
          if (op == SelectorOperator.In || op == SelectorOperator.NotIn || !admitted && data.consumeBoolean()) {
            values = new ArrayList<>();
            int k = data.consumeInt(admitted ? 1 : 0, 3);
            for (int j = 0; j < k; j++) values.add(label(data));
          }
          exprs.add(new SelectorRequirement(label(data), op, values));
        }
        ds.setMatchExpressions(exprs);
      }
      p.setDeviceSelector(ds);
    }
    return p;
  }

  private static Map<String, String> labels(FuzzedDataProvider data, boolean admitted) {
    Map<String, String> m = new LinkedHashMap<>();
    int n = data.consumeInt(0, 3);
    for (int i = 0; i < n; i++) m.put(label(data), admitted || data.consumeBoolean() ? label(data) : data.consumeString(80));
    return m;
  }

  static FlashDevice device(FuzzedDataProvider data, boolean admitted) {
    FlashDevice d = new FlashDevice();
    d.setMetadata(new ObjectMetaBuilder().withName(label(data)).build());
    FlashDeviceSpec spec = new FlashDeviceSpec();
    DeviceModelRef ref = new DeviceModelRef();
    if (data.consumeBoolean()) {
      ref.setName(data.pickValue(new String[] {"sample", "aws-i3", "null", "virtio-vm", "virtio-vm-dataplane", "nope", label(data)}));
    } else {
      InlineDeviceModel m = new InlineDeviceModel();
      m.setReadCost4k(admitted ? data.consumeInt(1, 1_000_000) : data.consumeInt());
      m.setWriteCost4k(admitted ? data.consumeInt(1, 1_000_000) : data.consumeInt());
      if (data.consumeBoolean()) m.setUnlimited(data.consumeBoolean());
      int n = data.consumeInt(0, 4);
      if (admitted && !Boolean.TRUE.equals(m.getUnlimited())) n = Math.max(n, 1);
      if (n > 0 || data.consumeBoolean()) {
        List<TokenLimit> limits = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          TokenLimit l = new TokenLimit();
          l.setP95Micros(admitted ? data.consumeInt(1, 10_000_000) : data.consumeInt());
          l.setMixedTokensPerSec(admitted ? data.consumeLong(0, Long.MAX_VALUE) : data.consumeLong());
          l.setReadOnlyTokensPerSec(admitted ? data.consumeLong(0, Long.MAX_VALUE) : data.consumeLong());
          limits.add(l);
        }
        m.setTokenLimits(limits);
      }
      ref.setInline(m);
    }
    spec.setDeviceModel(ref);
    d.setSpec(spec);
    return d;
  }

  /** A label-ish name: 1–20 of [a-z0-9-._], alphanumeric at both ends. */
  static String label(FuzzedDataProvider data) {
    int n = data.consumeInt(1, 20);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      char c = LABEL_CHARS.charAt(data.consumeInt(0, LABEL_CHARS.length() - 1));
      if ((i == 0 || i == n - 1) && !Character.isLetterOrDigit(c)) c = 'a';
      b.append(c);
    }
    return b.toString();
  }
}

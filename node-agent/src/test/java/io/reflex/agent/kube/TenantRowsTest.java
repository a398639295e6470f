package io.reflex.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.reflex.crds.access.TenantSecret;
import io.reflex.dataplane.tenant.AccessToken;
import io.reflex.crds.v1alpha1.AuthMode;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.TenantAuth;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.dataplane.tenant.TenantSpec;
import org.junit.jupiter.api.Test;

class TenantRowsTest {
  static FlashTenant placed(String ns, String name, TenantClass cls) {
    FlashTenant t = new FlashTenant();
    t.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    FlashTenantSpec s = new FlashTenantSpec();
    s.setServiceClass(cls);
    if (cls == TenantClass.LC) {
      s.setIops(5000L);
      s.setReadPercent(80);
      s.setP95LatencyMicros(500);
    }
    s.setCapacity(new Quantity("1Gi"));
    t.setSpec(s);
    TenantPlacement p = new TenantPlacement();
    p.setDevice("d");
    p.setNode("n");
    p.setPort(20001);
    p.setLbaOffset(2048L);
    p.setLbaCount(2097152L);
    FlashTenantStatus st = new FlashTenantStatus();
    st.setPlacement(p);
    t.setStatus(st);
    return t;
  }

  static FlashTenant withTokenHash(FlashTenant t, String token) {
    t.getStatus().setTokenHash(TenantSecret.tokenHash(token));
    return t;
  }

  @Test
  void aPlacedLcTenantBecomesARowWithItsExtentPortSloAndToken() {
    TenantSpec row = TenantRows.row(withTokenHash(placed("shop", "db", TenantClass.LC), "s3cret"));
    // The dataplane gets the token's digest (it takes sha256:... in place of the token), never the token.
    assertThat(row).isEqualTo(new TenantSpec("shop.db", 20001, io.reflex.dataplane.tenant.TenantClass.LC, 5000, 80, 500,
        2048, 2097152, AccessToken.digestValue("s3cret")));
    assertThat(row.problems()).isEmpty();
  }

  @Test
  void theAdmittedSloIsServedNotARaisedSpecTheOperatorRefused() {
    FlashTenant t = withTokenHash(placed("shop", "db", TenantClass.LC), "s3cret");
    TenantPlacement p = t.getStatus().getPlacement();
    p.setServiceClass(TenantClass.LC);
    p.setIops(5000L);
    p.setReadPercent(80);
    p.setP95LatencyMicros(500);
    // The user raised the reservation and tightened the SLO; the operator refused (ReadmitRefused) and kept the
    // placement's admitted values.
    t.getSpec().setIops(500_000L);
    t.getSpec().setReadPercent(50);
    t.getSpec().setP95LatencyMicros(100);
    TenantSpec row = TenantRows.row(t);
    assertThat(row.iops()).isEqualTo(5000);
    assertThat(row.readPercent()).isEqualTo(80);
    assertThat(row.p95Micros()).isEqualTo(500);
  }

  @Test
  void aTenantAdmittedAsBeIsServedAsBeEvenIfItsSpecNowSaysLc() {
    FlashTenant t = withTokenHash(placed("shop", "db", TenantClass.LC), "s3cret");
    t.getStatus().getPlacement().setServiceClass(TenantClass.BE);
    TenantSpec row = TenantRows.row(t);
    assertThat(row.tenantClass()).isEqualTo(io.reflex.dataplane.tenant.TenantClass.BE);
    assertThat(row.iops()).isZero();
    assertThat(row.p95Micros()).isZero();
  }

  @Test
  void aTenantWhoseTokenHashIsNotPublishedYetWaits() {
    assertThatThrownBy(() -> TenantRows.row(placed("shop", "db", TenantClass.BE)))
        .hasMessageContaining("waiting for the operator to publish the token's hash");
  }

  @Test
  void authNoneNeedsNoSecret() {
    FlashTenant t = placed("shop", "scratch", TenantClass.BE);
    TenantAuth auth = new TenantAuth();
    auth.setMode(AuthMode.None);
    t.getSpec().setAuth(auth);
    assertThat(TenantRows.row(t).token()).isNull();
  }

  @Test
  void longNamesAreShortenedButStayValidAndDistinct() {
    String ns = "a-very-long-namespace-name-for-the-analytics-team";
    String a = TenantRows.dataplaneName(placed(ns, "warehouse-shard-0001", TenantClass.BE));
    String b = TenantRows.dataplaneName(placed(ns, "warehouse-shard-0002", TenantClass.BE));
    assertThat(a).hasSizeLessThanOrEqualTo(63).isNotEqualTo(b);
    assertThat(TenantRows.row(withTokenHash(placed(ns, "warehouse-shard-0001", TenantClass.BE), "t")).problems()).isEmpty();
  }
}

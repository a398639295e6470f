package io.reflex.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.reflex.crds.v1alpha1.AuthMode;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.crds.v1alpha1.FlashTenantSpec;
import io.reflex.crds.v1alpha1.FlashTenantStatus;
import io.reflex.crds.v1alpha1.TenantAuth;
import io.reflex.crds.v1alpha1.TenantClass;
import io.reflex.crds.v1alpha1.TenantPlacement;
import io.reflex.dataplane.tenant.TenantSpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
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

  static Secret secret(String token) {
    return new SecretBuilder().withData(Map.of("token", Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8))))
        .build();
  }

  @Test
  void aPlacedLcTenantBecomesARowWithItsExtentPortSloAndToken() {
    TenantSpec row = TenantRows.row(placed("shop", "db", TenantClass.LC), secret("s3cret"));
    assertThat(row).isEqualTo(new TenantSpec("shop.db", 20001, io.reflex.dataplane.tenant.TenantClass.LC, 5000, 80, 500,
        2048, 2097152, "s3cret"));
    assertThat(row.problems()).isEmpty();
  }

  @Test
  void aTenantWhoseSecretIsNotThereYetWaits() {
    assertThatThrownBy(() -> TenantRows.row(placed("shop", "db", TenantClass.BE), null))
        .hasMessageContaining("waiting for the token in Secret shop/db-reflex");
  }

  @Test
  void authNoneNeedsNoSecret() {
    FlashTenant t = placed("shop", "scratch", TenantClass.BE);
    TenantAuth auth = new TenantAuth();
    auth.setMode(AuthMode.None);
    t.getSpec().setAuth(auth);
    assertThat(TenantRows.row(t, null).token()).isNull();
  }

  @Test
  void longNamesAreShortenedButStayValidAndDistinct() {
    String ns = "a-very-long-namespace-name-for-the-analytics-team";
    String a = TenantRows.dataplaneName(placed(ns, "warehouse-shard-0001", TenantClass.BE));
    String b = TenantRows.dataplaneName(placed(ns, "warehouse-shard-0002", TenantClass.BE));
    assertThat(a).hasSizeLessThanOrEqualTo(63).isNotEqualTo(b);
    assertThat(TenantRows.row(placed(ns, "warehouse-shard-0001", TenantClass.BE), secret("t")).problems()).isEmpty();
  }
}

package io.reflex.operator;

import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBase;
import com.fasterxml.jackson.databind.deser.DefaultDeserializationContext;
import com.fasterxml.jackson.databind.deser.SettableBeanProperty;
import com.fasterxml.jackson.databind.ser.PropertyWriter;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.reflex.crds.v1alpha1.FlashTenant;
import io.reflex.devmodels.TenantDemand;
import io.reflex.operator.placement.Allocation;
import io.reflex.operator.tenant.Exposure;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's client serialization writes and reads exactly what the client's own does (managed fields aside),
 * without reflection.
 */
class ClientSerializationTest {
  private static final KubernetesSerialization PLAIN = new KubernetesSerialization();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final KubernetesSerialization FAST = ClientSerialization.create(MAPPER);

  static {
    PLAIN.registerKubernetesResource(FlashTenant.class); // as Quarkus registers the CRD classes in both
    FAST.registerKubernetesResource(FlashTenant.class);
  }

  /** A placed tenant as the API server sends it: status, conditions, managed fields, labels, annotations. */
  private static final String TENANT = """
      {"kind":"FlashTenant","apiVersion":"reflex.io/v1alpha1",
       "metadata":{"name":"t-00001","namespace":"bench-1","uid":"0b6a8f5e-1f7e-4c1a-9d51-0a5b2d9c7e11",
        "resourceVersion":"48213","generation":1,"creationTimestamp":"2026-12-07T06:00:00Z",
        "labels":{"team":"a"},"annotations":{"note":"x"},
        "managedFields":[{"manager":"reflex-operator","operation":"Apply","apiVersion":"reflex.io/v1alpha1",
          "time":"2026-12-07T06:00:01Z","fieldsType":"FieldsV1","subresource":"status",
          "fieldsV1":{"f:status":{"f:phase":{},"f:conditions":{"k:{\\"type\\":\\"Admitted\\"}":{".":{},"f:status":{}}}}}}]},
       "spec":{"class":"LC","iops":20000,"readPercent":95,"p95LatencyMicros":500,"capacity":"10Gi"},
       "status":{"phase":"Placed","observedGeneration":1,"endpoint":"t-00001.bench-1.svc:20000","secretName":"t-00001-reflex",
        "placement":{"device":"fd-0001","node":"node-0001","lbaOffset":0,"port":20000},
        "conditions":[{"type":"Admitted","status":"True","reason":"Placed","message":"placed on fd-0001",
          "lastTransitionTime":"2026-12-07T06:00:01Z","observedGeneration":1}]}}
      """;

  private static List<Object> written() {
    FlashTenant t = PLAIN.unmarshal(TENANT, FlashTenant.class);
    Allocation a = new Allocation("bench-1/t-00001", "fd-0001", "node-0001", 0, 10L << 30, 20000, 1234,
        TenantDemand.lc("bench-1/t-00001", 20000, 95, 500));
    FlashTenant statusOnly = new FlashTenant();
    statusOnly.setMetadata(new ObjectMetaBuilder().withName("t-00001").withNamespace("bench-1").build());
    statusOnly.setStatus(t.getStatus());
    return List.of(t, statusOnly, Exposure.service(t, a, 10809, null), Exposure.endpointSlice(t, a, "198.18.0.1", 10809),
        Exposure.secret(t, a, "token", 10809));
  }

  @Test
  void writesExactlyWhatTheClientsOwnSerializationWrites() {
    for (Object o : written()) {
      assertThat(FAST.asJson(o)).isEqualTo(PLAIN.asJson(o));
    }
  }

  @Test
  void readsWhatTheApiServerSendsAsTheClientsOwnDoes() {
    // Compared as the client's own serialization writes them (the CRD model classes have no equals); the same but
    // for the managed fields, which are not read.
    FlashTenant plain = PLAIN.unmarshal(TENANT, FlashTenant.class);
    assertThat(plain.getMetadata().getManagedFields()).hasSize(1);
    plain.getMetadata().setManagedFields(List.of());
    FlashTenant fast = FAST.unmarshal(TENANT, FlashTenant.class);
    assertThat(fast.getMetadata().getManagedFields()).isEmpty();
    assertThat(PLAIN.asJson(fast)).isEqualTo(PLAIN.asJson(plain)).contains("\"phase\":\"Placed\"", "\"port\":20000",
        "\"uid\":\"0b6a8f5e-1f7e-4c1a-9d51-0a5b2d9c7e11\"", "\"note\":\"x\"");
    Object byKind = FAST.unmarshal(TENANT); // by apiVersion and kind, as watch events are read
    assertThat(byKind).isInstanceOf(FlashTenant.class);
    assertThat(PLAIN.asJson(byKind)).isEqualTo(PLAIN.asJson(fast));
    for (Object o : written()) {
      ((HasMetadata) o).getMetadata().setManagedFields(List.of()); // the tenant read above carried some
      String json = PLAIN.asJson(o);
      assertThat(PLAIN.asJson(FAST.unmarshal(json, o.getClass()))).isEqualTo(json);
    }
  }

  @Test
  void modelPropertiesAreNotAccessedByReflection() throws Exception {
    for (Class<?> type : List.of(FlashTenant.class, Service.class, EndpointSlice.class, Secret.class)) {
      JsonSerializer<Object> ser = MAPPER.getSerializerProviderInstance().findValueSerializer(type);
      List<String> writers = new ArrayList<>();
      ser.properties().forEachRemaining((PropertyWriter w) -> writers.add(w.getClass().getName()));
      writers.remove("com.fasterxml.jackson.databind.ser.AnyGetterWriter"); // additionalProperties: one map, once
      assertThat(writers).as(type.getSimpleName() + " writers").isNotEmpty()
          .allMatch(n -> n.contains(".blackbird."), "generated by Blackbird");

      DefaultDeserializationContext ctx = ((DefaultDeserializationContext) MAPPER.getDeserializationContext())
          .createDummyInstance(MAPPER.getDeserializationConfig());
      JsonDeserializer<Object> deser = ctx.findRootValueDeserializer(MAPPER.constructType(type));
      List<String> setters = new ArrayList<>();
      ((BeanDeserializerBase) deser).properties().forEachRemaining((SettableBeanProperty p) -> setters.add(p.getClass().getName()));
      assertThat(setters).as(type.getSimpleName() + " setters").isNotEmpty()
          .allMatch(n -> n.contains(".blackbird."), "generated by Blackbird");
    }
  }
}

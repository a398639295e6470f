package io.reflex.crds.generate;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.reflex.crds.v1alpha1.ItemSchema;
import io.reflex.crds.v1alpha1.ListMapKeys;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What the Fabric8 generator cannot express through annotations, applied to the generated CRDs:
 * <ul>
 *   <li>printer columns in the order the {@code @AdditionalPrinterColumn}s are declared (the generator sorts
 *       them by JSON path, which would print AGE first);
 *   <li>{@code x-kubernetes-list-type: map} for fields marked {@link ListMapKeys};
 *   <li>item constraints for lists and map values marked {@link ItemSchema};
 *   <li>lists of {@link Condition}: the metav1.Condition schema (required fields, patterns, status enum) and
 *       list-map keyed by type, so the operator and node agents can each own their condition under
 *       server-side apply.
 * </ul>
 */
public final class ReflexCrdPostProcessor implements CRDPostProcessor {

  private static final String MODEL_PACKAGE = "io.reflex.crds.";
  private final Map<String, Class<?>> byKind;

  public ReflexCrdPostProcessor(List<Class<? extends HasMetadata>> resources) {
    this.byKind = resources.stream().collect(Collectors.toMap(HasMetadata::getKind, Function.identity()));
  }

  @Override
  public HasMetadata process(HasMetadata resource, String crdSpecVersion) {
    if (!(resource instanceof CustomResourceDefinition crd)) {
      return resource;
    }
    Class<?> type = byKind.get(crd.getSpec().getNames().getKind());
    if (type == null) {
      return resource;
    }
    Type[] specAndStatus = ((ParameterizedType) type.getGenericSuperclass()).getActualTypeArguments();
    for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
      orderPrinterColumns(v, type);
      Map<String, JSONSchemaProps> top = v.getSchema().getOpenAPIV3Schema().getProperties();
      walk(top.get("spec"), (Class<?>) specAndStatus[0]);
      walk(top.get("status"), (Class<?>) specAndStatus[1]);
    }
    return crd;
  }

  private static void orderPrinterColumns(CustomResourceDefinitionVersion v, Class<?> type) {
    List<String> declared = Arrays.stream(type.getAnnotationsByType(AdditionalPrinterColumn.class))
        .map(AdditionalPrinterColumn::name).toList();
    if (v.getAdditionalPrinterColumns() != null) {
      v.getAdditionalPrinterColumns().sort(Comparator.comparingInt((CustomResourceColumnDefinition c) -> {
        int i = declared.indexOf(c.getName());
        return i < 0 ? Integer.MAX_VALUE : i;
      }));
    }
  }

  /** Walks a model class and its schema side by side (by JSON property name). */
  private static void walk(JSONSchemaProps schema, Class<?> type) {
    if (schema == null || schema.getProperties() == null) {
      return;
    }
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        JsonProperty jp = f.getAnnotation(JsonProperty.class);
        String name = jp != null && !jp.value().isEmpty() ? jp.value() : f.getName();
        JSONSchemaProps prop = schema.getProperties().get(name);
        if (prop == null) {
          continue;
        }
        ItemSchema items = f.getAnnotation(ItemSchema.class);
        if (items != null) {
          itemSchema(prop, items);
        }
        if (List.class.isAssignableFrom(f.getType())) {
          Type arg = ((ParameterizedType) f.getGenericType()).getActualTypeArguments()[0];
          ListMapKeys keys = f.getAnnotation(ListMapKeys.class);
          if (keys != null) {
            prop.setXKubernetesListType("map");
            prop.setXKubernetesListMapKeys(List.of(keys.value()));
          }
          if (arg == Condition.class) {
            conditions(prop);
          } else if (arg instanceof Class<?> element && isModel(element) && prop.getItems() != null) {
            walk(prop.getItems().getSchema(), element);
          }
        } else if (isModel(f.getType())) {
          walk(prop, f.getType());
        }
      }
    }
  }

  private static void itemSchema(JSONSchemaProps prop, ItemSchema items) {
    JSONSchemaProps item = prop.getItems() != null ? prop.getItems().getSchema()
        : prop.getAdditionalProperties() != null ? prop.getAdditionalProperties().getSchema() : null;
    if (item == null) {
      throw new IllegalStateException("@ItemSchema on a field that is neither a list nor a map: " + prop);
    }
    if (items.maxLength() > 0) {
      item.setMaxLength(items.maxLength());
    }
    if (!items.pattern().isEmpty()) {
      item.setPattern(items.pattern());
    }
  }

  private static boolean isModel(Class<?> type) {
    return !type.isEnum() && type.getName().startsWith(MODEL_PACKAGE);
  }

  /** The metav1.Condition schema, as Kubernetes' own types declare it. */
  private static void conditions(JSONSchemaProps list) {
    list.setXKubernetesListType("map");
    list.setXKubernetesListMapKeys(List.of("type"));
    list.setMaxItems(32L);
    JSONSchemaProps item = list.getItems().getSchema();
    item.setRequired(List.of("type", "status", "lastTransitionTime", "reason", "message"));
    Map<String, JSONSchemaProps> p = item.getProperties();
    p.get("type").setMaxLength(316L);
    p.get("type").setPattern(
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$");
    p.get("type").setDescription("type of condition in CamelCase, e.g. Ready");
    p.get("status").setEnum(enumOf("True", "False", "Unknown"));
    p.get("observedGeneration").setMinimum(0.0);
    p.get("observedGeneration").setFormat("int64");
    p.get("lastTransitionTime").setFormat("date-time");
    p.get("reason").setMinLength(1L);
    p.get("reason").setMaxLength(1024L);
    p.get("reason").setPattern("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$");
    p.get("message").setMaxLength(32768L);
  }

  private static List<JsonNode> enumOf(String... values) {
    return Arrays.stream(values).<JsonNode>map(TextNode::valueOf).toList();
  }
}

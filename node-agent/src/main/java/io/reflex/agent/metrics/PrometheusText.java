package io.reflex.agent.metrics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges Prometheus text expositions (format 0.0.4) of several dataplanes into one, adding a label to every sample
 * (device="..."): each metric family appears once, with its HELP and TYPE, followed by every source's samples.
 */
public final class PrometheusText {
  private PrometheusText() {}

  /** A source's exposition and the label value its samples get. */
  public record Source(String labelValue, String text) {}

  public static String merge(String label, List<Source> sources) {
    Map<String, StringBuilder> headers = new LinkedHashMap<>();
    Map<String, StringBuilder> samples = new LinkedHashMap<>();
    for (Source s : sources) {
      String family = "";
      for (String line : s.text().split("\n")) {
        if (line.isBlank()) continue;
        if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
          family = line.substring(7).split(" ", 2)[0];
          StringBuilder h = headers.computeIfAbsent(family, k -> new StringBuilder());
          if (h.indexOf(line.substring(0, 7)) < 0) h.append(line).append('\n');
          samples.computeIfAbsent(family, k -> new StringBuilder());
          continue;
        }
        if (line.startsWith("#")) continue;
        samples.computeIfAbsent(family, k -> new StringBuilder()).append(withLabel(line, label, s.labelValue())).append('\n');
      }
    }
    StringBuilder out = new StringBuilder();
    for (var e : samples.entrySet()) {
      StringBuilder h = headers.get(e.getKey());
      if (h != null) out.append(h);
      out.append(e.getValue());
    }
    return out.toString();
  }

  /** {@code name{a="b"} 1} becomes {@code name{label="value",a="b"} 1}; {@code name 1} becomes {@code name{label="value"} 1}. */
  static String withLabel(String sample, String label, String value) {
    String pair = label + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    int brace = sample.indexOf('{');
    int space = sample.indexOf(' ');
    if (brace >= 0 && (space < 0 || brace < space)) {
      boolean empty = sample.charAt(brace + 1) == '}';
      return sample.substring(0, brace + 1) + pair + (empty ? "" : ",") + sample.substring(brace + 1);
    }
    if (space < 0) return sample;
    return sample.substring(0, space) + "{" + pair + "}" + sample.substring(space);
  }
}

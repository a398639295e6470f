package io.reflex.agent.config;

import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.crds.v1alpha1.Engine;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One device the agent's configuration names:
 * {@code TARGET[,engine=E][,model=M][,claim=C][,name=N][,capacity=Q][,create=Q]}.
 * TARGET is a path ({@code /dev/nvme0n1}, a plain file), a PCI address ({@code 0000:00:04.0}) or a glob of either
 * ({@code /dev/nvme*n1}, {@code 0000:00:0*.0}). The agent touches nothing else.
 *
 * @param target   path, PCI address or glob
 * @param engine   uring (default for paths), file, memory, spdk (default for PCI addresses)
 * @param model    device model name (see devmodels/), .yaml path, or "calibrate" (the agent measures the device before
 *                 it is offered); default "sample"
 * @param claim    Never (default) or IfUnused (the agent may bind a PCI function to a user-space driver)
 * @param name     FlashDevice name, or null to derive it from node and target
 * @param capacity serve at most this much (a Kubernetes quantity, e.g. 64Gi), or null for the whole device
 * @param create   for a plain file: create it (sparse, this size) when it does not exist; never resized; or null
 */
public record DeviceSpec(String target, Engine engine, String model, ClaimPolicy claim, String name, String capacity,
                         String create) {
  static final Pattern PCI = Pattern.compile("[0-9a-fA-F*?]{4}:[0-9a-fA-F*?]{2}:[0-9a-fA-F*?]{2}\\.[0-7*?]");
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  public DeviceSpec {
    if (target == null || target.isBlank()) throw new IllegalArgumentException("device spec: empty target");
    if (!isPci(target) && !target.startsWith("/")) {
      throw new IllegalArgumentException("device spec '" + target + "': give an absolute path, a PCI address "
          + "(0000:00:04.0) or a glob of either");
    }
    if (name != null && !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("device spec '" + target + "': name '" + name
          + "' is not a valid Kubernetes name (lower-case letters, digits, '-' and '.')");
    }
    if (engine == Engine.SPDK && !isPci(target)) {
      throw new IllegalArgumentException("device spec '" + target + "': engine spdk drives a PCI function: give its address");
    }
    if (create != null && (isPci(target) || target.startsWith("/dev/") || target.contains("*") || target.contains("?"))) {
      throw new IllegalArgumentException("device spec '" + target + "': create=SIZE makes a plain file: give its path, "
          + "not a device, PCI address or glob");
    }
    if (engine == Engine.MEMORY && capacity == null) {
      throw new IllegalArgumentException("device spec '" + target + "': engine memory needs capacity=SIZE");
    }
  }

  public static boolean isPci(String target) {
    return PCI.matcher(target).matches();
  }

  public boolean pci() {
    return isPci(target);
  }

  public boolean glob() {
    return target.contains("*") || target.contains("?") || target.contains("[");
  }

  /** The same spec for one match of a glob. */
  public DeviceSpec withTarget(String concrete) {
    return new DeviceSpec(concrete, engine, model, claim, glob() ? null : name, capacity, create);
  }

  /** Parses {@code TARGET[,key=value...]}; every problem is an IllegalArgumentException naming the spec. */
  public static DeviceSpec parse(String spec) {
    String[] parts = spec.trim().split(",");
    String target = parts[0].trim();
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      int eq = p.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException("device spec '" + spec + "': expected key=value, got '" + p + "'");
      String key = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      if (!Map.of("engine", 1, "model", 1, "claim", 1, "name", 1, "capacity", 1, "create", 1).containsKey(key)) {
        throw new IllegalArgumentException("device spec '" + spec + "': unknown key '" + key
            + "' (known: engine, model, claim, name, capacity, create)");
      }
      if (opts.put(key, p.substring(eq + 1).trim()) != null) {
        throw new IllegalArgumentException("device spec '" + spec + "': '" + key + "' given twice");
      }
    }
    Engine engine = opts.containsKey("engine") ? engine(spec, opts.get("engine"))
        : isPci(target) ? Engine.SPDK : Engine.URING;
    ClaimPolicy claim = ClaimPolicy.Never;
    if (opts.containsKey("claim")) {
      claim = switch (opts.get("claim").toLowerCase(Locale.ROOT)) {
        case "never" -> ClaimPolicy.Never;
        case "ifunused" -> ClaimPolicy.IfUnused;
        default -> throw new IllegalArgumentException("device spec '" + spec + "': claim must be Never or IfUnused, got '"
            + opts.get("claim") + "'");
      };
    }
    return new DeviceSpec(target, engine, opts.getOrDefault("model", "sample"), claim, opts.get("name"), opts.get("capacity"),
        opts.get("create"));
  }

  private static Engine engine(String spec, String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "uring", "auto" -> Engine.URING;
      case "file" -> Engine.FILE;
      case "memory" -> Engine.MEMORY;
      case "spdk" -> Engine.SPDK;
      default -> throw new IllegalArgumentException("device spec '" + spec + "': engine must be uring, file, memory or spdk, got '"
          + value + "'");
    };
  }
}

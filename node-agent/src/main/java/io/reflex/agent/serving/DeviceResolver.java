package io.reflex.agent.serving;

import io.fabric8.kubernetes.api.model.Quantity;
import io.reflex.agent.config.AgentSettings;
import io.reflex.agent.config.DeviceSpec;
import io.reflex.agent.discovery.PciFunction;
import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.crds.v1alpha1.Engine;
import io.reflex.crds.v1alpha1.FlashDevice;
import io.reflex.crds.v1alpha1.FlashDeviceSpec;
import io.reflex.crds.v1alpha1.InlineDeviceModel;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;
import io.reflex.devmodels.TokenLimit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Which devices this agent is responsible for: the configured specs (globs expanded against the host) and the
 * FlashDevices an admin created for this node. Nothing else is ever touched.
 */
public final class DeviceResolver {
  /** The devices, and problems with the configuration an admin should see (logged; a bad spec is not fatal). */
  public record Resolved(List<ManagedDevice> devices, List<String> problems) {}

  private final AgentSettings settings;
  private final Path modelDir;

  public DeviceResolver(AgentSettings settings) {
    this.settings = settings;
    this.modelDir = settings.stateDir().resolve("models");
  }

  public Resolved resolve(List<FlashDevice> adminDevices, Supplier<List<PciFunction>> pci) {
    Map<String, ManagedDevice> out = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (DeviceSpec spec : settings.devices()) {
      List<String> targets;
      try {
        targets = expand(spec, pci);
      } catch (RuntimeException e) {
        problems.add("device spec " + spec.target() + ": " + e.getMessage());
        continue;
      }
      if (targets.isEmpty() && spec.glob()) problems.add("device spec " + spec.target() + " matches nothing");
      for (String target : targets) {
        DeviceSpec one = spec.withTarget(target);
        String name = one.name() != null ? one.name() : nameFor(target);
        boolean pciTarget = DeviceSpec.isPci(target);
        long capacity = one.capacity() == null ? 0 : bytes(one.capacity());
        long create = one.create() == null ? 0 : bytes(one.create());
        if (create % 512 != 0) {
          problems.add("device spec " + target + ": create=" + one.create() + " is not a multiple of 512 bytes");
          continue;
        }
        out.putIfAbsent(name, new ManagedDevice(name, pciTarget ? null : target, pciTarget ? target : null, one.engine(),
            one.model(), one.claim(), capacity, true, create));
      }
    }
    for (FlashDevice fd : adminDevices) {
      String name = fd.getMetadata().getName();
      if (out.containsKey(name)) continue; // configured here: the agent's own spec
      try {
        out.put(name, fromFlashDevice(fd));
      } catch (RuntimeException e) {
        problems.add("FlashDevice " + name + ": " + e.getMessage());
      }
    }
    return new Resolved(List.copyOf(out.values()), problems);
  }

  ManagedDevice fromFlashDevice(FlashDevice fd) {
    FlashDeviceSpec s = fd.getSpec();
    Engine engine = s.getEngine() == null ? Engine.URING : s.getEngine();
    long capacity = s.getCapacity() == null ? 0 : bytes(s.getCapacity().toString());
    return new ManagedDevice(fd.getMetadata().getName(), s.getDevicePath(), s.getPciAddress(), engine,
        model(fd), s.getClaimPolicy() == null ? ClaimPolicy.Never : s.getClaimPolicy(), capacity, false, 0);
  }

  /**
   * A built-in model's name, an inline model written to the state directory as YAML, or {@code calibrate} (no model,
   * or the reserved name: the agent calibrates the device, see {@code calibration.DeviceCalibrations}).
   */
  private String model(FlashDevice fd) {
    var ref = fd.getSpec().getDeviceModel();
    if (io.reflex.crds.v1alpha1.DeviceModelRef.calibrates(ref)) return ManagedDevice.CALIBRATE;
    if (ref.getName() != null) {
      if (!DeviceModels.BUILTIN.contains(ref.getName())) {
        throw new IllegalArgumentException("unknown device model '" + ref.getName() + "'; known: " + DeviceModels.BUILTIN
            + " or " + ManagedDevice.CALIBRATE);
      }
      return ref.getName();
    }
    InlineDeviceModel m = ref.getInline();
    List<TokenLimit> limits = io.reflex.crds.v1alpha1.TokenLimit.toModel(m.getTokenLimits());
    DeviceModel model = new DeviceModel("inline:" + fd.getMetadata().getName(), "inline", m.getReadCost4k(),
        m.getWriteCost4k(), Boolean.TRUE.equals(m.getUnlimited()), limits);
    try {
      Files.createDirectories(modelDir);
      Path file = modelDir.resolve(fd.getMetadata().getName() + ".yaml");
      Files.writeString(file, DeviceModels.toYaml(model));
      return file.toString();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write its inline model: " + e.getMessage(), e);
    }
  }

  private List<String> expand(DeviceSpec spec, Supplier<List<PciFunction>> pci) {
    if (!spec.glob()) return List.of(spec.target());
    if (spec.pci()) {
      PathMatcher m = java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + spec.target().toLowerCase(Locale.ROOT));
      return pci.get().stream().filter(PciFunction::isNvme).map(PciFunction::address)
          .filter(a -> m.matches(Path.of(a.toLowerCase(Locale.ROOT)))).sorted().toList();
    }
    Path glob = Path.of(spec.target());
    Path dir = glob.getParent();
    if (dir == null || dir.toString().matches(".*[*?\\[].*")) {
      throw new IllegalArgumentException("only the last path component may be a glob");
    }
    List<String> found = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob.getFileName().toString())) {
      ds.forEach(p -> found.add(p.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    found.sort(null);
    return found;
  }

  /** FlashDevice name for a configured target: "NODE-BASENAME" (PCI: "NODE-pci-0000-00-04.0"), a valid object name. */
  String nameFor(String target) {
    String base = DeviceSpec.isPci(target) ? "pci-" + target.replace(':', '-') : Path.of(target).getFileName().toString();
    String n = (settings.node() + "-" + base).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-")
        .replaceAll("^[^a-z0-9]+|[^a-z0-9]+$", "");
    return n.length() <= 253 ? n : n.substring(0, 253).replaceAll("[^a-z0-9]+$", "");
  }

  static long bytes(String quantity) {
    try {
      return Quantity.getAmountInBytes(new Quantity(quantity)).longValueExact();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("capacity '" + quantity + "' is not a size such as 64Gi");
    }
  }
}

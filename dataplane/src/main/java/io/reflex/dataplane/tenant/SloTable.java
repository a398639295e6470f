package io.reflex.dataplane.tenant;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's SLO table (YAML or JSON — JSON is YAML): the tenants this dataplane serves. Validated as a whole:
 * unique names and ports, LBA ranges that do not overlap and fit the device.
 *
 * <pre>
 * tenants:
 *   - name: lc1
 *     port: 5678
 *     class: LC          # LC | BE
 *     iops: 50000        # LC: reserved 4 KiB-equivalent IOPS
 *     readPercent: 100
 *     p95Micros: 1000    # LC only
 *     lbaBase: 0         # 512-byte sectors
 *     lbaCount: 2097152
 *     token: s3cret      # optional: clients must HELLO with it; or sha256:<64 hex> of it (the table then holds no secret)
 * </pre>
 */
public record SloTable(List<TenantSpec> tenants) {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    public SloTable {
        tenants = List.copyOf(tenants);
    }

    /** The file's row shape; keeps the YAML names stable independent of the record. */
    // Required and unboxed: an explicit null (port: ~, an empty value) is refused like a missing one.
    record Row(@JsonProperty(required = true) String name,
               @JsonProperty(required = true) @JsonSetter(nulls = Nulls.FAIL) Integer port,
               @JsonProperty(value = "class", required = true) TenantClass tenantClass, Long iops, Integer readPercent,
               Long p95Micros, Long lbaBase, @JsonProperty(required = true) @JsonSetter(nulls = Nulls.FAIL) Long lbaCount,
               String token) {
        TenantSpec toSpec() {
            return new TenantSpec(name, port, tenantClass, iops == null ? 0 : iops,
                    readPercent == null ? 100 : readPercent, p95Micros == null ? 0 : p95Micros,
                    lbaBase == null ? 0 : lbaBase, lbaCount, token);
        }
    }

    record File(@JsonProperty(required = true) @JsonSetter(contentNulls = Nulls.FAIL) List<Row> tenants) {}

    public static SloTable load(Path path, long deviceSectors) {
        try {
            return parse(Files.readAllBytes(path), path.toString(), deviceSectors);
        } catch (IOException e) {
            throw new SloTableException("cannot read SLO table " + path + ": " + e.getMessage());
        }
    }

    public static SloTable parse(byte[] content, String source, long deviceSectors) {
        File file;
        try {
            file = YAML.readValue(content, File.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SloTableException("invalid SLO table " + source + ": " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new SloTableException("invalid SLO table " + source + ": " + e.getMessage());
        }
        if (file == null || file.tenants() == null) throw new SloTableException("SLO table " + source + " has no 'tenants' list");
        List<TenantSpec> specs = file.tenants().stream().map(Row::toSpec).toList();
        SloTable table = new SloTable(specs);
        List<String> problems = table.problems(deviceSectors);
        if (!problems.isEmpty()) {
            throw new SloTableException("invalid SLO table " + source + ":\n  - " + String.join("\n  - ", problems));
        }
        return table;
    }

    /** One best-effort tenant owning the whole device: the quick setup with no table. */
    public static SloTable wholeDevice(int port, long deviceSectors) {
        return new SloTable(List.of(new TenantSpec("default", port, TenantClass.BE, 0, 100, 0, 0, deviceSectors, null)));
    }

    public List<String> problems(long deviceSectors) {
        List<String> p = new ArrayList<>();
        Map<String, TenantSpec> names = new HashMap<>();
        Map<Integer, TenantSpec> ports = new HashMap<>();
        for (TenantSpec t : tenants) {
            p.addAll(t.problems());
            if (t.name() != null && names.putIfAbsent(t.name(), t) != null) p.add("duplicate tenant name '" + t.name() + "'");
            TenantSpec samePort = ports.putIfAbsent(t.port(), t);
            if (samePort != null) p.add("tenants '" + samePort.name() + "' and '" + t.name() + "' share port " + t.port());
            if (t.lbaCount() > 0 && t.lbaBase() >= 0 && t.lbaBase() > deviceSectors - t.lbaCount()) { // lbaEnd() may overflow
                p.add("tenant '" + t.name() + "': LBA range [" + t.lbaBase() + ", " + Long.toUnsignedString(t.lbaEnd())
                        + ") exceeds the device (" + deviceSectors + " sectors)");
            }
        }
        for (int i = 0; i < tenants.size(); i++) {
            for (int j = i + 1; j < tenants.size(); j++) {
                TenantSpec a = tenants.get(i), b = tenants.get(j);
                if (a.lbaBase() < b.lbaEnd() && b.lbaBase() < a.lbaEnd()) {
                    p.add("tenants '" + a.name() + "' and '" + b.name() + "' have overlapping LBA ranges");
                }
            }
        }
        return p;
    }
}

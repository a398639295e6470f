package io.reflex.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.reflex.dataplane.tenant.AccessToken;
import io.reflex.dataplane.tenant.AdmissionPlan;
import io.reflex.dataplane.tenant.SloTable;
import io.reflex.dataplane.tenant.SloTableException;
import io.reflex.dataplane.tenant.TenantClass;
import io.reflex.dataplane.tenant.TenantSpec;
import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.DeviceModels;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Coverage-guided fuzzing of the SLO table file (YAML or JSON text → {@link SloTable}) and what the dataplane does
 * next with a valid one (admission against a calibrated model, token digests). Invariant: either a table that is
 * valid as a whole — names, ports, token values, every LBA window inside the device, no overlaps — or an
 * {@link SloTableException} with a message; never another exception.
 */
class SloTableFuzzTest {
    /** 1 GiB of 512-byte sectors. */
    static final long DEVICE_SECTORS = 1L << 21;
    private static final DeviceModel MODEL = DeviceModels.load("sample");

    @FuzzTest(maxDuration = "60s")
    // No entry may hold a newline or a double quote: Jazzer writes them unescaped into a libFuzzer dictionary file.
    @DictionaryEntries({"tenants:", "- name: ", "name: ", "port: ", "class: ", "LC", "BE", "iops: ", "readPercent: ",
            "p95Micros: ", "lbaBase: ", "lbaCount: ", "token: ", "sha256:", "{", "}", "[", "]", ", ", "  - ", "    ",
            "null", "~", "&a ", "*a", "!!int ", "!!str ", "0x", "9223372036854775807", "4611686018427387904",
            "2097152", "-1", "1e3", "'", "#", "---", "..."})
    void sloTable(byte[] yaml) {
        SloTable table;
        try {
            table = SloTable.parse(yaml, "fuzz.yaml", DEVICE_SECTORS);
        } catch (SloTableException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("SloTableException without a message", e);
            return;
        }
        checkValid(table.tenants());
        AdmissionPlan plan = AdmissionPlan.plan(MODEL, Map.of(), table);
        if (plan.admitted().size() + plan.rejected().size() != table.tenants().size()) {
            throw new AssertionError("admission lost tenants: " + plan);
        }
        for (AdmissionPlan.Admitted a : plan.admitted()) {
            // LC: its reservation; BE: a share of what LC leaves (0 when LC reserved it all; BE then lives on spare tokens).
            boolean lc = a.spec().tenantClass() == TenantClass.LC;
            if (lc ? !(a.tokensPerSec() > 0) : !(a.tokensPerSec() >= 0)) {
                throw new AssertionError("admitted with a rate of " + a.tokensPerSec() + ": " + a.spec());
            }
        }
    }

    /** What a parsed table promises the dataplane (which trusts it: LoopTenant, NBD export sizes, device offsets). */
    static void checkValid(List<TenantSpec> tenants) {
        Set<String> names = new HashSet<>();
        Set<Integer> ports = new HashSet<>();
        for (TenantSpec t : tenants) {
            if (!t.problems().isEmpty()) throw new AssertionError("accepted a row with problems " + t.problems() + ": " + t);
            if (!names.add(t.name()) || !ports.add(t.port())) throw new AssertionError("duplicate name or port accepted: " + t);
            if (t.tenantClass() != TenantClass.LC && t.tenantClass() != TenantClass.BE) throw new AssertionError("class: " + t);
            // Overflow-safe: the window [lbaBase, lbaBase + lbaCount) lies in [0, DEVICE_SECTORS).
            if (t.lbaBase() < 0 || t.lbaCount() <= 0 || t.lbaBase() > DEVICE_SECTORS - t.lbaCount()) {
                throw new AssertionError("accepted an LBA window outside the " + DEVICE_SECTORS + "-sector device: " + t);
            }
            if (t.token() != null && AccessToken.digest(t.token()).length != 32) throw new AssertionError("token digest: " + t);
        }
        for (int i = 0; i < tenants.size(); i++) {
            for (int j = i + 1; j < tenants.size(); j++) {
                TenantSpec a = tenants.get(i), b = tenants.get(j);
                if (a.lbaBase() < b.lbaBase() + b.lbaCount() && b.lbaBase() < a.lbaBase() + a.lbaCount()) {
                    throw new AssertionError("accepted overlapping windows: " + a + " and " + b);
                }
            }
        }
    }
}

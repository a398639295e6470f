#!/usr/bin/env python3
"""Helper of bench/operator/run.sh (stdlib only): generate objects, poll progress, verify, summarise.

  bench.py gen OUT DEVICES TENANTS NAMESPACES CHUNK SEED   devices.yaml, devices-status.yaml, tenants/NNNN.yaml
  bench.py create OUT PAR [PACE]                           POST every tenants/*.yaml object, PAR connections
                                                           (PACE s: spread the creates evenly over PACE seconds)
  bench.py poll OUT TENANTS T0_FILE                        until every tenant has a phase: timeline.jsonl, done.json
  bench.py scrape URL                                      one /q/metrics scrape as JSON (sums per name)
  bench.py verify OUT [--strict]                           tenants/devices from the API server: phases, overcommit
                                                           (--strict: also every tenant decided with a reason, its
                                                           Service on its port, device status agrees)
  bench.py settled                                         exit 0 once every tenant is decided for its generation
                                                           and every device's status counts its tenants
  bench.py summary OUT                                     summary.md + summary.json from the files above

Talks to kube-apiserver directly over HTTPS with the control plane's admin certificate (REFLEX_CP_DIR/pki) so
that progress polls can ask for server-side Tables (phase column only, no object bodies).
"""
import json
import os
import random
import re
import ssl
import sys
import time
import urllib.request

GI = 1 << 30
# The device model of every benchmark device (same as crds/examples/flashdevice-memory.yaml).
READ_COST, WRITE_COST = 100, 1000
LIMITS = [(500, 36_000_000, 85_000_000), (1000, 50_000_000, 95_000_000)]  # p95 µs, mixed, read-only tokens/s
DEVICE_CAPACITY = 1024 * GI
DEVICES_PER_NODE = 2


# ---- API access ---------------------------------------------------------------------------------------------------
def _ctx():
    d = os.environ["REFLEX_CP_DIR"]
    c = ssl.create_default_context(cafile=f"{d}/pki/ca.crt")
    c.load_cert_chain(f"{d}/pki/admin.crt", f"{d}/pki/admin.key")
    return c


_CTX = None


def api(path, accept="application/json", timeout=120):
    global _CTX
    if _CTX is None:
        _CTX = _ctx()
    port = open(os.path.join(os.environ["REFLEX_CP_DIR"], "apiserver.port")).read().strip()
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", headers={"Accept": accept})
    with urllib.request.urlopen(req, context=_CTX, timeout=timeout) as r:
        return json.loads(r.read())


def scrape(url):
    """Prometheus text -> {name: sum over series, 'name{k=v}': value for a few interesting labelled series}."""
    out = {}
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
    except Exception as e:  # the operator may be busy; a missed sample is fine
        return {"error": str(e)}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)', line)
        if not m:
            continue
        name, labels, v = m.group(1), m.group(2) or "", float(m.group(3))
        if not name.startswith(("reflex_operator", "jvm_memory_used_bytes", "jvm_gc_pause_seconds", "process_cpu",
                                "jvm_threads_live", "operator_sdk")):
            continue
        out[name] = out.get(name, 0) + v
        if name == "jvm_memory_used_bytes":
            if 'area="heap"' in labels:
                out["heap_used_bytes"] = out.get("heap_used_bytes", 0) + v
        elif name.startswith("reflex_operator_reconcile_seconds_count") or name.startswith(
                "reflex_operator_reconcile_seconds_sum"):
            c = re.search(r'controller="([^"]+)"', labels)
            k = f"{name}:{c.group(1) if c else '?'}"
            out[k] = out.get(k, 0) + v
        elif name.startswith("reflex_operator_placements") or name.startswith("reflex_operator_rejections"):
            k = f"{name}{labels}"
            out[k] = out.get(k, 0) + v
    return out


def apiserver_requests():
    """kube-apiserver's apiserver_request_total summed by verb+resource (how many writes the run cost)."""
    global _CTX
    if _CTX is None:
        _CTX = _ctx()
    port = open(os.path.join(os.environ["REFLEX_CP_DIR"], "apiserver.port")).read().strip()
    req = urllib.request.Request(f"https://127.0.0.1:{port}/metrics")
    with urllib.request.urlopen(req, context=_CTX, timeout=60) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            k = f'{labels.get("verb")} {labels.get("resource")}{"/" + labels["subresource"] if labels.get("subresource") else ""}'
            out[k] = out.get(k, 0) + float(line.rsplit(" ", 1)[1])
    return out


# ---- gen ----------------------------------------------------------------------------------------------------------
def tenant_spec(rng):
    x = rng.random()
    if x < 0.02:  # deliberately impossible: ~70M tokens/s > any device's budget -> always refused (NoFit)
        return {"class": "LC", "iops": 300000, "readPercent": 80, "p95LatencyMicros": 1000, "capacity": "10Gi"}
    if x < 0.60:
        return {"class": "LC", "iops": rng.choice([2000, 5000, 10000, 20000, 40000]),
                "readPercent": rng.choice([70, 80, 90, 100]), "p95LatencyMicros": rng.choice([500, 1000, 2000]),
                "capacity": f"{rng.choice([10, 20, 50, 100])}Gi"}
    return {"class": "BE", "capacity": f"{rng.choice([50, 100, 200, 300])}Gi"}


def node_address(node, template):
    """The reflex.io/node-address of a node: 198.18.0.0/15 (RFC 2544 benchmarking range) by default; nothing connects
    to it. Loopback (the README's 127.0.0.1) is refused by EndpointSlice validation: NODE_ADDRESS=127.0.0.1 shows it."""
    return template or f"198.18.{node // 250}.{node % 250 + 1}"


def gen(out, devices, tenants, namespaces, chunk, seed, address_template=""):
    rng = random.Random(seed)
    os.makedirs(f"{out}/tenants", exist_ok=True)
    dev_docs, status_docs = [], []
    for i in range(devices):
        name = f"fd-{i:04d}"
        dev_docs.append({"apiVersion": "reflex.io/v1alpha1", "kind": "FlashDevice",
                         "metadata": {"name": name, "annotations": {
                             "reflex.io/node-address": node_address(i // DEVICES_PER_NODE, address_template)}},
                         "spec": {"nodeName": f"node-{i // DEVICES_PER_NODE:04d}", "engine": "memory",
                                  "capacity": "1Ti",
                                  "deviceModel": {"inline": {"readCost4k": READ_COST, "writeCost4k": WRITE_COST,
                                                             "tokenLimits": [{"p95Micros": p, "mixedTokensPerSec": m,
                                                                              "readOnlyTokensPerSec": r}
                                                                             for p, m, r in LIMITS]}}}})
        status_docs.append({"apiVersion": "reflex.io/v1alpha1", "kind": "FlashDevice", "metadata": {"name": name},
                            "status": {"phase": "Ready", "capacityBytes": DEVICE_CAPACITY}})
    for fn, docs in (("devices.yaml", dev_docs), ("devices-status.yaml", status_docs)):
        with open(f"{out}/{fn}", "w") as f:
            f.write("\n---\n".join(json.dumps(d) for d in docs) + "\n")
    for c in range(0, tenants, chunk):
        with open(f"{out}/tenants/{c // chunk:04d}.yaml", "w") as f:
            docs = []
            for i in range(c, min(c + chunk, tenants)):
                docs.append(json.dumps({"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant",
                                        "metadata": {"name": f"t-{i:05d}", "namespace": f"bench-{i % namespaces}"},
                                        "spec": tenant_spec(rng)}))
            f.write("\n---\n".join(docs) + "\n")


# ---- create -------------------------------------------------------------------------------------------------------
def create(out, par, pace=0.0):
    """Creates every FlashTenant of tenants/*.yaml with plain POSTs (JSON, no server-side apply) over PAR persistent
    HTTPS connections, one thread each. Prints the count, failures and seconds; exits 1 on any failure. PACE > 0:
    the i-th create is not sent before t0 + i * PACE / count (a steady trickle, e.g. while faults are injected)."""
    import http.client
    import threading
    docs = []
    for fn in sorted(os.listdir(f"{out}/tenants")):
        docs += [d for d in open(f"{out}/tenants/{fn}").read().split("\n---\n") if d.strip()]
    port = open(os.path.join(os.environ["REFLEX_CP_DIR"], "apiserver.port")).read().strip()
    ctx = _ctx()
    lock, errors, nxt = threading.Lock(), [], [0]

    def worker():
        conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=120)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(docs):
                break
            if pace > 0:
                time.sleep(max(0.0, t0 + i * pace / len(docs) - time.time()))
            body = docs[i].strip()
            ns = json.loads(body)["metadata"]["namespace"]
            for attempt in range(5):
                try:
                    conn.request("POST", f"/apis/reflex.io/v1alpha1/namespaces/{ns}/flashtenants?fieldManager=reflex-bench",
                                 body=body, headers={"Content-Type": "application/json", "Accept": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    if r.status in (201, 409):
                        break
                    if r.status != 429 and r.status < 500:
                        with lock:
                            errors.append(f"{r.status} {body[:80]}")
                        break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=120)
                time.sleep(0.2 * (attempt + 1))
            else:
                with lock:
                    errors.append(f"gave up {body[:80]}")
        conn.close()

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(par)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"created": len(docs) - len(errors), "errors": errors[:10], "seconds": round(time.time() - t0, 2)}))
    return 1 if errors else 0


# ---- poll ---------------------------------------------------------------------------------------------------------
def phases_table():
    """Phase counts from a server-side Table of all FlashTenants (printer columns only)."""
    t = api("/apis/reflex.io/v1alpha1/flashtenants?includeObject=None",
            accept="application/json;as=Table;v=v1;g=meta.k8s.io")
    col = [c["name"] for c in t["columnDefinitions"]].index("Phase")
    counts = {}
    for r in t["rows"]:
        p = r["cells"][col] or "<none>"
        counts[p] = counts.get(p, 0) + 1
    return counts


def poll(out, tenants, t0_file, metrics_url, interval, timeout):
    while not os.path.exists(t0_file):
        time.sleep(0.05)
    t0 = float(open(t0_file).read())
    first_all_created = None
    with open(f"{out}/timeline.jsonl", "w") as tl:
        while True:
            ts = time.time()
            try:
                counts = phases_table()
            except Exception as e:
                counts = {"error": str(e)}
            lat = time.time() - ts
            m = scrape(metrics_url)
            total = sum(v for k, v in counts.items() if k != "error")
            unphased = counts.get("<none>", 0) + (tenants - total)
            rec = {"t": round(time.time() - t0, 3), "list_s": round(lat, 3), "phases": counts, "created": total,
                   "heap_mb": round(m.get("heap_used_bytes", 0) / 2**20, 1),
                   "reconciles_tenant": m.get("reflex_operator_reconcile_seconds_count:flashtenant"),
                   "reconciles_device": m.get("reflex_operator_reconcile_seconds_count:flashdevice"),
                   "ledger_tenants": m.get("reflex_operator_ledger_tenants"),
                   "load1": float(open("/proc/loadavg").read().split()[0])}
            tl.write(json.dumps(rec) + "\n")
            tl.flush()
            print(f"  t={rec['t']:7.1f}s created={total} phases={counts} heap={rec['heap_mb']}MB "
                  f"reconciles(ft/fd)={rec['reconciles_tenant']}/{rec['reconciles_device']}", flush=True)
            if total >= tenants and first_all_created is None:
                first_all_created = rec["t"]
            if "error" not in counts and total >= tenants and unphased == 0:
                # The list reflects the server's state at some point during [ts, ts+lat]: count the end, conservative.
                json.dump({"done": True, "seconds": rec["t"], "phases": counts}, open(f"{out}/done.json", "w"))
                return 0
            if time.time() - t0 > timeout:
                json.dump({"done": False, "seconds": rec["t"], "phases": counts}, open(f"{out}/done.json", "w"))
                return 1
            time.sleep(max(0, interval - (time.time() - ts)))


# ---- verify -------------------------------------------------------------------------------------------------------
def qty_bytes(q):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti)?", str(q))
    return int(m.group(1)) * {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}[m.group(2)]


def rate_at(p95, read_only):
    """DeviceModel.tokenRateAt: linear between points, clamped at both ends."""
    pick = (lambda l: l[2]) if read_only else (lambda l: l[1])
    if p95 <= LIMITS[0][0]:
        return pick(LIMITS[0])
    for lo, hi in zip(LIMITS, LIMITS[1:]):
        if p95 <= hi[0]:
            return pick(lo) + (pick(hi) - pick(lo)) * (p95 - lo[0]) / (hi[0] - lo[0])
    return pick(LIMITS[-1])


def ts_epoch(s):
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone if s else None


DECIDED = ("Placed", "Serving", "Pending", "Rejected")


def undecided(t):
    """Why a tenant is not decided for its current spec (None when it is): a phase, an Admitted condition with a
    reason (and a message when refused), status.observedGeneration = metadata.generation, a placement if placed."""
    st = t.get("status") or {}
    ph = st.get("phase")
    if ph not in DECIDED:
        return f"phase {ph!r}"
    if st.get("observedGeneration") != t["metadata"].get("generation"):
        return f"observedGeneration {st.get('observedGeneration')} != generation {t['metadata'].get('generation')}"
    adm = [c for c in st.get("conditions") or [] if c["type"] == "Admitted"]
    if not adm or not adm[0].get("reason"):
        return f"{ph} without an Admitted reason"
    if ph in ("Pending", "Rejected") and (adm[0]["status"] != "False" or not adm[0].get("message")):
        return f"{ph} but Admitted={adm[0]['status']} ({adm[0].get('message')!r})"
    if ph in ("Placed", "Serving") and not st.get("placement"):
        return f"{ph} without a placement"
    return None


def settled():
    """Exit 0 once every tenant is decided (see undecided) and every FlashDevice's tenantCount is the number of
    tenants placed there; prints what is still open."""
    ts = api("/apis/reflex.io/v1alpha1/flashtenants")["items"]
    ds = api("/apis/reflex.io/v1alpha1/flashdevices")["items"]
    open_ = [f'{t["metadata"]["namespace"]}/{t["metadata"]["name"]}: {undecided(t)}' for t in ts if undecided(t)]
    on = {}
    for t in ts:
        p = (t.get("status") or {}).get("placement")
        if (t.get("status") or {}).get("phase") in ("Placed", "Serving") and p:
            on[p["device"]] = on.get(p["device"], 0) + 1
    counts = [f'{d["metadata"]["name"]}: tenantCount {(d.get("status") or {}).get("tenantCount")} != {on.get(d["metadata"]["name"], 0)}'
              for d in ds if ((d.get("status") or {}).get("tenantCount") or 0) != on.get(d["metadata"]["name"], 0)]
    print(json.dumps({"tenants": len(ts), "undecided": len(open_), "device_count_mismatches": len(counts),
                      "first": (open_ + counts)[:3]}))
    return 0 if not open_ and not counts else 1


def verify(out, strict=False):
    ts = api("/apis/reflex.io/v1alpha1/flashtenants")["items"]
    ds = api("/apis/reflex.io/v1alpha1/flashdevices")["items"]
    phases, reasons, per_dev, per_node_ports = {}, {}, {}, {}
    created, decided = [], []
    for t in ts:
        st = t.get("status") or {}
        ph = st.get("phase") or "<none>"
        phases[ph] = phases.get(ph, 0) + 1
        created.append(ts_epoch(t["metadata"]["creationTimestamp"]))
        adm = [c for c in st.get("conditions") or [] if c["type"] == "Admitted"]
        if adm:
            reasons[f'{ph}/{adm[0]["reason"]}'] = reasons.get(f'{ph}/{adm[0]["reason"]}', 0) + 1
            decided.append(ts_epoch(adm[0].get("lastTransitionTime")))
        p = st.get("placement")
        if ph in ("Placed", "Serving") and p:
            per_dev.setdefault(p["device"], []).append((t, p))
            per_node_ports.setdefault(p["node"], []).append(p["port"])
    devs = {d["metadata"]["name"]: d for d in ds}
    violations, status_mismatch, max_util = [], 0, 0.0
    for name, items in per_dev.items():
        d = devs.get(name)
        if d is None:
            violations.append(f"{name}: tenants placed on a device that does not exist")
            continue
        cap = (d.get("status") or {}).get("capacityBytes") or qty_bytes(d["spec"]["capacity"])
        lc = [(t["spec"], p) for t, p in items if t["spec"]["class"] == "LC"]
        be = [t for t, p in items if t["spec"]["class"] != "LC"]
        reserved = sum(s["iops"] * (s.get("readPercent", 100) / 100 * READ_COST
                                    + (1 - s.get("readPercent", 100) / 100) * WRITE_COST) for s, _ in lc)
        reserved_status = sum(p.get("tokens") or 0 for _, p in lc)
        if lc:
            strictest = min(s.get("p95LatencyMicros", 1000) for s, _ in lc)
            read_only = not be and all(s.get("readPercent", 100) == 100 for s, _ in lc)
            budget = rate_at(strictest, read_only)
        else:
            budget = rate_at(10**12, False)
        max_util = max(max_util, reserved / budget)
        if reserved > budget * (1 + 1e-9):
            violations.append(f"{name}: LC reservations {reserved:.0f} > budget {budget:.0f} tokens/s")
        if abs(reserved - reserved_status) > len(lc):  # tokens are rounded per tenant
            violations.append(f"{name}: placement.tokens sum {reserved_status} != spec-derived {reserved:.0f}")
        used = sum(qty_bytes(t["spec"]["capacity"]) for t, _ in items)
        if used > cap:
            violations.append(f"{name}: {used} bytes allocated > capacity {cap}")
        ext = sorted((p["lbaOffset"], p["lbaOffset"] + p["lbaCount"]) for _, p in items)
        if any(a[1] > b[0] for a, b in zip(ext, ext[1:])):
            violations.append(f"{name}: overlapping extents")
        ds_ = d.get("status") or {}
        if ds_.get("reservedTokens") is not None and abs(ds_["reservedTokens"] - reserved) > len(lc) + 1:
            status_mismatch += 1
        if ds_.get("tenantCount") is not None and ds_["tenantCount"] != len(items):
            status_mismatch += 1
    for node, ports in per_node_ports.items():
        if len(ports) != len(set(ports)):
            violations.append(f"{node}: duplicate node ports")
    if strict:
        # Every tenant decided with a reason; every placed tenant's Service on its placement's port; every device's
        # status counts exactly the tenants placed there (the operator reports it after the tenant's status write).
        for t in ts:
            why = undecided(t)
            if why:
                violations.append(f'{t["metadata"]["namespace"]}/{t["metadata"]["name"]}: not decided: {why}')
        services = {}
        for ns in sorted({t["metadata"]["namespace"] for t in ts}):
            for s_ in api(f"/api/v1/namespaces/{ns}/services")["items"]:
                services[(ns, s_["metadata"]["name"])] = [p["port"] for p in s_["spec"].get("ports") or []]
        for items in per_dev.values():
            for t, p in items:
                got = services.get((t["metadata"]["namespace"], t["metadata"]["name"]))
                if not got or got[0] != p["port"]:
                    violations.append(f'{t["metadata"]["namespace"]}/{t["metadata"]["name"]}: Service ports {got} '
                                      f'!= placement port {p["port"]}')
        for name, d in devs.items():
            n = len(per_dev.get(name, []))
            if ((d.get("status") or {}).get("tenantCount") or 0) != n:
                violations.append(f"{name}: status.tenantCount {(d.get('status') or {}).get('tenantCount')} != {n} placed")
    created = [c for c in created if c]
    decided = [c for c in decided if c]
    res = {"tenants": len(ts), "devices": len(ds), "phases": phases, "reasons": reasons,
           "devices_used": len(per_dev), "violations": violations[:50], "violation_count": len(violations),
           "device_status_mismatches": status_mismatch, "max_lc_token_utilisation": round(max_util, 4),
           "server_first_create_to_last_admitted_s": (max(decided) - min(created)) if created and decided else None}
    json.dump(res, open(f"{out}/verify.json", "w"), indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != "violations"}))
    for v in violations[:10]:
        print("  VIOLATION", v)
    return 0 if not violations else 2


# ---- summary ------------------------------------------------------------------------------------------------------
def summary(out):
    J = lambda f: json.load(open(f"{out}/{f}")) if os.path.exists(f"{out}/{f}") else {}
    meta, done, ver = J("meta.json"), J("done.json"), J("verify.json")
    m0, m1 = J("metrics-before.json"), J("metrics-after.json")
    a0, a1 = J("apiserver-before.json"), J("apiserver-after.json")
    cpu = J("cpu.json")
    tl = [json.loads(l) for l in open(f"{out}/timeline.jsonl")] if os.path.exists(f"{out}/timeline.jsonl") else []
    secs = done.get("seconds")
    d = lambda k: (m1.get(k) or 0) - (m0.get(k) or 0)
    rec_t, rec_d = d("reflex_operator_reconcile_seconds_count:flashtenant"), d("reflex_operator_reconcile_seconds_count:flashdevice")
    busy_t = d("reflex_operator_reconcile_seconds_sum:flashtenant")
    heap_max = max([r.get("heap_mb") or 0 for r in tl] + [0])
    writes = {k: a1.get(k, 0) - a0.get(k, 0) for k in a1}
    writes = {k: int(v) for k, v in sorted(writes.items(), key=lambda kv: -kv[1]) if v >= 1}
    placed = sum(v for k, v in (ver.get("phases") or {}).items() if k in ("Placed", "Serving"))
    create_s = meta.get("create_seconds")
    rows = [
        ("devices / tenants", f'{meta.get("devices")} / {meta.get("tenants")} ({meta.get("namespaces")} namespaces)'),
        ("tenant create (plain POSTs, %s connections)" % meta.get("par"),
         f"{create_s:.1f} s ({meta.get('tenants') / create_s:.0f} creates/s)" if create_s else "?"),
        ("first create -> every tenant has a phase (client poll)",
         f"{secs:.1f} s" + ("" if done.get("done") else " (TIMEOUT, not finished)") if secs is not None else "?"),
        ("same, server timestamps (first creationTimestamp -> last Admitted transition, 1 s resolution)",
         f'{ver.get("server_first_create_to_last_admitted_s")} s'),
        ("goal", "< 60 s (10,000 tenants / 1,000 devices)"),
        ("outcome (phase/reason)", ", ".join(f"{k}: {v}" for k, v in sorted((ver.get("reasons") or {}).items()))),
        ("placed", f'{placed} of {ver.get("tenants")} on {ver.get("devices_used")} devices'),
        ("tenant reconciles (total, per s over the run)",
         f"{rec_t:.0f}, {rec_t / secs:.0f}/s ({rec_t / max(1, meta.get('tenants')):.1f} per tenant)" if secs else f"{rec_t:.0f}"),
        ("tenant reconcile time (mean; busy threads = sum / wall)",
         f"{1000 * busy_t / rec_t:.1f} ms; {busy_t / secs:.2f}" if rec_t and secs else "?"),
        ("device reconciles (total, per s)", f"{rec_d:.0f}, {rec_d / secs:.0f}/s" if secs else f"{rec_d:.0f}"),
        ("placements / rejection counters (delta)",
         f'{d("reflex_operator_placements_total"):.0f} / {d("reflex_operator_rejections_total"):.0f}'),
        ("operator heap used (max sampled / after run)",
         f'{heap_max:.0f} MiB / {(m1.get("heap_used_bytes") or 0) / 2**20:.0f} MiB (-Xmx: {meta.get("xmx")})'),
        ("CPU seconds during the run (operator / kube-apiserver / etcd / poller+kubectl)",
         " / ".join(f'{cpu.get(k, 0):.0f}' for k in ("operator", "kube-apiserver", "etcd", "bench"))),
        ("API requests during the run (all clients)", f'{sum(writes.values())}'),
        ("overcommit check (LC tokens <= budget, bytes <= capacity, extents, ports)",
         "OK, no violation" if ver.get("violation_count") == 0 else f'{ver.get("violation_count")} VIOLATIONS'),
        ("max LC token utilisation of a device", f'{ver.get("max_lc_token_utilisation")}'),
        ("FlashDevice status vs tenants (reservedTokens/tenantCount mismatches, after %s s settling)" % meta.get("settle_seconds"),
         f'{ver.get("device_status_mismatches")}'),
        ("operator reconcile errors logged (JOSDK 'Uncaught error during event processing')", f'{meta.get("reconcile_errors")}'),
    ]
    md = [f"## Operator scale benchmark {meta.get('date')} ({meta.get('devices')} devices, {meta.get('tenants')} tenants)", "",
          "| what | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    md += ["", "API requests by verb/resource during the run (top 15):", "",
           "| verb resource | requests |", "|---|---|"] + [f"| {k} | {v} |" for k, v in list(writes.items())[:15]]
    loads = [r["load1"] for r in tl if r.get("load1") is not None]
    load_run = f"; 1-min load average during the run (polls): mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f}" if loads else ""
    md += ["", f"Machine: {meta.get('machine')}; load average at start {meta.get('load_start')}, end {meta.get('load_end')}{load_run}",
           f"Commit: {meta.get('commit')} (operator/src dirty: {meta.get('operator_dirty')}); operator jar built {meta.get('jar_mtime')}",
           "", "Command:", "", "```", meta.get("command", ""), "```",
           "", "Operator:", "", "```", meta.get("operator_cmd", ""), "```"]
    open(f"{out}/summary.md", "w").write("\n".join(md) + "\n")
    json.dump({"meta": meta, "done": done, "verify": ver, "tenant_reconciles": rec_t, "device_reconciles": rec_d,
               "heap_max_mb": heap_max, "api_requests": writes, "cpu": cpu}, open(f"{out}/summary.json", "w"), indent=1)
    print("\n".join(md))


def profile(jfr_text_file):
    """Aggregates `jfr print --events jdk.ExecutionSample` text: top frames, top packages, first io.reflex frame."""
    stacks, cur = [], None
    for line in open(jfr_text_file):
        line = line.strip()
        if line.startswith("stackTrace = ["):
            cur = []
        elif cur is not None:
            if line.startswith("]") or line == "...":
                stacks.append(cur)
                cur = None
            else:
                cur.append(re.sub(r"\s+line:.*", "", line))
    n = max(1, len(stacks))
    def top(key, k=15):
        c = {}
        for st in stacks:
            v = key(st)
            if v:
                c[v] = c.get(v, 0) + 1
        return [f"{v:6d} {100 * v / n:5.1f}%  {k_}" for k_, v in sorted(c.items(), key=lambda kv: -kv[1])[:k]]
    pkg = lambda st: ".".join(st[0].split("(")[0].split(".")[:3]) if st else None
    ours = lambda st: next((f for f in st if f.startswith("io.reflex")), "(no io.reflex frame)")
    out = [f"{len(stacks)} CPU samples", "", "top frames:"] + top(lambda st: st[0] if st else None) \
        + ["", "top frame's package:"] + top(pkg, 12) + ["", "innermost io.reflex frame on the stack:"] + top(ours, 12)
    print("\n".join(out))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "gen":
        gen(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6] if len(a) > 6 else "")
    elif cmd == "create":
        sys.exit(create(a[0], int(a[1]), float(a[2]) if len(a) > 2 else 0.0))
    elif cmd == "poll":
        sys.exit(poll(a[0], int(a[1]), a[2], a[3], float(a[4]), float(a[5])))
    elif cmd == "scrape":
        print(json.dumps(scrape(a[0])))
    elif cmd == "apireq":
        print(json.dumps(apiserver_requests()))
    elif cmd == "verify":
        sys.exit(verify(a[0], "--strict" in a[1:]))
    elif cmd == "settled":
        sys.exit(settled())
    elif cmd == "profile":
        profile(a[0])
    elif cmd == "summary":
        summary(a[0])
    else:
        sys.exit(f"unknown command {cmd}")

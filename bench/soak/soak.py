#!/usr/bin/env python3
"""Helper of bench/soak/run.sh (stdlib only; see bench/soak/README.md).

  soak.py plan MODEL.yaml SLO_US LC_SHARE TOTAL_SHARE      shell assignments: budget, lc_iops, be_r_iops, be_w_iops, ...
  soak.py tenants NS NODE LC_IOPS SLO_US CHURN_IOPS        the FlashTenants of the run (YAML on stdout)
  soak.py serving NS NAME...                               exit 0 when every named tenant is Serving
  soak.py placements NS                                    {name: [device, port, lbaOffset, lbaCount]} of every tenant
  soak.py reload OUT NS METRICS_URL PERIOD END_EPOCH       every PERIOD s one real change of the node's SLO table;
                                                           each checked on the agent's /metrics -> reloads.jsonl
  soak.py sample OUT METRICS_URL OP_METRICS_URL PERIOD END_EPOCH
                                                           every PERIOD s: RSS, heap, fds, threads of the agent,
                                                           the operator (OUT/pids/operator.pid), kube-apiserver and
                                                           etcd; load average, steal; the agent's counters -> samples.jsonl
  soak.py gcpoint OUT LABEL NAME PID                       a forced full GC (jcmd GC.run), then the heap left: the
                                                           live set -> gcpoints.jsonl
  soak.py report OUT                                       summary.json + summary.md, verdicts; exit 1 if one fails

The API server is reached directly over HTTPS with the control plane's admin certificate (REFLEX_CP_DIR/pki).
Heap is read from the JVM's own perf counters (/tmp/hsperfdata_USER/PID, what jstat reads): no process is
attached and nothing runs inside the measured JVMs.
"""
import glob
import json
import math
import os
import re
import shlex
import ssl
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

MIB = 1 << 20
GROUP = "/apis/reflex.io/v1alpha1"


# ---- API access -----------------------------------------------------------------------------------------------------
_CTX = None


def api(path, method="GET", body=None, ctype="application/json", timeout=30):
    global _CTX
    d = os.environ["REFLEX_CP_DIR"]
    if _CTX is None:
        _CTX = ssl.create_default_context(cafile=f"{d}/pki/ca.crt")
        _CTX.load_cert_chain(f"{d}/pki/admin.crt", f"{d}/pki/admin.key")
    port = open(f"{d}/apiserver.port").read().strip()
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Accept": "application/json", "Content-Type": ctype})
    with urllib.request.urlopen(req, context=_CTX, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


def tenant_path(ns, name=""):
    return f"{GROUP}/namespaces/{ns}/flashtenants" + (f"/{name}" if name else "")


def lc_tenant(ns, name, node, iops, p95, capacity):
    return {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant", "metadata": {"name": name, "namespace": ns},
            "spec": {"class": "LC", "iops": iops, "readPercent": 100, "p95LatencyMicros": p95, "capacity": capacity,
                     "placement": {"deviceSelector": {"matchLabels": {"reflex.io/node": node}}}}}


def be_tenant(ns, name, node, capacity):
    return {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant", "metadata": {"name": name, "namespace": ns},
            "spec": {"class": "BE", "capacity": capacity,
                     "placement": {"deviceSelector": {"matchLabels": {"reflex.io/node": node}}}}}


# ---- small numeric helpers -----------------------------------------------------------------------------------------
def regression(points):
    """Least squares y = a + b x over [(x, y)]: (slope, standard error of the slope, n), or None below 3 points."""
    pts = [(x, y) for x, y in points if x is not None and y is not None]
    n = len(pts)
    if n < 3:
        return None
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in pts) / sxx
    a = my - b * mx
    resid = sum((y - a - b * x) ** 2 for x, y in pts)
    se = math.sqrt(resid / (n - 2) / sxx) if n > 2 else float("nan")
    return b, se, n


def pct(xs, p):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# ---- plan: the load from the model ------------------------------------------------------------------------------------
def model_points(path):
    text = open(path).read()
    read_cost = float(re.search(r"^readCost4k:\s*([0-9.]+)", text, re.M).group(1))
    write_cost = float(re.search(r"^writeCost4k:\s*([0-9.]+)", text, re.M).group(1))
    points = []
    for m in re.finditer(r"\{([^}]*p95Micros[^}]*)\}", text):
        row = dict((k.strip(), float(v)) for k, v in (kv.split(":") for kv in m.group(1).split(",")))
        points.append((row["p95Micros"], row["mixedTokensPerSec"]))
    return read_cost, write_cost, sorted(points)


def rate_at(points, p95):
    """Token rate at a p95 limit, linear between points (as devmodels' DeviceModel.tokenRateAt): none stricter
    than the first point, the last point's rate beyond it."""
    if p95 < points[0][0]:
        sys.exit(f"the model reaches no p95 of {p95:.0f} µs (its strictest point is {points[0][0]} µs)")
    for (lo_p, lo_r), (hi_p, hi_r) in zip(points, points[1:]):
        if p95 <= hi_p:
            return lo_r + (p95 - lo_p) / (hi_p - lo_p) * (hi_r - lo_r)
    return points[-1][1]


def plan(model, slo, lc_share, total_share):
    read_cost, write_cost, points = model_points(model)
    slo, lc_share, total_share = float(slo), float(lc_share), float(total_share)
    budget = rate_at(points, slo)  # mixed rate: BE tenants write to the same device
    lc_iops = round(lc_share * budget / read_cost)
    be_tokens = max(0.0, total_share - lc_share) * budget
    # BE: half of its tokens as 4 KiB random reads (tenant be-r), half as 4 KiB random writes (be-w)
    be_r = max(1, round(be_tokens / 2 / read_cost))
    be_w = max(1, round(be_tokens / 2 / write_cost))
    offered = lc_iops * read_cost + be_r * read_cost + be_w * write_cost
    text = (f"device budget at p95 {slo:.0f} µs: {budget:,.0f} tokens/s (model {os.path.basename(model)[:-5]}, mixed "
            f"read/write rate); LC reserves {lc_share:g} of it: {lc_iops:,} IOPS of 4 KiB reads; BE offers "
            f"{be_r:,} reads/s (be-r) + {be_w:,} writes/s (be-w, {write_cost:.0f} tokens each); total offered "
            f"{offered:,.0f} tokens/s = {100 * offered / budget:.1f}% of the budget")
    for k, v in dict(budget=round(budget), read_cost=round(read_cost), write_cost=round(write_cost), lc_iops=lc_iops,
                     be_r_iops=be_r, be_w_iops=be_w, offered_pct=round(100 * offered / budget, 1),
                     plan_text=text).items():
        print(f"{k}={shlex.quote(str(v))}")


def tenants_yaml(ns, node, lc_iops, slo, churn_iops):
    objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            lc_tenant(ns, "lc", node, int(lc_iops), int(slo), "384Mi"),
            be_tenant(ns, "be-r", node, "256Mi"),
            be_tenant(ns, "be-w", node, "256Mi"),
            # the tenant whose spec the reload driver changes (no client; p95 looser than lc's: the budget stays
            # the one at lc's SLO)
            lc_tenant(ns, "churn-s", node, int(churn_iops), 2 * int(slo), "16Mi")]
    print("\n---\n".join(json.dumps(o) for o in objs))  # JSON is YAML


def serving(ns, *names):
    items = {t["metadata"]["name"]: t for t in api(tenant_path(ns))["items"]}
    bad = [n for n in names if ((items.get(n) or {}).get("status") or {}).get("phase") != "Serving"]
    if bad:
        print("not Serving: " + ", ".join(bad))
        sys.exit(1)


def placements(ns):
    out = {}
    for t in api(tenant_path(ns))["items"]:
        st = t.get("status") or {}
        p = st.get("placement") or {}
        out[t["metadata"]["name"]] = {"phase": st.get("phase"), "device": p.get("device"), "port": p.get("port"),
                                      "lbaOffset": p.get("lbaOffset"), "lbaCount": p.get("lbaCount"),
                                      "tokens": p.get("tokens")}
    print(json.dumps(out, sort_keys=True))


def ledger(ns, wait_s="20"):
    """Whether each FlashDevice's status (the operator's ledger: tenantCount, allocatedBytes) matches the tenants
    placed on it; waits up to wait_s for in-flight changes to settle. A deleted tenant the operator never freed
    shows here (the device counts it, no tenant is there)."""
    end = time.time() + float(wait_s)
    while True:
        tenants = api(tenant_path(ns))["items"]
        out, match = {}, True
        for d in api("/apis/reflex.io/v1alpha1/flashdevices")["items"]:
            name, st = d["metadata"]["name"], d.get("status") or {}
            on = [((t.get("status") or {}).get("placement") or {}) for t in tenants
                  if ((t.get("status") or {}).get("placement") or {}).get("device") == name]
            row = {"tenantCount": st.get("tenantCount"), "placed": len(on),
                   "allocatedBytes": st.get("allocatedBytes"), "bytesPlaced": sum(512 * (p.get("lbaCount") or 0) for p in on)}
            out[name] = row
            match = match and row["tenantCount"] == row["placed"] and row["allocatedBytes"] == row["bytesPlaced"]
        if match or time.time() > end:
            print(json.dumps({"match": match, "devices": out}, sort_keys=True))
            return
        time.sleep(1)


# ---- Prometheus text ----------------------------------------------------------------------------------------------
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        text = r.read().decode()
    out = []
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = LINE.match(line)
        if m:
            try:
                out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
            except ValueError:
                pass
    return out


# ---- reload: a real change of the node's SLO table every PERIOD s ------------------------------------------------
def reload_driver(out, ns, url, period, end):
    """Even ticks: churn-s's reserved IOPS toggles between its value and twice that (the dataplane updates the row,
    a new token rate). Odd ticks: a small LC tenant churn-c-J is created, or the one created before deleted (its
    port opens or closes: a row added or removed). Every change is checked on the agent's own /metrics (the
    dataplane's per-tenant gauges reflect the table it runs): reserved IOPS = the new value, the tenant's series
    present or gone. A create needs the operator (placement, token hash), so while it restarts a create waits; the
    next create/delete tick is deferred until the previous one is seen applied."""
    period, end = float(period), float(end)
    node = os.environ["SOAK_NODE"]
    slo = int(os.environ["SOAK_SLO"])
    base = int(os.environ["SOAK_CHURN_IOPS"])
    log = open(f"{out}/reloads.jsonl", "a", buffering=1)
    t0 = time.time()
    k, j = 0, 0
    iops = base
    churn = None          # name of the churn-c tenant that exists (created, maybe not yet served)
    pending = []          # [record, check(metrics) -> bool]
    cd_busy = False       # a create/delete not yet seen applied
    nxt = t0
    scrape_errors = 0

    def dp_name(n):
        return f"{ns}.{n}"

    while True:
        now = time.time()
        if now >= nxt and now < end:
            rec = {"k": k, "t": round(now, 3)}
            try:
                if k % 2 == 0:
                    iops = base * 2 if iops == base else base
                    api(tenant_path(ns, "churn-s"), "PATCH", {"spec": {"iops": iops}}, "application/merge-patch+json")
                    rec.update(kind="update", tenant="churn-s", iops=iops)
                    want = iops
                    pending.append((rec, lambda ms, want=want: any(
                        n == "reflex_tenant_reserved_iops" and l.get("tenant") == dp_name("churn-s") and v == want
                        for n, l, v in ms)))
                elif cd_busy:
                    rec.update(kind="deferred")
                    log.write(json.dumps(rec) + "\n")
                elif churn is None:
                    j += 1
                    churn = f"churn-c-{j}"
                    api(tenant_path(ns), "POST", lc_tenant(ns, churn, node, base, 2 * slo, "16Mi"))
                    rec.update(kind="add", tenant=churn)
                    cd_busy = True
                    name = dp_name(churn)
                    pending.append((rec, lambda ms, name=name: any(
                        n == "reflex_tenant_reserved_iops" and l.get("tenant") == name for n, l, v in ms)))
                else:
                    api(tenant_path(ns, churn), "DELETE")
                    rec.update(kind="remove", tenant=churn)
                    cd_busy = True
                    name = dp_name(churn)
                    churn = None
                    pending.append((rec, lambda ms, name=name: not any(l.get("tenant") == name for n, l, v in ms)))
            except (urllib.error.URLError, OSError, ValueError) as e:
                rec.update(kind=rec.get("kind", "error"), api_error=str(e))
                log.write(json.dumps(rec) + "\n")
                if rec.get("kind") in ("add", "remove"):
                    cd_busy = False
            k += 1
            nxt = t0 + k * period
        if pending:
            try:
                ms = scrape(url)
            except Exception:
                scrape_errors += 1
                ms = None
            now = time.time()
            still = []
            for rec, check in pending:
                if ms is not None and check(ms):
                    rec["applied_after_s"] = round(now - rec["t"], 3)
                    log.write(json.dumps(rec) + "\n")
                    if rec["kind"] in ("add", "remove"):
                        cd_busy = False
                elif now - rec["t"] > 60:
                    rec["applied_after_s"] = None
                    rec["missed"] = True
                    log.write(json.dumps(rec) + "\n")
                    if rec["kind"] in ("add", "remove"):
                        cd_busy = False
                else:
                    still.append((rec, check))
            pending = still
        if time.time() >= end and not pending:
            break
        if time.time() >= end + 65:
            break
        time.sleep(0.5 if pending else max(0.05, min(nxt, end) - time.time()))
    log.write(json.dumps({"kind": "end", "t": round(time.time(), 3), "scrape_errors": scrape_errors,
                          "churn_left": churn}) + "\n")
    # leave the table as it started: the last churn-c tenant goes
    if churn:
        try:
            api(tenant_path(ns, churn), "DELETE")
        except Exception:
            pass


# ---- sampling --------------------------------------------------------------------------------------------------------
def hsperf(pid):
    """The JVM's perf counters (what jstat reads): {name: long}. Empty if unavailable."""
    for p in glob.glob(f"/tmp/hsperfdata_*/{pid}"):
        try:
            b = open(p, "rb").read()
        except OSError:
            continue
        if b[:4] != b"\xca\xfe\xc0\xc0":
            continue
        e = "<" if b[4] == 1 else ">"
        entry_off, n = struct.unpack_from(e + "ii", b, 24)
        out, off = {}, entry_off
        for _ in range(n):
            length, name_off, vlen, dtype, _f, _u, _v, data_off = struct.unpack_from(e + "iiibbbbi", b, off)
            if dtype == ord("J") and vlen == 0:
                name = b[off + name_off: b.index(b"\0", off + name_off)].decode()
                out[name] = struct.unpack_from(e + "q", b, off + data_off)[0]
            off += length
        return out
    return {}


def heap_of(perf):
    used = [v for k, v in perf.items() if re.match(r"sun\.gc\.generation\.\d+\.space\.\d+\.used$", k)]
    if not used:
        return None
    old = sum(v for k, v in perf.items() if re.match(r"sun\.gc\.generation\.1\.space\.\d+\.used$", k))
    return {"heap_used": sum(used), "old_used": old,
            "gc_young": perf.get("sun.gc.collector.0.invocations"), "gc_full": perf.get("sun.gc.collector.1.invocations")}


def proc_sample(pid):
    try:
        st = open(f"/proc/{pid}/status").read()
        rss = int(re.search(r"^VmRSS:\s+(\d+)", st, re.M).group(1))
        anon = re.search(r"^RssAnon:\s+(\d+)", st, re.M)
        rfile = re.search(r"^RssFile:\s+(\d+)", st, re.M)
        threads = int(re.search(r"^Threads:\s+(\d+)", st, re.M).group(1))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cpu = int(stat[11]) + int(stat[12])
    except (OSError, AttributeError, IndexError, ValueError):
        return None
    s = {"pid": int(pid), "rss_kb": rss, "rss_anon_kb": int(anon.group(1)) if anon else None,
         "rss_file_kb": int(rfile.group(1)) if rfile else None, "threads": threads, "fds": fds, "cpu_ticks": cpu}
    # With ParallelGC and SerialGC the perf counters' space sizes are updated at each collection only (eden reads 0
    # after one): their sum is the heap left by the last GC, young or full.
    h = heap_of(hsperf(pid))
    if h:
        s.update(heap_after_gc=h["heap_used"], old_used=h["old_used"], gc_young=h["gc_young"], gc_full=h["gc_full"])
    return s


def read_pid(path):
    try:
        return int(open(path).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


AGENT_KEEP = ("reflex_tenant_requests_total", "reflex_tenant_rejected_total", "reflex_tenant_device_errors_total",
              "reflex_tenant_slow_requests_total", "reflex_tenant_slo_violations_total", "reflex_tenant_connections",
              "reflex_connections_opened_total", "reflex_connections_closed_total", "reflex_accept_errors_total",
              "reflex_agent_pass_failures_total", "reflex_agent_pass_seconds_count", "reflex_agent_tenants_serving",
              "reflex_agent_tenants_not_serving", "reflex_tenant_latency_seconds_bucket",
              "reflex_tenant_latency_seconds_count", "reflex_tenant_latency_micros")


def jvm_memory(ms):
    """Heap and non-heap in use from a scrape (Micrometer's jvm_memory_used_bytes: the memory pools, live)."""
    heap = sum(v for n, l, v in ms if n == "jvm_memory_used_bytes" and l.get("area") == "heap")
    nonheap = sum(v for n, l, v in ms if n == "jvm_memory_used_bytes" and l.get("area") == "nonheap")
    meta = sum(v for n, l, v in ms if n == "jvm_memory_used_bytes" and l.get("id") == "Metaspace")
    if not any(n == "jvm_memory_used_bytes" for n, l, v in ms):
        return {}
    return {"heap_used": int(heap), "nonheap_used": int(nonheap), "metaspace_used": int(meta)}


def agent_metrics(url, into=None):
    try:
        ms = scrape(url)
    except Exception as e:
        return {"error": str(e)}
    if into is not None:
        into.update(jvm_memory(ms))
    out = {}
    for n, l, v in ms:
        if n not in AGENT_KEEP:
            continue
        if n == "reflex_tenant_latency_micros" and l.get("quantile") != "0.95":
            continue
        key = n + "|" + ",".join(f"{k}={l[k]}" for k in sorted(l) if k not in ("device",))
        out[key] = out.get(key, 0) + v
    return out


def cpu_ticks():
    f = open("/proc/stat").readline().split()[1:]
    v = [int(x) for x in f]
    return {"total": sum(v[:8]), "steal": v[7] if len(v) > 7 else 0, "idle": v[3] + v[4]}


def sampler(out, url, op_url, period, end):
    period, end = float(period), float(end)
    cp = os.environ.get("REFLEX_CP_DIR", "")
    f = open(f"{out}/samples.jsonl", "a", buffering=1)
    t0 = time.time()
    i = 0
    while True:
        now = time.time()
        s = {"t": round(now, 3), "load1": float(open("/proc/loadavg").read().split()[0]), "cpu": cpu_ticks()}
        for name, pidfile in (("agent", f"{out}/pids/agent.pid"), ("operator", f"{out}/pids/operator.pid"),
                              ("apiserver", f"{cp}/kube-apiserver.pid"), ("etcd", f"{cp}/etcd.pid")):
            pid = read_pid(pidfile)
            if pid:
                p = proc_sample(pid)
                if p:
                    if name == "operator":
                        p["life"] = read_pid(f"{out}/pids/operator.life")
                    s[name] = p
        s["metrics"] = agent_metrics(url, s.get("agent"))
        if "operator" in s:
            try:
                s["operator"].update(jvm_memory(scrape(op_url)))
            except Exception:
                pass  # restarting
        f.write(json.dumps(s) + "\n")
        if now >= end:
            break
        i += 1
        time.sleep(max(0.0, t0 + i * period - time.time()))


def rss_by_kind(pid):
    """Resident KB of a JVM by kind: the Java heap (its reservation from GC.heap_info), each mapped file, [heap]
    (malloc's brk), [stack], io_uring rings, other anonymous memory (thread stacks, metaspace, code cache, malloc
    arenas, FFM allocations)."""
    jcmd = os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "jcmd")
    info = subprocess.run([jcmd, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
    ranges = [(int(a, 16), int(c, 16)) for a, b, c in re.findall(r"\[0x([0-9a-f]+), 0x([0-9a-f]+), 0x([0-9a-f]+)\)", info)]
    lo, hi = (min(a for a, _ in ranges), max(c for _, c in ranges)) if ranges else (0, 0)
    out, kind = {}, None
    try:
        lines = open(f"/proc/{pid}/smaps").read().splitlines()
    except OSError:
        return {}
    for line in lines:
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$", line)
        if m:
            start, path = int(m.group(1), 16), m.group(3).strip()
            if lo <= start < hi:
                kind = "java heap"
            elif path.startswith("/"):
                kind = "file " + os.path.basename(path)
            elif path:
                kind = path
            else:
                kind = "other anonymous"
        elif line.startswith("Rss:") and kind:
            out[kind] = out.get(kind, 0) + int(line.split()[1])
    big = {k: v for k, v in out.items() if not k.startswith("file ")}
    big["files"] = sum(v for k, v in out.items() if k.startswith("file "))
    return big


def gcpoint(out, label, name, pid):
    """jcmd PID GC.run (System.gc(): a full collection with ParallelGC and SerialGC), then the heap left."""
    t = time.time()
    r = subprocess.run([os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "jcmd"), pid, "GC.run"],
                       capture_output=True, text=True, timeout=60)
    took = time.time() - t
    h = heap_of(hsperf(pid)) or {}
    rec = {"t": round(t, 3), "label": label, "name": name, "pid": int(pid), "ok": r.returncode == 0,
           "jcmd_s": round(took, 2), **h}
    p = proc_sample(pid)
    if p:
        rec.update(rss_kb=p["rss_kb"], rss_anon_kb=p["rss_anon_kb"], rss_file_kb=p["rss_file_kb"], fds=p["fds"],
                   threads=p["threads"])
    if name == "agent":
        rec["rss_by_kind_kb"] = rss_by_kind(pid)
        if label == "end":
            # How much of the RSS is memory malloc has freed but kept (arenas' high-water marks, e.g. after a JIT
            # compilation's peak): glibc's malloc_trim through the JVM. It changes nothing the process uses.
            tr = subprocess.run([os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "jcmd"), pid,
                                 "System.trim_native_heap"], capture_output=True, text=True, timeout=60)
            after = proc_sample(pid)
            rec["trim_native_heap"] = {"output": " ".join(tr.stdout.split()[-8:]),
                                       "rss_kb_after": after["rss_kb"] if after else None}
    if os.environ.get("SOAK_NMT") == "1" and name == "agent":  # the JVM runs with -XX:NativeMemoryTracking=summary: committed per category
        n = subprocess.run([os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "jcmd"), pid,
                            "VM.native_memory", "summary", "scale=KB"], capture_output=True, text=True, timeout=60)
        open(f"{out}/nmt/{name}-{label}.txt", "w").write(n.stdout)
        cats = {m.group(1).strip(): int(m.group(3)) for m in
                re.finditer(r"^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB\)", n.stdout, re.M)}
        tot = re.search(r"^Total: reserved=(\d+)KB, committed=(\d+)KB", n.stdout, re.M)
        if tot:
            cats["Total"] = int(tot.group(2))
        rec["nmt_committed_kb"] = cats
    open(f"{out}/gcpoints.jsonl", "a").write(json.dumps(rec) + "\n")
    print(f"{name} live heap after a full GC: {h.get('heap_used', 0) / MIB:.1f} MiB (jcmd {took:.1f} s)")


# ---- report --------------------------------------------------------------------------------------------------------
COLS = ["rq", "iops", "avg", "p10", "p20", "p30", "p40", "p50", "p60", "p70", "p80", "p90", "p95", "p99", "max",
        "missed", "p999", "errors"]


def client_rows(out, name):
    """Every measured window of a client: from its timestamped stdout (EPOCH row...), one file per client run."""
    rows = []
    for run, path in enumerate(sorted(glob.glob(f"{out}/clients/{name}-*.rows"), key=lambda p: int(p.rsplit("-", 1)[1][:-5]))):
        first = True
        for line in open(path):
            parts = line.split()
            if len(parts) != 1 + len(COLS) or not re.match(r"^[0-9.]+$", parts[1]):
                continue
            r = dict(zip(COLS, (float(x) for x in parts[1:])))
            r["t_end"] = float(parts[0])
            r["run"] = run
            r["first_of_run"] = first
            first = False
            rows.append(r)
    return rows


def nearest(samples, t):
    best = None
    for s in samples:
        if best is None or abs(s["t"] - t) < abs(best["t"] - t):
            best = s
    return best


def hist_window(s0, s1, tenant, le_s):
    """Server side, between two samples, from the agent's cumulative latency histogram (parse -> completion; not
    split by other scrapers): (fraction of the tenant's requests within le_s seconds, requests, upper bound of the
    bucket holding the 95th percentile in µs)."""
    m0, m1 = s0.get("metrics") or {}, s1.get("metrics") or {}
    pre = "reflex_tenant_latency_seconds_bucket|"
    buckets = []
    for key, v1 in m1.items():
        if key.startswith(pre) and f"tenant={tenant}" in key:
            le = re.search(r"le=([^,]+)", key).group(1)
            buckets.append((float("inf") if le == "+Inf" else float(le), v1 - m0.get(key, 0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None, 0, None
    total = buckets[-1][1]
    within = next((c for le, c in buckets if abs(le - le_s) < 1e-9), None)
    p95 = next((le for le, c in buckets if c >= 0.95 * total), None)
    return (None if within is None else within / total), total, (None if p95 is None else p95 * 1e6)


def slope_block(points_h, thr, unit, judged):
    """points_h: [(hours, value)] -> {slope, se, n, threshold, ok}."""
    r = regression(points_h)
    if r is None:
        return {"slope": None, "se": None, "n": len(points_h), "threshold": thr, "unit": unit, "ok": None,
                "judged": False}
    b, se, n = r
    grows = b > thr and (b - 2 * se) > 0
    return {"slope": round(b, 2), "se": round(se, 2), "n": n, "threshold": thr, "unit": unit,
            "ok": not grows, "judged": judged}


def report(out):
    meta = json.load(open(f"{out}/meta.json"))
    samples = [json.loads(l) for l in open(f"{out}/samples.jsonl")] if os.path.exists(f"{out}/samples.jsonl") else []
    events = [json.loads(l) for l in open(f"{out}/events.jsonl")] if os.path.exists(f"{out}/events.jsonl") else []
    reloads = [json.loads(l) for l in open(f"{out}/reloads.jsonl")] if os.path.exists(f"{out}/reloads.jsonl") else []
    gcp = [json.loads(l) for l in open(f"{out}/gcpoints.jsonl")] if os.path.exists(f"{out}/gcpoints.jsonl") else []
    T0, END, dur = meta["t0"], meta["t_end"], meta["duration"]
    slo, offered = meta["slo"], meta["lc_iops"]
    judged_slopes = dur >= 600
    S = {"meta": meta}
    run = [s for s in samples if T0 <= s["t"] <= END + 1]
    if len(run) >= 2:
        a, b = run[0]["cpu"], run[-1]["cpu"]
        meta["steal_pct"] = round(100 * (b["steal"] - a["steal"]) / max(1, b["total"] - a["total"]), 2)
        meta["load1_mean"] = round(sum(s["load1"] for s in run) / len(run), 2)
    ver = []

    def verdict(name, ok, value, need, judged=True):
        ver.append({"verdict": name, "ok": bool(ok), "value": value, "need": need, "judged": judged})

    # -- load windows ----------------------------------------------------------------------------------------------
    restarts = [e for e in events if e.get("what") == "operator-kill"]
    gcs = [g for g in gcp if g["name"] == "agent" and g.get("label") == "mid"]
    lc = client_rows(out, "lc")
    win, warm = [], []
    for r in lc:
        if r["t_end"] < T0 + meta["window"] / 2:  # (a client JVM starts in ~1 s: its rows end a little late)
            warm.append(r)  # the warm-up windows (JIT of client and agent, first table changes), before T0
            continue
        t1, t0w = r["t_end"], r["t_end"] - meta["window"]
        s = nearest(samples, t1 - meta["window"] / 2) if samples else None
        ok_lat = r["p95"] <= slo
        ok_iops = r["iops"] >= 0.95 * offered
        w = {"t": round(t1 - T0, 1), "p95_us": r["p95"], "p99_us": r["p99"], "iops": r["iops"],
             "errors": int(r["errors"]), "met": ok_lat and ok_iops and r["errors"] == 0, "p95_ok": ok_lat,
             "iops_ok": ok_iops, "load1": s["load1"] if s else None,
             # a stop, or the new operator's start (~10 s of JVM start and resync) within the window
             "operator_restart": any(t0w - 15 <= e["t"] <= t1 for e in restarts),
             "forced_gc": any(t0w <= g["t"] <= t1 and g["name"] == "agent" for g in gcs)}
        win.append(w)
    # steal per window from the samples (cpu ticks), attributed to the window ending at each sample
    for w in win:
        t1 = T0 + w["t"]
        before = [s for s in samples if s["t"] <= t1 - meta["window"] + 1]
        after = [s for s in samples if s["t"] >= t1 - 1]
        if before and after:
            a, b = before[-1]["cpu"], after[0]["cpu"]
            w["steal_pct"] = round(100 * (b["steal"] - a["steal"]) / max(1, b["total"] - a["total"]), 1)
            w["idle_pct"] = round(100 * (b["idle"] - a["idle"]) / max(1, b["total"] - a["total"]), 1)
    all_met = sum(w["met"] for w in win)
    all_pct = 100 * all_met / len(win) if win else 0
    judged_win = [w for w in win if not w["forced_gc"]]  # the mid-run full GC is our measurement, not the product
    n_met = sum(w["met"] for w in judged_win)
    met_pct = 100 * n_met / len(judged_win) if judged_win else 0
    misses = [w for w in win if not w["met"]]
    S["lc"] = {"offered_iops": offered, "slo_p95_us": slo, "windows": len(judged_win), "met": n_met,
               "met_pct": round(met_pct, 2), "windows_all": len(win), "met_all": all_met,
               "met_pct_all": round(all_pct, 2), "missed_windows": misses,
               "p95_us": {"p50": pct([w["p95_us"] for w in win], 50), "max": max((w["p95_us"] for w in win), default=None)},
               "iops_mean": round(sum(w["iops"] for w in win) / len(win), 1) if win else None,
               "requests": int(sum(r["iops"] * meta["window"] for r in lc)),
               "load1": {"p50": pct([w["load1"] for w in win], 50), "max": max((w["load1"] or 0 for w in win), default=None)},
               "load1_missed": [w["load1"] for w in misses],
               "windows_during_operator_restart": sum(w["operator_restart"] for w in win),
               "missed_during_operator_restart": sum(w["operator_restart"] for w in misses),
               "warmup_p95_us": [r["p95"] for r in warm]}
    json.dump(win, open(f"{out}/lc-windows.json", "w"), indent=0)
    verdict("LC SLO met in >= 99% of 10-s windows (client side: p95 <= SLO, >= 95% of offered IOPS, no error; "
            "the window of the mid-run forced GC left out)",
            met_pct >= 99 and judged_win, f"{n_met}/{len(judged_win)} = {met_pct:.1f}% (all windows: {all_met}/{len(win)})", ">= 99%",
            judged=dur >= 600)  # below 60 windows "99%" means "no window missed": a short run checks the machinery

    # server-side windows from the cumulative latency histogram (independent of scrape windows)
    srv = []
    for s0, s1 in zip(samples, samples[1:]):
        if s1["t"] < T0 or s0["t"] > END:
            continue
        f, n, p95b = hist_window(s0, s1, f"{meta['ns']}.lc", slo / 1e6)
        if f is not None and n >= 20:
            srv.append({"t": round(s1["t"] - T0, 1), "frac_within_slo": round(f, 4), "requests": n,
                        "p95_bucket_us": p95b, "met": f >= 0.95, "load1": s1["load1"]})
    S["lc"]["server_windows"] = len(srv)
    S["lc"]["server_met_pct"] = round(100 * sum(w["met"] for w in srv) / len(srv), 2) if srv else None
    S["lc"]["server_p95_bucket_us"] = {"p50": pct([w["p95_bucket_us"] for w in srv], 50),
                                       "max": max((w["p95_bucket_us"] for w in srv), default=None)}
    json.dump(srv, open(f"{out}/lc-server-windows.json", "w"), indent=0)

    # BE
    S["be"] = {}
    for name in ("be-r", "be-w"):
        rows = [r for r in client_rows(out, name) if not (r["run"] == 0 and r["first_of_run"])]
        S["be"][name] = {"offered_iops": meta[f"{name.replace('-', '_')}_iops"], "windows": len(rows),
                         "iops_mean": round(sum(r["iops"] for r in rows) / len(rows), 1) if rows else None,
                         "iops_min": min((r["iops"] for r in rows), default=None),
                         "p95_us_p50": pct([r["p95"] for r in rows], 50),
                         "requests": int(sum(r["iops"] * meta["window"] for r in client_rows(out, name))),
                         "errors": int(sum(r["errors"] for r in client_rows(out, name)))}

    # -- errors ----------------------------------------------------------------------------------------------------
    cl_err = sum(int(r["errors"]) for n in ("lc", "be-r", "be-w") for r in client_rows(out, n))
    lost = 0
    for p in glob.glob(f"{out}/clients/*.err"):
        lost += sum(1 for l in open(p, errors="replace") if "lost connection" in l)
    reconnects = sum(1 for e in events if e.get("what") == "client-restart")
    client_exit_bad = [e for e in events if e.get("what") == "client-exit" and e.get("rc") not in (0,)]

    def mdelta(prefix, match=""):
        first = next((s for s in samples if s["t"] >= T0 and "error" not in (s.get("metrics") or {})), None)
        last = next((s for s in reversed(samples) if "error" not in (s.get("metrics") or {})), None)
        if not first or not last:
            return None
        tot = 0
        for k, v in last["metrics"].items():
            if k.startswith(prefix + "|") and match in k:
                tot += v - first["metrics"].get(k, 0)
        return tot

    srv_rej = mdelta("reflex_tenant_rejected_total")
    srv_dev = mdelta("reflex_tenant_device_errors_total")
    opened = mdelta("reflex_connections_opened_total")
    pass_fail = mdelta("reflex_agent_pass_failures_total")
    passes = mdelta("reflex_agent_pass_seconds_count")
    closed = {}
    if samples:
        last = samples[-1].get("metrics") or {}
        first = next((s for s in samples if s["t"] >= T0), samples[0]).get("metrics") or {}
        for k, v in last.items():
            if k.startswith("reflex_connections_closed_total|"):
                d = v - first.get(k, 0)
                if d:
                    closed[re.search(r"reason=([^,]*)", k).group(1) if "reason=" in k else "?"] = d
    S["errors"] = {"client_errors": cl_err, "lost_connections": lost, "client_reconnects": reconnects,
                   "client_bad_exits": client_exit_bad, "server_rejected": srv_rej, "server_device_errors": srv_dev,
                   "server_connections_opened": opened, "server_connections_closed": closed,
                   "agent_pass_failures": pass_fail, "agent_passes": passes, "metric_scrape_failures": sum(1 for s in samples if "error" in (s.get("metrics") or {}))}
    total_err = cl_err + lost + reconnects + len(client_exit_bad) + int(srv_rej or 0) + int(srv_dev or 0)
    verdict("0 errors (client errors/non-OK statuses, lost connections, reconnects, server rejects, device errors)",
            total_err == 0, total_err, "0")

    # -- reloads ---------------------------------------------------------------------------------------------------
    done = [r for r in reloads if r.get("kind") in ("update", "add", "remove")]
    applied = [r for r in done if r.get("applied_after_s") is not None]
    missed = [r for r in done if r.get("missed") or r.get("api_error")]
    deferred = [r for r in reloads if r.get("kind") == "deferred"]
    ticks = len(done) + len(deferred)
    expected = int(dur // meta["reload"])
    lat = [r["applied_after_s"] for r in applied]
    by = {k: sum(1 for r in applied if r["kind"] == k) for k in ("update", "add", "remove")}
    S["reloads"] = {"period_s": meta["reload"], "ticks": ticks, "expected_ticks": expected, "changes_made": len(done),
                    "applied": len(applied), "applied_by_kind": by, "missed_or_failed": missed,
                    "deferred": len(deferred), "applied_after_s": {"p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat, default=None)},
                    "add_applied_after_s_max": max((r["applied_after_s"] for r in applied if r["kind"] == "add"), default=None),
                    "end": next((r for r in reloads if r.get("kind") == "end"), None)}
    verdict("SLO table reloaded every RELOAD s, each change seen applied by the dataplane (none missed)",
            not missed and len(applied) >= 0.9 * expected and applied,
            f"{len(applied)} applied of {len(done)} changes ({by}); {len(missed)} missed; {len(deferred)} deferred",
            f">= 90% of {expected} ticks applied, 0 missed")

    # -- operator restarts --------------------------------------------------------------------------------------------
    rs = [e for e in events if e.get("what") == "operator-ready"]
    S["operator"] = {"restarts": len(restarts), "expected": meta["expected_restarts"],
                     "kills": [{k: e.get(k) for k in ("n", "signal", "exit_after_s", "t")} for e in restarts],
                     "ready_after_s": [e.get("ready_after_s") for e in rs if e.get("n", 0) > 0],
                     "ledger_rebuilt": [e.get("ledger") for e in rs if e.get("n", 0) > 0]}
    ok_r = len(restarts) == meta["expected_restarts"] and len([e for e in rs if e.get("n", 0) > 0]) == len(restarts)
    verdict("operator restarted every OPERATOR_RESTART s (SIGTERM and kill -9 alternately), ready again each time",
            ok_r, f"{len(restarts)} restarts, {len([e for e in rs if e.get('n', 0) > 0])} ready again",
            f"{meta['expected_restarts']}")
    pl0, pl1 = meta.get("placements_start"), meta.get("placements_end")
    keep = ("lc", "be-r", "be-w", "churn-s")
    same = bool(pl0 and pl1) and all(
        {k: v for k, v in (pl0.get(n) or {}).items() if k != "tokens"} == {k: v for k, v in (pl1.get(n) or {}).items() if k != "tokens"}
        for n in keep)
    serving_end = bool(pl1) and all((pl1.get(n) or {}).get("phase") == "Serving" for n in keep)
    S["placements"] = {"start": pl0, "end": pl1, "unchanged": same, "all_serving_at_end": serving_end}
    verdict("the loaded tenants kept their placement (device, port, extent) and are Serving at the end",
            same and serving_end, f"unchanged={same}, serving={serving_end}", "both")
    led = meta.get("ledger_end") or {}
    S["ledger_end"] = led
    verdict("the device's reservations at the end are exactly its tenants' (every deleted churn tenant freed)",
            bool(led.get("match")), "; ".join(f"{d}: {r['tenantCount']} tenants / {r['placed']} placed, "
                                               f"{r['allocatedBytes']} / {r['bytesPlaced']} bytes"
                                               for d, r in (led.get("devices") or {}).items()) or "not measured",
            "tenantCount and allocatedBytes = the placed tenants'")

    # -- resources: slopes -------------------------------------------------------------------------------------------
    half = T0 + dur / 2
    res = {}
    TH = {"rss": 5.0, "heap": 5.0, "fds": 10.0, "threads": 10.0}

    def series(name, key, scale, t_from):
        return [((s["t"] - T0) / 3600, s[name][key] * scale) for s in samples
                if name in s and s[name].get(key) is not None and t_from <= s["t"] <= END + 5]

    for name in ("agent", "apiserver", "etcd"):
        r = {}
        for key, scale, unit, th in (("rss_kb", 1 / 1024, "MiB/h", TH["rss"]), ("rss_anon_kb", 1 / 1024, "MiB/h", TH["rss"]),
                                     ("rss_file_kb", 1 / 1024, "MiB/h", TH["rss"]), ("heap_used", 1 / MIB, "MiB/h", TH["heap"]),
                                     ("heap_after_gc", 1 / MIB, "MiB/h", TH["heap"]),
                                     ("nonheap_used", 1 / MIB, "MiB/h", TH["heap"]), ("old_used", 1 / MIB, "MiB/h", TH["heap"]),
                                     ("fds", 1, "fds/h", TH["fds"]), ("threads", 1, "threads/h", TH["threads"])):
            full = series(name, key, scale, T0)
            if not full:
                continue
            r[key] = {"first": round(full[0][1], 1), "last": round(full[-1][1], 1),
                      "min": round(min(v for _, v in full), 1), "max": round(max(v for _, v in full), 1),
                      "slope_full": slope_block(full, th, unit, False),
                      "slope_second_half": slope_block(series(name, key, scale, half), th, unit,
                                                       judged_slopes and name == "agent"
                                                       and key in ("rss_kb", "fds", "threads", "heap_after_gc"))}
        res[name] = r
    # agent live heap: forced full GCs before the load, once mid-run (between two restarts) and after the load
    live = [((g["t"] - T0) / 3600, g["heap_used"] / MIB, g["label"]) for g in gcp if g["name"] == "agent" and g.get("heap_used")]
    mid = next((x for x in live if x[2] == "mid"), None)
    end = next((x for x in live if x[2] == "end"), None)
    rate = round((end[1] - mid[1]) / (end[0] - mid[0]), 2) if mid and end and end[0] > mid[0] else None
    res["agent"]["live_heap_after_full_gc"] = {
        "points": [{"t": round(h * 3600), "label": l, "mib": round(v, 2)} for h, v, l in live],
        "mid_to_end_mib_per_h": rate,
        "ok": None if rate is None else rate <= TH["heap"], "judged": judged_slopes and rate is not None,
        "threshold": TH["heap"], "unit": "MiB/h"}
    # where the agent's RSS went between the mid-run point and the end (smaps by kind)
    km = next((g for g in gcp if g["name"] == "agent" and g["label"] == "mid" and g.get("rss_by_kind_kb")), None)
    ke = next((g for g in gcp if g["name"] == "agent" and g["label"] == "end" and g.get("rss_by_kind_kb")), None)
    if km and ke:
        a0, a1 = km["rss_by_kind_kb"], ke["rss_by_kind_kb"]
        res["agent"]["rss_by_kind_mid_to_end_kb"] = {k: a1.get(k, 0) - a0.get(k, 0) for k in sorted(set(a0) | set(a1))
                                                     if a1.get(k, 0) != a0.get(k, 0)}
        res["agent"]["rss_by_kind_end_kb"] = a1
    # operator: per life (it is restarted every OPERATOR_RESTART s): its state at the end of each life, and live heap
    lives = {}
    for s in samples:
        o = s.get("operator")
        if o and o.get("life") is not None and T0 - 1 <= s["t"] <= END + 5:
            lives.setdefault(o["life"], []).append((s["t"], o))
    ends = []
    for life, pts in sorted(lives.items()):
        t, o = pts[-1]
        ends.append({"life": life, "t": round(t - T0), "samples": len(pts), "rss_mib": round(o["rss_kb"] / 1024, 1),
                     "heap_mib": round((o.get("heap_used") or 0) / MIB, 1), "fds": o["fds"], "threads": o["threads"]})
    op_live = [((g["t"] - T0) / 3600, g["heap_used"] / MIB) for g in gcp
               if g["name"] == "operator" and g.get("heap_used") and g["label"].endswith("-end")
               and g["label"] != "life-1-end"]
    # Compared: lives 2..N-1. The first life began on an empty cluster (the tenants were created during it); the
    # last one is cut short by the end of the run.
    complete = [e for e in ends[1:-1]]
    res["operator"] = {
        "lives": ends,
        "across_lives": {
            "rss_kb": slope_block([(e["t"] / 3600, e["rss_mib"]) for e in complete], TH["rss"], "MiB/h", judged_slopes),
            "fds": slope_block([(e["t"] / 3600, e["fds"]) for e in complete], TH["fds"], "fds/h", judged_slopes),
            "threads": slope_block([(e["t"] / 3600, e["threads"]) for e in complete], TH["threads"], "threads/h", judged_slopes),
            "live_heap_end_of_life": {"points": [{"t": round(h * 3600), "mib": round(v, 1)} for h, v in op_live],
                                      **slope_block(op_live, TH["heap"], "MiB/h", judged_slopes)}}}
    nmt = [g for g in gcp if g["name"] == "agent" and g.get("nmt_committed_kb")]
    if len(nmt) >= 2:
        mid = next((g for g in nmt if g["t"] >= half - 1), nmt[0])
        last = nmt[-1]
        res["agent"]["nmt"] = {
            "from": mid["label"], "to": last["label"], "hours": round((last["t"] - mid["t"]) / 3600, 3),
            "committed_delta_kb": {k: last["nmt_committed_kb"].get(k, 0) - mid["nmt_committed_kb"].get(k, 0)
                                   for k in sorted(set(mid["nmt_committed_kb"]) | set(last["nmt_committed_kb"]))},
            "points": [{"label": g["label"], "t": round(g["t"] - T0), **g["nmt_committed_kb"]} for g in nmt]}
    S["resources"] = res
    S["thresholds"] = TH
    lh = res["agent"]["live_heap_after_full_gc"]
    if lh["mid_to_end_mib_per_h"] is not None:
        verdict("agent live heap (forced full GC mid-run and at the end) flat", lh["ok"],
                f"{lh['points'][-2]['mib'] if len(lh['points']) > 1 else '-'} → {lh['points'][-1]['mib']} MiB: "
                f"{lh['mid_to_end_mib_per_h']:+.2f} MiB/h", f"<= {TH['heap']:g} MiB/h", judged=lh["judged"])
    checks = [("agent RSS", res["agent"].get("rss_kb", {}).get("slope_second_half")),
              ("agent heap after each GC", res["agent"].get("heap_after_gc", {}).get("slope_second_half")),
              ("agent open fds", res["agent"].get("fds", {}).get("slope_second_half")),
              ("agent threads", res["agent"].get("threads", {}).get("slope_second_half")),
              ("operator RSS at end of each life", res["operator"]["across_lives"]["rss_kb"]),
              ("operator live heap at end of each life", res["operator"]["across_lives"]["live_heap_end_of_life"]),
              ("operator open fds at end of each life", res["operator"]["across_lives"]["fds"]),
              ("operator threads at end of each life", res["operator"]["across_lives"]["threads"])]
    for label, b in checks:
        if not b:
            continue
        val = "-" if b["slope"] is None else f"{b['slope']:+.2f} ± {b['se']:.2f} {b['unit']} (n={b['n']})"
        verdict(f"{label} flat", b["ok"] is not False, val,
                f"not > {b['threshold']:g} {b['unit']} with slope - 2 SE > 0",
                judged=bool(b["judged"]) and b["ok"] is not None)

    S["verdicts"] = ver
    S["_gcp"] = [g for g in gcp if g["name"] == "agent"]
    failed = [v for v in ver if v["judged"] and not v["ok"]]
    S["passed"] = not failed
    json.dump(S, open(f"{out}/summary.json", "w"), indent=1, default=str)
    md = render(S)
    open(f"{out}/summary.md", "w").write(md)
    print(md)
    sys.exit(1 if failed else 0)


def render(S):
    m, lc, e, rl, op, res = S["meta"], S["lc"], S["errors"], S["reloads"], S["operator"], S["resources"]
    L = []
    a = L.append
    a(f"# Soak {m['stamp']} ({m['duration']} s{' — short' if m['duration'] < 600 else ''})")
    a("")
    a(f"- command: `{m['command']}`")
    a(f"- commit {m['commit']}; jars from {m['reflex_home']}; {m['nproc']} vCPU; layout: {m['layout']}")
    a(f"- {m['plan_text']}")
    a(f"- load average at start {m['load_start']}, at end {m.get('load_end')}; host steal over the run "
      f"{m.get('steal_pct', '-')}%")
    a(f"- operator restarted every {m['operator_restart']} s, SLO table change every {m['reload']} s, samples every "
      f"{m['window']} s")
    a("")
    a("| verdict | value | need | result |")
    a("|---|---|---|---|")
    for v in S["verdicts"]:
        r = ("PASS" if v["ok"] else "FAIL") if v["judged"] else ("(ok)" if v["ok"] else "(over, not judged)")
        a(f"| {v['verdict']} | {v['value']} | {v['need']} | {r} |")
    a("")
    a(f"**LC** (`lc`, {lc['offered_iops']:,} IOPS reserved and offered open loop, p95 SLO {lc['slo_p95_us']} µs): "
      f"{lc['met']}/{lc['windows']} windows met ({lc['met_pct']}%; all windows, with the forced GC's: "
      f"{lc['met_all']}/{lc['windows_all']}); window p95 median {lc['p95_us']['p50']} µs, "
      f"worst {lc['p95_us']['max']} µs; mean {lc['iops_mean']} IOPS; ~{lc['requests']:,} requests. Server side "
      f"(agent's latency histogram, parse → completion): {lc['server_met_pct']}% of {lc['server_windows']} windows "
      f"with ≥ 95% of requests within the SLO (window p95 bucket median {lc['server_p95_bucket_us']['p50']} µs, worst "
      f"{lc['server_p95_bucket_us']['max']} µs). Load average (1 min) per window: median {lc['load1']['p50']}, max "
      f"{lc['load1']['max']}; at the missed windows: {lc['load1_missed']}. Windows overlapping an operator restart: "
      f"{lc['windows_during_operator_restart']} ({lc['missed_during_operator_restart']} missed).")
    a("")
    a(f"Warm-up ({m.get('warmup', m['window'])} s before t0, not judged): window p95 {lc['warmup_p95_us']} µs.")
    if lc["missed_windows"]:
        a("")
        a("Missed windows: " + "; ".join(
            f"t={w['t']} s p95 {w['p95_us']:.0f} µs {w['iops']:.0f} IOPS err {w['errors']} load {w['load1']} steal "
            f"{w.get('steal_pct')}% idle {w.get('idle_pct')}%{' [operator restart]' if w['operator_restart'] else ''}{' [forced GC]' if w['forced_gc'] else ''}"
            for w in lc["missed_windows"][:30]))
    a("")
    a("**BE**: " + "; ".join(f"`{n}` offered {b['offered_iops']:,}/s, achieved mean {b['iops_mean']}/s (min window "
                             f"{b['iops_min']}), window p95 median {b['p95_us_p50']} µs, {b['requests']:,} requests, "
                             f"{b['errors']} errors" for n, b in S["be"].items()))
    a("")
    a(f"**Errors**: client {e['client_errors']}, lost connections {e['lost_connections']}, reconnects "
      f"{e['client_reconnects']}, server rejected {e['server_rejected']}, device errors {e['server_device_errors']}; "
      f"connections opened at the server during the run {e['server_connections_opened']}, closed {e['server_connections_closed']}; "
      f"agent control passes {e['agent_passes']}, failed {e['agent_pass_failures']}")
    a("")
    a(f"**Reloads**: {rl['applied']} table changes applied ({rl['applied_by_kind']}) of {rl['changes_made']} made "
      f"({rl['ticks']} ticks, {rl['deferred']} deferred while a create waited for the operator); seen applied after "
      f"p50 {rl['applied_after_s']['p50']} s, p99 {rl['applied_after_s']['p99']} s, max {rl['applied_after_s']['max']} s; "
      f"missed {len(rl['missed_or_failed'])}")
    a("")
    a(f"**Operator**: {op['restarts']} restarts: " + ", ".join(
        f"#{k['n']} {k['signal']} (exited after {k['exit_after_s']} s)" for k in op["kills"]) +
      f"; ready again after {op['ready_after_s']} s")
    a("")
    a("**Resources** (slope ± standard error from a linear fit; second half = after the first "
      f"{m['duration'] // 2} s):")
    a("")
    a("| process | metric | first → last (min–max) | slope, whole run | slope, second half |")
    a("|---|---|---|---|---|")
    fmt = lambda b: "-" if not b or b["slope"] is None else f"{b['slope']:+.2f} ± {b['se']:.2f} {b['unit']}"
    for name in ("agent", "apiserver", "etcd"):
        for key, label in (("rss_kb", "RSS MiB"), ("rss_anon_kb", "RSS anonymous MiB"), ("rss_file_kb", "RSS file-backed MiB"),
                           ("heap_after_gc", "heap after the last GC MiB"), ("heap_used", "heap used MiB (sampled: sawtooth)"),
                           ("nonheap_used", "non-heap MiB (metaspace, code cache)"), ("fds", "open fds"),
                           ("threads", "threads")):
            r = res.get(name, {}).get(key)
            if r:
                a(f"| {name} | {label} | {r['first']} → {r['last']} ({r['min']}–{r['max']}) | {fmt(r['slope_full'])} | "
                  f"{fmt(r['slope_second_half'])} |")
    lh = res["agent"]["live_heap_after_full_gc"]
    pts = ", ".join("%s %s" % (p["label"], p["mib"]) for p in lh["points"])
    a(f"| agent | live heap after a forced full GC, MiB | {pts} | | mid → end: {lh['mid_to_end_mib_per_h']} MiB/h |")
    trims = [(g["label"], g.get("rss_kb"), g["trim_native_heap"].get("rss_kb_after")) for g in S.get("_gcp", [])
             if g.get("trim_native_heap")]
    if trims:
        a("")
        a("Agent RSS before → after `jcmd System.trim_native_heap` (malloc's freed-but-kept memory returned): " +
          "; ".join(f"{l}: {b / 1024:.1f} → {c / 1024:.1f} MiB" for l, b, c in trims if b and c))
    if res["agent"].get("rss_by_kind_mid_to_end_kb"):
        a("")
        a("Agent RSS by kind at the end (KB): " + ", ".join(f"{k} {v:,}" for k, v in sorted(
            res["agent"]["rss_by_kind_end_kb"].items(), key=lambda x: -x[1]) if v >= 1024) +
          "; change from the mid-run point to the end (KB): " + ", ".join(
            f"{k} {v:+,}" for k, v in sorted(res["agent"]["rss_by_kind_mid_to_end_kb"].items(), key=lambda x: -abs(x[1]))))
    if res["agent"].get("nmt"):
        n = res["agent"]["nmt"]
        d = sorted(((v, k) for k, v in n["committed_delta_kb"].items() if v), key=lambda x: -abs(x[0]))
        a("")
        a(f"Agent native memory (NMT, committed) from `{n['from']}` to `{n['to']}` ({n['hours']} h): " +
          ", ".join(f"{k} {v:+,} KB" for v, k in d[:12]))
    al = res["operator"]["across_lives"]
    a("")
    a("Operator, each life's last sample: " + "; ".join(
        f"life {x['life']} (t={x['t']} s): RSS {x['rss_mib']} MiB, heap {x['heap_mib']} MiB, {x['fds']} fds, "
        f"{x['threads']} threads" for x in res["operator"]["lives"]))
    a(f"; live heap after a full GC just before each stop (from life 2 on): {', '.join(str(p['mib']) for p in al['live_heap_end_of_life']['points'])} MiB. "
      f"Across lives: RSS {fmt(al['rss_kb'])}, fds {fmt(al['fds'])}, threads {fmt(al['threads'])}, live heap "
      f"{fmt(al['live_heap_end_of_life'])}.")
    a("")
    a("Thresholds: " + ", ".join(f"{k} {v:g}/h" for k, v in S["thresholds"].items()) +
      " (bench/soak/README.md explains them); the LC SLO share and the slopes are judged only in runs of ≥ 600 s, "
      "and growth counts only when the slope is over the threshold and more than 2 standard errors above zero.")
    a("")
    a(f"**Result: {'PASS' if S['passed'] else 'FAIL'}**")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"plan": plan, "tenants": tenants_yaml, "serving": serving, "placements": placements, "ledger": ledger, "reload": reload_driver,
     "sample": sampler, "gcpoint": gcpoint, "report": report}[cmd](*args)

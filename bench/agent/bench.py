#!/usr/bin/env python3
"""Helper of bench/agent/run.sh (stdlib only). Talks to kube-apiserver directly over HTTPS with the control plane's
admin certificate (REFLEX_CP_DIR/pki), like bench/operator/bench.py.

  bench.py apply OUT NS PREFIX N NODE CAPACITY GAP TIMEOUT
      watches the namespace's FlashTenants, then server-side applies N BE tenants PREFIX-000.. (one request each,
      the same PATCH `kubectl apply --server-side` sends), GAP seconds apart; records for each tenant the time just
      before its apply request, the apply's return, and the first watch event showing phase Placed (operator) and
      Serving (agent). Writes OUT/apply.jsonl and OUT/apply-summary.json; exit 1 if not all are Serving in TIMEOUT s.
  bench.py secret NS NAME                 prints "port token lbaCount" of the tenant's Secret NAME-reflex
  bench.py tenant NS NAME                 prints "phase node device port lbaOffset" of a FlashTenant ("-" if unset)
  bench.py overhead OUT                   OUT/overhead.jsonl -> OUT/overhead-summary.{json,md}
  bench.py ticks                          "[steal, all]" jiffies of all vCPUs (/proc/stat)
  bench.py steal T0 T1                    steal % between two `ticks` outputs
"""
import base64
import json
import os
import ssl
import statistics
import sys
import threading
import time
import urllib.request

GROUP = "/apis/reflex.io/v1alpha1"


def _ctx():
    d = os.environ["REFLEX_CP_DIR"]
    c = ssl.create_default_context(cafile=f"{d}/pki/ca.crt")
    c.load_cert_chain(f"{d}/pki/admin.crt", f"{d}/pki/admin.key")
    return c


CTX = None


def url(path):
    port = open(os.path.join(os.environ["REFLEX_CP_DIR"], "apiserver.port")).read().strip()
    return f"https://127.0.0.1:{port}{path}"


def api(path, method="GET", body=None, ctype=None, timeout=60):
    global CTX
    CTX = CTX or _ctx()
    req = urllib.request.Request(url(path), method=method, data=body,
                                 headers={"Accept": "application/json", **({"Content-Type": ctype} if ctype else {})})
    with urllib.request.urlopen(req, context=CTX, timeout=timeout) as r:
        return json.loads(r.read())


def ticks():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return [f[7], sum(f[:8])]


def steal(t0, t1):
    d = t1[1] - t0[1]
    return 100.0 * (t1[0] - t0[0]) / d if d > 0 else None


def pct(xs, p):
    """Nearest-rank percentile (p99 of 100 values = the 99th smallest)."""
    xs = sorted(xs)
    if not xs:
        return None
    k = max(1, -(-len(xs) * p // 100))
    return xs[int(k) - 1]


# ---- apply -> Serving -----------------------------------------------------------------------------------------------
def tenant_body(ns, name, node, capacity):
    return {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"class": "BE", "capacity": capacity,
                     "placement": {"deviceSelector": {"matchLabels": {"reflex.io/node": node}}}}}


def apply_bench(out, ns, prefix, n, node, capacity, gap, timeout):
    n, gap, timeout = int(n), float(gap), float(timeout)
    names = [f"{prefix}-{i:03d}" for i in range(n)]
    first = {nm: {} for nm in names}  # name -> {"Placed": t, "Serving": t}
    events = []
    done = threading.Event()
    lst = api(f"{GROUP}/namespaces/{ns}/flashtenants")
    rv = lst["metadata"]["resourceVersion"]

    def watch():
        global CTX
        nonlocal rv
        while not done.is_set():
            req = urllib.request.Request(url(f"{GROUP}/namespaces/{ns}/flashtenants?watch=1&resourceVersion={rv}"
                                             f"&timeoutSeconds=600"), headers={"Accept": "application/json"})
            try:
                with urllib.request.urlopen(req, context=CTX or _ctx(), timeout=timeout + 30) as r:
                    while not done.is_set():
                        line = r.readline()
                        if not line:
                            break
                        t = time.time()
                        ev = json.loads(line)
                        o = ev.get("object", {})
                        md = o.get("metadata", {})
                        rv = md.get("resourceVersion", rv)
                        nm = md.get("name")
                        ph = (o.get("status") or {}).get("phase")
                        events.append((t, ev.get("type"), nm, ph))
                        if nm in first and ph:
                            if ph == "Serving":
                                first[nm].setdefault("Placed", t)  # the agent's write may be the first we see
                            first[nm].setdefault(ph, t)
                        if all("Serving" in v for v in first.values()):
                            done.set()
            except Exception as e:  # a dropped watch: resume from the last resourceVersion
                if not done.is_set():
                    print(f"watch: {e}; resuming", file=sys.stderr)
                    time.sleep(0.1)

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    time.sleep(0.5)  # the watch request is in before the first apply
    rec = {}
    t_start = time.time()
    for nm in names:
        t0 = time.time()
        o = api(f"{GROUP}/namespaces/{ns}/flashtenants/{nm}?fieldManager=reflex-bench&force=true", "PATCH",
                json.dumps(tenant_body(ns, nm, node, capacity)).encode(), "application/apply-patch+yaml")
        t1 = time.time()
        rec[nm] = {"name": nm, "apply_start": t0, "apply_end": t1, "creationTimestamp": o["metadata"]["creationTimestamp"]}
        if gap > 0:
            time.sleep(gap)
    t_applied = time.time()
    done.wait(max(1.0, timeout - (t_applied - t_start)))
    done.set()
    with open(f"{out}/apply.jsonl", "w") as f:
        for nm in names:
            r = rec[nm]
            r["placed"] = first[nm].get("Placed")
            r["serving"] = first[nm].get("Serving")
            r["to_placed_s"] = r["placed"] - r["apply_start"] if r["placed"] else None
            r["to_serving_s"] = r["serving"] - r["apply_start"] if r["serving"] else None
            r["placed_to_serving_s"] = r["serving"] - r["placed"] if r["serving"] and r["placed"] else None
            f.write(json.dumps(r) + "\n")
    with open(f"{out}/watch-events.jsonl", "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    rs = [json.loads(x) for x in open(f"{out}/apply.jsonl")]

    def stats(key):
        xs = [r[key] for r in rs if r[key] is not None]
        return {"n": len(xs), "p50": pct(xs, 50), "p99": pct(xs, 99), "max": max(xs) if xs else None,
                "min": min(xs) if xs else None}
    serving = [r for r in rs if r["serving"]]
    s = {"tenants": n, "serving": len(serving), "gap_s": gap, "apply_seconds": t_applied - t_start,
         "last_serving_after_first_apply_s": (max(r["serving"] for r in serving) - t_start) if serving else None,
         "apply_call_s": stats_of([r["apply_end"] - r["apply_start"] for r in rs]),
         "to_placed_s": stats("to_placed_s"), "to_serving_s": stats("to_serving_s"),
         "placed_to_serving_s": stats("placed_to_serving_s"),
         "not_serving": [r["name"] for r in rs if not r["serving"]]}
    json.dump(s, open(f"{out}/apply-summary.json", "w"), indent=1)
    print(json.dumps(s))
    return 0 if len(serving) == n else 1


def stats_of(xs):
    return {"n": len(xs), "p50": pct(xs, 50), "p99": pct(xs, 99), "max": max(xs) if xs else None}


def secret(ns, name):
    d = api(f"/api/v1/namespaces/{ns}/secrets/{name}-reflex")["data"]
    dec = {k: base64.b64decode(v).decode() for k, v in d.items()}
    print(dec["port"], dec["token"], dec["lbaCount"])


def tenant(ns, name):
    try:
        o = api(f"{GROUP}/namespaces/{ns}/flashtenants/{name}")
    except Exception:
        print("- - - - -")
        return
    st = o.get("status") or {}
    p = st.get("placement") or {}
    print(st.get("phase") or "-", p.get("node") or "-", p.get("device") or "-", p.get("port") or "-",
          p.get("lbaOffset") if p.get("lbaOffset") is not None else "-")


# ---- overhead summary -----------------------------------------------------------------------------------------------
def overhead(out):
    runs = [json.loads(x) for x in open(f"{out}/overhead.jsonl")]
    summ = {}
    for bench, key in (("qd1", "p50_us"), ("qd32", "iops")):
        row = {}
        for setup in ("standalone", "agent"):
            xs = [r[key] for r in runs if r["bench"] == bench and r["setup"] == setup]
            row[setup] = {"values": xs, "median": statistics.median(xs) if xs else None}
        a, s = row["agent"]["median"], row["standalone"]["median"]
        row["ratio"] = a / s if a and s else None
        paired = []
        for rep in sorted({r["rep"] for r in runs}):
            va = [r[key] for r in runs if r["bench"] == bench and r["setup"] == "agent" and r["rep"] == rep]
            vs = [r[key] for r in runs if r["bench"] == bench and r["setup"] == "standalone" and r["rep"] == rep]
            if va and vs:
                paired.append(va[0] / vs[0])
        row["paired_ratios"] = paired
        row["within_5pct"] = row["ratio"] is not None and abs(row["ratio"] - 1) <= 0.05
        row["metric"] = key
        summ[bench] = row
    summ["steal_pct"] = {s: [r.get("steal_pct") for r in runs if r["setup"] == s] for s in ("standalone", "agent")}
    summ["load1"] = {s: [r.get("load1") for r in runs if r["setup"] == s] for s in ("standalone", "agent")}
    json.dump(summ, open(f"{out}/overhead-summary.json", "w"), indent=1)
    f = lambda x, d=1: "-" if x is None else f"{x:,.{d}f}"
    L = ["| metric | standalone (median; reps) | agent (median; reps) | agent / standalone (paired per rep) | within 5% |",
         "|---|---|---|---|---|"]
    for bench, label, d in (("qd1", "QD1 p50 µs", 1), ("qd32", "QD32 IOPS", 0)):
        r = summ[bench]
        L.append(f"| {label} | {f(r['standalone']['median'], d)} ({', '.join(f(x, d) for x in r['standalone']['values'])}) "
                 f"| {f(r['agent']['median'], d)} ({', '.join(f(x, d) for x in r['agent']['values'])}) "
                 f"| {f(r['ratio'], 3)} ({', '.join(f(x, 3) for x in r['paired_ratios'])}) "
                 f"| {'yes' if r['within_5pct'] else 'no'} |")
    L.append("")
    L.append("| run | setup | rep | p50 µs | p99 µs | IOPS | load1 | steal % |")
    L.append("|---|---|---|---|---|---|---|---|")
    for r in runs:
        L.append(f"| {r['bench']} | {r['setup']} | {r['rep']} | {f(r['p50_us'])} | {f(r['p99_us'])} | {f(r['iops'], 0)} "
                 f"| {f(r.get('load1'), 2)} | {f(r.get('steal_pct'))} |")
    open(f"{out}/overhead-summary.md", "w").write("\n".join(L) + "\n")
    print("\n".join(L))


def record(out, bench, setup, rep, jf, t0, cmd):
    j = json.load(open(jf))
    r = j["rows"][0]
    t1 = ticks()
    rec = {"bench": bench, "setup": setup, "rep": int(rep), "iops": r["iops"], "p50_us": r["p50_us"],
           "p99_us": r["p99_us"], "mean_us": r["mean_us"], "errors": r["errors"],
           "load1": float(open("/proc/loadavg").read().split()[0]), "steal_pct": steal(json.loads(t0), t1),
           "cmd": cmd, "json": os.path.basename(jf)}
    with open(f"{out}/overhead.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"{bench} {setup} rep {rep}: p50 {r['p50_us']:.1f} µs, p99 {r['p99_us']:.1f} µs, {r['iops']:,.0f} IOPS, "
          f"errors {r['errors']}, steal {rec['steal_pct'] or 0:.1f}%")


if __name__ == "__main__":
    a = sys.argv[1:]
    cmd = a[0] if a else ""
    if cmd == "apply":
        sys.exit(apply_bench(*a[1:]))
    elif cmd == "secret":
        secret(*a[1:])
    elif cmd == "tenant":
        tenant(*a[1:])
    elif cmd == "overhead":
        overhead(a[1])
    elif cmd == "record":
        record(*a[1:])
    elif cmd == "ticks":
        print(json.dumps(ticks()))
    elif cmd == "steal":
        print(steal(json.loads(a[1]), json.loads(a[2])))
    else:
        print(__doc__)
        sys.exit(2)

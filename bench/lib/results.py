#!/usr/bin/env python3
"""Result bookkeeping for bench/run-dataplane.sh.

  results.py record RUNS.jsonl --bench B --setup S --tool fio|reflex --rep N --json FILE --cmd CMD [--server-cmd C]
             [--extra k=v ...]      normalise one fio/reflex-bench JSON into a line of RUNS.jsonl
  results.py summarize DIR          medians over repetitions -> DIR/summary.json, DIR/summary.md (also printed)
"""
import argparse
import json
import os
import statistics
import sys


def parse_fio(path):
    j = json.load(open(path))
    job = j["jobs"][0]
    out = {}
    for d in ("read", "write"):
        x = job[d]
        if x["total_ios"] == 0:
            continue
        pct = x["lat_ns"].get("percentile", {})  # total latency (submit -> complete), --lat_percentiles=1

        def p(q):
            for k, v in pct.items():
                if abs(float(k) - q) < 1e-6:
                    return v / 1000
            return None

        out[d] = {"iops": x["iops"], "mean_us": x["lat_ns"]["mean"] / 1000, "p50_us": p(50), "p95_us": p(95),
                  "p99_us": p(99), "requests": x["total_ios"]}
    m = out.get("read") or out.get("write")
    res = dict(m)
    res["iops"] = sum(v["iops"] for v in out.values())
    if "read" in out and "write" in out:
        res["write"] = out["write"]
    res["cpu_usr_pct"] = job.get("usr_cpu")
    res["cpu_sys_pct"] = job.get("sys_cpu")
    return res


def parse_reflex(path):
    j = json.load(open(path))
    r = j["rows"][0]
    return {"iops": r["iops"], "mean_us": r["mean_us"], "p50_us": r["p50_us"], "p95_us": r["p95_us"],
            "p99_us": r["p99_us"], "requests": r["requests"], "errors": r["errors"], "missed": r["missed"],
            "target_iops": r.get("target_iops"), "reads": r.get("reads"), "writes": r.get("writes")}


def cpu_ticks():
    """(steal, all) jiffies of all vCPUs so far: steal is time the host ran something else while a vCPU wanted to run."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return f[7], sum(f[:8])


def steal_pct(prev, now):
    """Steal between two cpu_ticks() readings, as a percentage of all vCPU time in between."""
    d_all = now[1] - prev[1]
    return 100.0 * (now[0] - prev[0]) / d_all if d_all > 0 else None


def record(a):
    res = parse_fio(a.json) if a.tool == "fio" else parse_reflex(a.json)
    ticks = cpu_ticks()
    rec = {"bench": a.bench, "setup": a.setup, "tool": a.tool, "rep": a.rep, "json": os.path.basename(a.json),
           "cmd": a.cmd, "server_cmd": a.server_cmd, "load1": float(open("/proc/loadavg").read().split()[0]),
           "ticks": list(ticks)}
    # steal since the previous record (runs are sequential, so this covers this run and its server's start)
    prev = None
    if os.path.exists(a.runs):
        lines = [l for l in open(a.runs) if l.strip()]
        if lines:
            prev = json.loads(lines[-1]).get("ticks")
    if prev is None:
        meta = os.path.join(os.path.dirname(a.runs), "meta.json")
        prev = json.load(open(meta)).get("ticks_start") if os.path.exists(meta) else None
    if prev:
        rec["steal_pct"] = steal_pct(prev, ticks)
    rec.update(res)
    for kv in a.extra or []:
        k, v = kv.split("=", 1)
        try:
            v = float(v)
        except ValueError:
            pass
        rec[k] = v
    with open(a.runs, "a") as f:
        f.write(json.dumps(rec) + "\n")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=0):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    return f"{x:,.{nd}f}"


def delta(bench, v, ref):
    """How a run compares with a reference: QD1 p50 difference (µs), QD32 IOPS ratio; None if not comparable."""
    if bench == "qd1" and v.get("p50_us") is not None and ref.get("p50_us") is not None:
        return v["p50_us"] - ref["p50_us"]
    if bench == "qd32" and ref.get("iops"):
        return v["iops"] / ref["iops"]
    return None


def fmt_delta(bench, d):
    return f"{d:+.0f}" if bench == "qd1" else f"{d:.2f}"


def compare(bench, v, ref, name):
    """The comparison of medians with one reference row."""
    d = delta(bench, v, ref)
    if d is None:
        return ""
    return f"p50 {fmt_delta(bench, d)} µs vs {name}" if bench == "qd1" else f"{fmt_delta(bench, d)}× {name}"


def paired_vs_fio(runs, bench, setup, tool, ref="fio-block"):
    """Median over repetitions of the comparison with the fio run of the same repetition: fio on this VM moves by
    up to ±25% between minutes, so the run next to ours is the fairer reference."""
    by_rep = {r["rep"]: r for r in runs if r["bench"] == bench and r["setup"] == ref and r["tool"] == "fio"}
    diffs = [delta(bench, r, by_rep[r["rep"]]) for r in runs
             if r["bench"] == bench and r["setup"] == setup and r["tool"] == tool and r["rep"] in by_rep]
    diffs = [d for d in diffs if d is not None]
    if len(diffs) < 2:
        return ""
    each = ", ".join(fmt_delta(bench, d) for d in diffs)
    m = fmt_delta(bench, statistics.median(diffs))
    return (f"paired with {ref} per rep: median p50 {m} µs ({each})" if bench == "qd1"
            else f"paired with {ref} per rep: median {m}× ({each})")


def summarize(d):
    runs = [json.loads(l) for l in open(os.path.join(d, "runs.jsonl")) if l.strip()]
    meta = json.load(open(os.path.join(d, "meta.json"))) if os.path.exists(os.path.join(d, "meta.json")) else {}
    groups = {}
    for r in runs:
        groups.setdefault((r["bench"], r["setup"], r["tool"]), []).append(r)
    summ = {}
    keys = ["iops", "mean_us", "p50_us", "p95_us", "p99_us", "cpu_us_per_req", "loop_cpu_us_per_req", "load1",
            "errors", "missed", "server_cpu_pct", "steal_pct"]
    for (b, s, t), rs in groups.items():
        m = {k: med([r.get(k) for r in rs]) for k in keys}
        m["reps"] = len(rs)
        m["cmd"] = rs[0]["cmd"]
        m["server_cmd"] = rs[0].get("server_cmd")
        for k in ("pinning", "target_iops", "slo_p95_us", "reserved_iops", "loop_cpu_pct", "server_p95_us_le"):
            if k in rs[0]:
                m[k] = med([r.get(k) for r in rs]) if isinstance(rs[0][k], (int, float)) else rs[0][k]
        if "write" in rs[0]:
            m["write_iops"] = med([r["write"]["iops"] for r in rs])
        summ[f"{b}|{s}|{t}"] = m

    L = []
    L.append(f"Run {meta.get('date', '?')} on {meta.get('machine', '?')}; commit {meta.get('commit', '?')}; "
             f"device {meta.get('device', '?')}; {meta.get('reps', '?')} repetitions, medians; "
             f"{meta.get('duration', '?')} s per run (+1 s warm-up); load average at start {meta.get('load_start', '?')}, "
             f"at end {meta.get('load_end', '?')}.")
    if meta.get("ticks_start") and meta.get("ticks_end"):
        L.append(f"Host steal (`/proc/stat`: time the host ran something else while a vCPU wanted to run) over the "
                 f"whole run: {fmt(steal_pct(meta['ticks_start'], meta['ticks_end']), 1)}% of vCPU time; per row: "
                 f"median over its repetitions.")
    L.append("")

    def get(b, s, t):
        return summ.get(f"{b}|{s}|{t}")

    for b, title in (("qd1", "1. 4 KiB random read, QD1"), ("qd32", "2. 4 KiB random read, QD32")):
        rows = [(k.split("|")[1], k.split("|")[2], v) for k, v in summ.items() if k.startswith(b + "|")]
        if not rows:
            continue
        L.append(f"### {title}")
        L.append("")
        L.append("| what | pinning / polling | IOPS | mean µs | p50 µs | p95 µs | p99 µs | vs fio | load1 | steal % |")
        L.append("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
        fio = {s: v for s, t, v in rows if t == "fio"}
        floor = {s: v for s, t, v in rows if t == "floor"}
        for s, t, v in sorted(rows, key=lambda x: ({"fio": 0, "reflex": 1}.get(x[1], 2), x[0])):
            vs = ""
            if t != "fio":
                cmp = [compare(b, v, fv, fs) for fs, fv in fio.items()]
                paired = paired_vs_fio(runs, b, s, t)
                if paired:
                    cmp.append(paired)
                if t == "reflex" and s in floor:
                    cmp.append(compare(b, v, floor[s], "floor"))
                vs = "; ".join(c for c in cmp if c)
            L.append(f"| {t} | {s}: {v.get('pinning', '')} | {fmt(v['iops'])} | {fmt(v['mean_us'], 1)} | {fmt(v['p50_us'], 1)} | "
                     f"{fmt(v['p95_us'], 1)} | {fmt(v['p99_us'], 1)} | {vs} | {fmt(v['load1'], 2)} | {fmt(v.get('steal_pct'), 1)} |")
        L.append("")

    rows = [(k.split("|")[1], v) for k, v in summ.items() if k.startswith("memory|")]
    if rows:
        L.append("### 3. memory engine, 4 KiB reads over loopback (server CPU per request)")
        L.append("")
        L.append("| setup | pinning / polling | IOPS | p50 µs | server process CPU µs/req | dataplane-thread CPU µs/req | dp-thread CPU % | load1 |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for s, v in sorted(rows):
            L.append(f"| {s} | {v.get('pinning', '')} | {fmt(v['iops'])} | {fmt(v['p50_us'], 1)} | {fmt(v['cpu_us_per_req'], 2)} | "
                     f"{fmt(v['loop_cpu_us_per_req'], 2)} | {fmt(v.get('loop_cpu_pct'), 0)} | {fmt(v['load1'], 2)} |")
        L.append("")

    rows = [(k.split("|")[1], k.split("|")[2], v) for k, v in summ.items() if k.startswith("qos|")]
    if rows:
        L.append("### 4. QoS: LC open loop at its reservation + BE 4 KiB writes QD64")
        L.append("")
        L.append("| scheduler | tenant | pinning / polling | offered IOPS | IOPS | % of reserved | p50 µs | p95 µs | p99 µs | server p95 µs ≤ | SLO p95 µs | verdict | load1 |")
        L.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for s, t, v in sorted(rows, key=lambda x: (x[0] == "qos-off", x[0], x[1] != "lc")):
            verdict, pct = "", ""
            if t == "lc" and v.get("target_iops"):
                res = v.get("reserved_iops") or v["target_iops"]
                pct = f"{100 * v['iops'] / res:.1f}%"
                ok_lat = v["p95_us"] is not None and v["p95_us"] <= v.get("slo_p95_us", 0)
                ok_iops = v["iops"] >= 0.95 * res
                verdict = ("meets" if ok_lat and ok_iops else "VIOLATED") + \
                          f" (p95 {'≤' if ok_lat else '>'} SLO, IOPS {'≥' if ok_iops else '<'} 95%)"
            L.append(f"| {s} | {t} | {v.get('pinning', '')} | {fmt(v.get('target_iops'))} | {fmt(v['iops'])} | {pct} | "
                     f"{fmt(v['p50_us'], 0)} | {fmt(v['p95_us'], 0)} | {fmt(v['p99_us'], 0)} | {fmt(v.get('server_p95_us_le'))} | {fmt(v.get('slo_p95_us'))} | {verdict} | {fmt(v['load1'], 2)} |")
        L.append("")

    L.append("### Commands (first repetition of each)")
    L.append("")
    L.append("```sh")
    for k, v in summ.items():
        if v.get("server_cmd"):
            L.append(f"# {k}  server: {v['server_cmd']}")
        L.append(f"# {k}\n{v['cmd']}")
    L.append("```")
    md = "\n".join(L) + "\n"
    open(os.path.join(d, "summary.md"), "w").write(md)
    json.dump({"meta": meta, "results": summ}, open(os.path.join(d, "summary.json"), "w"), indent=2)
    sys.stdout.write(md)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="op", required=True)
    r = sub.add_parser("record")
    r.add_argument("runs")
    r.add_argument("--bench", required=True)
    r.add_argument("--setup", required=True)
    r.add_argument("--tool", required=True)
    r.add_argument("--rep", type=int, required=True)
    r.add_argument("--json", required=True)
    r.add_argument("--cmd", required=True)
    r.add_argument("--server-cmd")
    r.add_argument("--extra", nargs="*")
    s = sub.add_parser("summarize")
    s.add_argument("dir")
    sub.add_parser("ticks", help="print cpu_ticks() as a JSON list (meta.json's ticks_start/ticks_end)")
    a = ap.parse_args()
    if a.op == "record":
        record(a)
    elif a.op == "summarize":
        summarize(a.dir)
    else:
        print(json.dumps(list(cpu_ticks())))


if __name__ == "__main__":
    main()

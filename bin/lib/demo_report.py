#!/usr/bin/env python3
"""Arithmetic and reports for bin/reflex-demo (no third-party modules: CI machines may lack PyYAML).

  demo_report.py plan MODEL.yaml SLO_US LC_SHARE      shell assignments: budget, read_cost, lc_iops, lc_offered, plan_budget, plan_lc
  demo_report.py verdict LC.json OFFERED RESERVED SLO_US   the LC tenant's SLO line and verdict
  demo_report.py summary SLO_US OFFERED LABEL LC.json BE.json [LABEL LC.json BE.json ...]   one row per run
  demo_report.py metrics < /metrics   one line per tenant from a node agent's Prometheus text
"""
import json
import re
import shlex
import sys


def model_points(path):
    """readCost4k and the tokenLimits rows of a devmodels YAML file (flow-style rows, as devmodels writes them)."""
    text = open(path).read()
    read_cost = float(re.search(r"^readCost4k:\s*([0-9.]+)", text, re.M).group(1))
    points = []
    for m in re.finditer(r"\{([^}]*p95Micros[^}]*)\}", text):
        row = dict((k.strip(), float(v)) for k, v in (kv.split(":") for kv in m.group(1).split(",")))
        points.append((row["p95Micros"], row["mixedTokensPerSec"]))
    if not points:
        sys.exit(f"no tokenLimits in {path}")
    return read_cost, sorted(points)


def rate_at(points, p95):
    """Token rate at a p95 limit: linear between points, clamped at both ends (as devmodels' DeviceModel.tokenRateAt)."""
    if p95 <= points[0][0]:
        return points[0][1]
    for (lo_p, lo_r), (hi_p, hi_r) in zip(points, points[1:]):
        if p95 <= hi_p:
            return lo_r + (p95 - lo_p) / (hi_p - lo_p) * (hi_r - lo_r)
    return points[-1][1]


def plan(model, slo, share):
    read_cost, points = model_points(model)
    slo, share = float(slo), float(share)
    # Mixed (read/write) rate: the BE tenant writes to the same device, so the read-only budget does not apply.
    budget = rate_at(points, slo)
    lc_iops = round(share * budget / read_cost)
    offered = round(0.95 * lc_iops)
    name = model.rsplit("/", 1)[-1].removesuffix(".yaml")
    plan_budget = (f"device budget at p95 {slo:.0f} µs: {budget:,.0f} tokens/s (model {name}, mixed read/write rate: "
                   f"the BE tenant writes to the same device)")
    plan_lc = (f"LC reservation = {share:g} (LC_SHARE) × {budget:,.0f} / {read_cost:.0f} tokens per 4 KiB read = "
               f"{lc_iops:,} IOPS; the LC client offers 95% of it, {offered:,} IOPS, open loop")
    for k, v in dict(budget=round(budget), read_cost=round(read_cost), lc_iops=lc_iops, lc_offered=offered,
                     plan_budget=plan_budget, plan_lc=plan_lc).items():
        print(f"{k}={shlex.quote(str(v))}")


def row(path):
    return json.load(open(path))["rows"][0]


def met(r, offered, slo):
    return r["p95_us"] <= slo and r["iops"] >= 0.95 * offered and r["errors"] == 0


def verdict(lc_json, offered, reserved, slo):
    r, offered, reserved, slo = row(lc_json), float(offered), float(reserved), float(slo)
    ok_lat, ok_iops = r["p95_us"] <= slo, r["iops"] >= 0.95 * offered
    print(f"LC SLO: p95 {r['p95_us']:.0f} µs (target ≤ {slo:.0f}) {'met' if ok_lat else 'MISSED'}; "
          f"IOPS {r['iops']:.0f} of {offered:.0f} offered ({100 * r['iops'] / offered:.0f}%, need ≥ 95%; "
          f"reservation {reserved:.0f}) {'met' if ok_iops else 'MISSED'}; errors {r['errors']}")
    print("VERDICT: LC tenant met its SLO" if met(r, offered, slo) else "VERDICT: LC tenant did NOT meet its SLO")


def summary(slo, offered, runs):
    slo, offered = float(slo), float(offered)
    print(f"  {'QoS scheduler':<14} {'LC p95 µs':>10} {'LC IOPS':>9} {'BE writes/s':>12}  LC SLO (p95 ≤ {slo:.0f} µs, ≥ 95% of {offered:.0f} IOPS)")
    for i in range(0, len(runs), 3):
        label, lc, be = runs[i], row(runs[i + 1]), row(runs[i + 2])
        print(f"  {label:<14} {lc['p95_us']:>10.0f} {lc['iops']:>9.0f} {be['iops']:>12.0f}  "
              f"{'met' if met(lc, offered, slo) else 'MISSED'}")


def metrics():
    """Per tenant: latency quantiles, requests by op, slow requests (the server's view: parse → device completion)."""
    tenants = {}
    for line in sys.stdin:
        m = re.match(r"reflex_tenant_(latency_micros|requests_total|slow_requests_total)\{([^}]*)\} (\S+)", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        t = tenants.setdefault(labels.get("tenant", "?"), {"class": labels.get("class", "")})
        key = {"latency_micros": "q" + labels.get("quantile", ""), "requests_total": labels.get("op", ""),
               "slow_requests_total": "slow"}[m.group(1)]
        t[key] = float(m.group(3))
    for name, t in sorted(tenants.items()):
        q = lambda k: f"{t[k]:.0f}" if k in t else "-"
        print(f"  {name} ({t['class']}): p50 {q('q0.5')} µs, p95 {q('q0.95')}, p99 {q('q0.99')}; "
              f"{q('read')} reads, {q('write')} writes" + (f", {q('slow')} slower than the SLO" if t["class"] == "LC" else ""))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"plan": plan, "verdict": verdict, "metrics": metrics}.get(cmd, lambda *a: summary(a[0], a[1], a[2:]))(*args)

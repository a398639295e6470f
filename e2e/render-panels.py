#!/usr/bin/env python3
"""Draw the key panels of the shipped Grafana dashboard from a real Prometheus (e2e/prometheus-check runs it).

The panels' own queries (panels[].targets[].expr and legendFormat of helm/reflex/files/grafana-dashboards/*.json),
with $device/$tenant = .* and $__rate_interval = 10s, as query_range over the run (step 2s), to one PNG:

  e2e/render-panels.py --prometheus http://127.0.0.1:19090 --dashboard DASHBOARD.json --start EPOCH --out PNG
"""
import argparse
import json
import re
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = ["IOPS vs reservation", "p95 latency vs SLO", "Reserved tokens vs budget"]
UNITS = {"IOPS vs reservation": "IOPS", "p95 latency vs SLO": "µs", "Reserved tokens vs budget": "tokens/s"}


def subst(expr):
    for var, val in (("$__rate_interval", "10s"), ("${device}", ".*"), ("$device", ".*"),
                     ("${tenant}", ".*"), ("$tenant", ".*")):
        expr = expr.replace(var, val)
    return expr


def legend(fmt, metric):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt or str(metric))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--dashboard", required=True)
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--end", type=float, default=None)
    ap.add_argument("--step", default="2s")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    end = a.end or time.time()

    def walk(ps):
        for p in ps:
            yield p
            yield from walk(p.get("panels", []))

    by_title = {p.get("title"): p for p in walk(json.load(open(a.dashboard))["panels"])}
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(10, 3.2 * len(PANELS)), sharex=True)
    colours = {}  # one colour per tenant/device: its limit (the B query) dashed in the same colour

    def colour(key):
        return colours.setdefault(key, plt.rcParams["axes.prop_cycle"].by_key()["color"][len(colours) % 10])

    for ax, title in zip(axes, PANELS):
        panel = by_title[title]
        # p95: log scale (BE has no SLO and may be 10x the LC tenant's); idle windows (0) left out.
        twin = None
        handles = []
        for t in panel["targets"]:
            q = urllib.parse.urlencode({"query": subst(t["expr"]), "start": a.start, "end": end, "step": a.step})
            r = json.load(urllib.request.urlopen(f"{a.prometheus}/api/v1/query_range?{q}", timeout=20))
            for s in sorted(r["data"]["result"], key=lambda s: legend(t.get("legendFormat"), s["metric"])):
                pts = [(float(v[0]) - a.start, float(v[1])) for v in s["values"]]
                if title == "p95 latency vs SLO":
                    pts = [(x, y) for x, y in pts if y > 0]
                key = s["metric"].get("tenant") or s["metric"].get("device") or ""
                limit = t.get("refId") != "A"  # the dashboard's B queries are the limits: reservation, SLO, budget
                target = twin if (twin is not None and limit) else ax
                (h,) = target.plot([x for x, _ in pts], [y for _, y in pts], linestyle="--" if limit else "-",
                                   linewidth=1.8, color=colour(key), marker="." if len(pts) < 40 else None,
                                   label=legend(t.get("legendFormat"), s["metric"]) + (" (right axis)" if target is twin else ""))
                handles.append(h)
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
        ax.set_ylabel(UNITS.get(title, ""))
        ax.grid(True, alpha=0.3)
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.2 if twin else 1.01, 0.5), fontsize=9,
                  frameon=False)
        if title == "p95 latency vs SLO":
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
    axes[-1].set_xlabel(f"seconds since Prometheus started ({datetime.fromtimestamp(a.start, tz=timezone.utc):%Y-%m-%d %H:%M:%S} UTC); "
                        "scraped every 2 s, rates over 10 s")
    axes[-1].set_xlim(left=0)
    fig.suptitle("ReFlex dashboard panels from a real Prometheus scraping e2e/node-e2e (LC 1900 IOPS open loop, "
                 "BE QD32 writes)", fontsize=10)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110, bbox_inches="tight")
    print(f"render-panels: {a.out} ({int(end - a.start)} s of data)")


if __name__ == "__main__":
    main()

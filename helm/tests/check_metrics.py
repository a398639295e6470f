#!/usr/bin/env python3
"""Every reflex_* metric the dashboards and alerts query must be one the code exports:
check_metrics.py REPO_ROOT FILE... (dashboard JSON, rendered rules). Names come from the meter builders in
DataplaneMetrics, AgentMetrics and OperatorMetrics (Micrometer: dots become underscores; counters get _total,
timers _seconds_{count,sum,max}, the dataplane's classic histogram _bucket/_count/_sum)."""
import re
import sys

root, files = sys.argv[1], sys.argv[2:]
sources = ["dataplane/src/main/java/io/reflex/dataplane/metrics/DataplaneMetrics.java",
           "node-agent/src/main/java/io/reflex/agent/AgentMetrics.java",
           "operator/src/main/java/io/reflex/operator/OperatorMetrics.java"]
known = set()
for s in sources:
    text = open(f"{root}/{s}").read()
    for kind, name in re.findall(r'(Gauge|Counter|FunctionCounter|Timer|DistributionSummary|counter|HistogramSnapshot)\b[.\w]*\(\s*"([a-z0-9_.]+)"', text):
        n = name.replace(".", "_")
        if kind in ("Gauge",):
            known.add(n)
        elif kind in ("Counter", "FunctionCounter", "counter"):
            known.add(n + "_total")
        elif kind == "Timer":
            known.update(n + "_seconds" + s for s in ("_count", "_sum", "_max"))
        elif kind == "DistributionSummary":
            known.update(n + s for s in ("", "_count", "_sum", "_max"))
    for name in re.findall(r'HistogramSnapshot\.builder\(\)\.name\("([a-z0-9_]+)"\)', text):
        known.update(name + s for s in ("_bucket", "_count", "_sum"))
if len(known) < 20:
    sys.exit(f"found only {len(known)} metric names in the sources: has the code moved? {sorted(known)}")
bad = 0
for f in files:
    used = set(re.findall(r"\breflex_[a-z0-9_]+", open(f, encoding="utf-8").read()))
    for u in sorted(used - known):
        print(f"  FAIL {f}: {u} is not a metric the code exports")
        bad += 1
    print(f"  {f}: {len(used)} metric names, all exported" if not used - known else "", end="")
print()
sys.exit(1 if bad else 0)

#!/usr/bin/env python3
"""Fit a device model from bench/calibrate.sh's fio sweeps (see the comment at the top of calibrate.sh), or from
bench/calibrate-dataplane.sh's reflex-bench sweeps through the dataplane (read-only; write cost from a base model).

  calib.py OUTDIR NAME MODEL.yaml "machine description"
  calib.py --dataplane OUTDIR NAME MODEL.yaml "machine description" BASE_MODEL.yaml
"""
import datetime
import glob
import json
import os
import re
import statistics
import sys

READ_COST = 100
TARGETS = [250, 500, 750, 1000, 1500, 2000, 3000, 5000]


def load_points(out):
    pts = {}
    for f in glob.glob(os.path.join(out, "sweep-r*-*.json")):
        ratio = int(re.search(r"sweep-r(\d+)-", f).group(1))
        j = json.load(open(f))["jobs"][0]
        r, w = j["read"], j["write"]
        rp = r["lat_ns"].get("percentile", {})
        wp = w["lat_ns"].get("percentile", {}) if w["total_ios"] else {}
        pts.setdefault(ratio, []).append({
            "target": int(re.search(r"-(\d+)\.json$", f).group(1)),
            "rd": r["iops"], "wr": w["iops"],
            "p95": rp.get("95.000000", 0) / 1000, "p50": rp.get("50.000000", 0) / 1000,
            "wp95": wp.get("95.000000", 0) / 1000 if wp else 0,
        })
    for v in pts.values():
        v.sort(key=lambda p: p["target"])
    return pts


def monotone(xy):
    """(x, y) sorted by x, y replaced by its isotonic (non-decreasing, least-squares; pool-adjacent-violators) fit:
    a latency curve that never improves with load, and that one noisy early point cannot lift as a running max would."""
    xy = sorted(xy)
    blocks = []  # [sum, count]
    for _, y in xy:
        blocks.append([y, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    ys = [b[0] / b[1] for b in blocks for _ in range(b[1])]
    return [(x, y) for (x, _), y in zip(xy, ys)]


def x_at(curve, y):
    """Inverse of a monotone curve: the largest x whose y <= target (interpolated); clamped at the ends."""
    if y < curve[0][1]:
        return None  # the target is stricter than the lightest measured load achieves
    best = curve[0][0]
    for (x0, y0), (x1, y1) in zip(curve, curve[1:]):
        if y >= y1:
            best = x1
        elif y0 <= y < y1:
            best = x0 + (x1 - x0) * (y - y0) / (y1 - y0)
            break
    return best


def main():
    out, name, model_path, machine = sys.argv[1:5]
    pts = load_points(out)
    ro = monotone([(p["rd"], p["p95"]) for p in pts[100]])
    ro_base = ro[0][1]
    ro_max = ro[-1][1]

    # write weight from curve overlap (rising part only: flat low-load latency says nothing about cost)
    ws, used = [], []
    for ratio, ps in pts.items():
        if ratio == 100:
            continue
        for p in ps:
            if p["wr"] <= 0 or not (1.3 * ro_base <= p["p95"] <= ro_max):
                continue
            rstar = x_at(ro, p["p95"])
            if rstar is None:
                continue
            w = (rstar - p["rd"]) / p["wr"]
            ws.append(w)
            used.append((ratio, p["rd"], p["wr"], p["p95"], rstar, w))
    # capacity estimate: at saturation rd + w*wr = read-only capacity
    caps = {}
    for f in glob.glob(os.path.join(out, "probe-r*.json")):
        ratio = int(re.search(r"probe-r(\d+)\.json", f).group(1))
        j = json.load(open(f))["jobs"][0]
        caps[ratio] = (j["read"]["iops"], j["write"]["iops"])
    w_cap = [(caps[100][0] - rd) / wr for r, (rd, wr) in caps.items() if r != 100 and wr > 0]
    if len(ws) >= 3:
        w = statistics.median(ws)
        how = f"median of {len(ws)} curve-overlap points"
    elif w_cap:
        w = statistics.median(w_cap)
        how = "capacity ratio at QD32 (too few overlap points on the rising part of the curves)"
    else:
        raise SystemExit("cannot determine the write weight")
    w = max(1.0, w)
    write_cost = int(round(READ_COST * w))

    # one weighted curve per mix; the budget must hold for any mix, so the mixed rate is the lowest of them
    mixed = {r: monotone([(p["rd"] + w * p["wr"], p["p95"]) for p in ps]) for r, ps in pts.items() if r != 100}
    limits = []
    for t in TARGETS:
        ro_x = x_at(ro, t)
        mxs = [x_at(c, t) for c in mixed.values()]
        if ro_x is None or any(x is None for x in mxs):
            continue
        mx_x = min(mxs)
        ro_tok = READ_COST * ro_x
        mx_tok = min(READ_COST * mx_x, ro_tok)  # mixing in writes never makes reads faster
        limits.append((t, int(round(mx_tok, -3)), int(round(ro_tok, -3))))
    # rates must be non-decreasing in the p95 limit
    mono = []
    for t, m, r in limits:
        if mono:
            m = max(m, mono[-1][1]); r = max(r, mono[-1][2])
        mono.append((t, m, r))
    if not mono:
        raise SystemExit(f"no p95 target in {TARGETS} is reachable: lightest read-only p95 {ro_base:.0f} us")

    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load = re.search(r"load average at start ([0-9.]+)", machine)
    warn = ["# WARNING: calibrated while the machine was loaded (other builds); latencies are pessimistic and noisy.",
            "# Re-run bench/calibrate.sh when the load average is low."] if load and float(load.group(1)) > 1.0 else []
    L = warn + [f"# Calibrated by bench/calibrate.sh on {now}",
         f"# on {machine}.",
         "# Method (ReFlex's, simplified): fio io_uring O_DIRECT 4 KiB random, open loop (--rate_iops, Poisson arrivals),",
         ("# read-only and mixed sweeps (writes O_DSYNC, as the dataplane's --sync-writes true); latency = p95 of reads."
          if os.environ.get("SYNC_WRITES", "true") == "true" else
          "# read-only and mixed sweeps (plain O_DIRECT writes, as the dataplane's --sync-writes false); latency = p95 of reads."),
         "# Mixed rate at a target = the lowest over the mixes of the weighted IOPS (Rd + w*Wr) reaching it (isotonic fits).",
         f"# Write weight w = {w:.2f} ({how}); QD32 capacity check gives w = "
         + (", ".join(f"{x:.2f}" for x in w_cap) or "n/a") + ".",
         f"# Read-only QD32 capacity {caps[100][0]:.0f} IOPS; " + "; ".join(
             f"{r}% read QD32: {rd:.0f} rd + {wr:.0f} wr IOPS" for r, (rd, wr) in sorted(caps.items()) if r != 100) + ".",
         "# Sweep points (achieved IOPS -> read p95 µs):"]
    for ratio in sorted(pts, reverse=True):
        L.append(f"#   {ratio}% read: " + ", ".join(
            f"{p['rd'] + p['wr']:.0f}" + (f" ({p['wr']:.0f} wr)" if p['wr'] else "") + f"->{p['p95']:.0f}" for p in pts[ratio]))
    L += [f"name: {name}",
          f"description: this VM's virtio disk (4 GiB file on ext4, O_DIRECT), calibrated {now[:10]} by bench/calibrate.sh",
          f"readCost4k: {READ_COST}",
          f"writeCost4k: {write_cost}",
          "tokenLimits:   # p95 read latency limit (µs) -> token rate (mixed) and read-only token rate; interpolated linearly"]
    for t, m, r in mono:
        L.append(f"  - {{ p95Micros: {t}, mixedTokensPerSec: {m}, readOnlyTokensPerSec: {r} }}")
    text = "\n".join(L) + "\n"
    open(model_path, "w").write(text)
    json.dump({"w": w, "how": how, "w_points": used, "w_cap": w_cap, "caps": caps, "points": pts, "limits": mono},
              open(os.path.join(out, "fit.json"), "w"), indent=1)
    sys.stdout.write(text)


def main_dataplane():
    out, name, model_path, machine, base = sys.argv[2:7]
    runs = {}
    for f in glob.glob(os.path.join(out, "sweep-*-*.json")):
        rate = int(re.search(r"sweep-(\d+)-\d+\.json$", f).group(1))
        row = json.load(open(f))["rows"][0]
        if row.get("errors", 0):
            raise SystemExit(f"{f}: {row['errors']} failed requests; not calibrating from it")
        runs.setdefault(rate, []).append((row["iops"], row["p95_us"], row["p99_us"]))
    if not runs:
        raise SystemExit(f"no sweep-*.json in {out}")
    # median over repetitions per offered rate: single runs on this VM vary with host steal time
    pts = [(statistics.median(i for i, _, _ in v), statistics.median(p for _, p, _ in v), len(v), v)
           for _, v in sorted(runs.items())]
    ro = monotone([(i, p) for i, p, _, _ in pts])
    write_cost = None
    for line in open(base):
        m = re.match(r"writeCost4k:\s*(\d+)", line)
        if m:
            write_cost = int(m.group(1))
    if write_cost is None:
        raise SystemExit(f"{base} has no writeCost4k")
    limits = []
    for t in TARGETS:
        x = x_at(ro, t)
        if x is None:
            continue
        tok = int(round(READ_COST * x, -3))
        if limits:
            tok = max(tok, limits[-1][1])
        limits.append((t, tok))
    if not limits:
        raise SystemExit(f"no p95 target in {TARGETS} is reachable: lightest load's p95 {ro[0][1]:.0f} us")
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    L = [f"# Calibrated by bench/calibrate-dataplane.sh on {now}",
         f"# on {machine}.",
         "# Method: read-only 4 KiB random reads, open loop at fixed rates, through reflex-dataplane --no-qos (uring engine,",
         "# O_DIRECT) with reflex-bench; latency = the client's p95 (coordinated-omission corrected), median of the",
         "# repetitions; token rate at a p95 limit = 100 x the highest rate whose isotonic-fitted p95 stays within it.",
         f"# Write cost {write_cost} (w = {write_cost / READ_COST:.2f}) taken from {os.path.basename(base)} (fio's mixed sweeps): a",
         "# property of the disk; the dataplane adds the same network cost to reads and writes.",
         f"# A limit above the highest measured p95 ({ro[-1][1]:.0f} µs after the fit) gets the highest rate measured"
         f" ({ro[-1][0]:.0f} IOPS): the budget never extrapolates beyond what was seen.",
         "# Points (offered -> median achieved IOPS, median p95 µs; each repetition's p95/p99):"]
    for (rate, v), (i, p, n, _) in zip(sorted(runs.items()), pts):
        L.append(f"#   {rate} -> {i:.0f} IOPS, p95 {p:.0f} ({', '.join(f'{a:.0f}/{b:.0f}' for _, a, b in v)})")
    L += [f"name: {name}",
          f"description: this VM's virtio disk as the dataplane serves it (4 GiB file on ext4, O_DIRECT), calibrated {now[:10]} by bench/calibrate-dataplane.sh",
          f"readCost4k: {READ_COST}",
          f"writeCost4k: {write_cost}",
          "tokenLimits:   # p95 read latency limit (µs) -> token rate (mixed) and read-only token rate; interpolated linearly"]
    for t, tok in limits:
        L.append(f"  - {{ p95Micros: {t}, mixedTokensPerSec: {tok}, readOnlyTokensPerSec: {tok} }}")
    text = "\n".join(L) + "\n"
    open(model_path, "w").write(text)
    json.dump({"points": [(r, v) for r, v in sorted(runs.items())], "fit": ro, "limits": limits, "write_cost": write_cost},
              open(os.path.join(out, "fit.json"), "w"), indent=1)
    sys.stdout.write(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--dataplane":
        main_dataplane()
    else:
        main()

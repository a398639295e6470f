#!/usr/bin/env bash
# Issue 16's experiment, in one run: calibrate this machine's disk with bin/reflex-calibrate (the calibrator the node
# agent runs) CALS times in a row, then the QoS experiment of bench/run-dataplane.sh (LC tenant reserving half the
# model's budget at its p95 SLO, open loop at its reservation; BE tenant flooding 4 KiB writes at QD64) twice: with
# the fresh model, and with the same model overstating every token rate 2x (what a stale or wrong model does).
#
#   bench/calibration/run.sh
#
# Environment (defaults): CALS=3 calibrations; CAL_CPU=1 (vCPU the calibrator runs on: where the dataplane serves
# in the QoS run); ENGINE=uring; CAL_ARGS=--through-dataplane (bin/reflex-calibrate flags; empty: the device alone); OVERSTATE=2
# (the factors wrong models multiply every token rate by, e.g. "2 4");
# QOS_SETUPS="qos-on", REPS=1, QOS_P95=1000, QOS_DURATION=15 (as bench/run-dataplane.sh); DEV, MAX_LOAD, WAIT_MAX
# (bench/lib/common.sh). Results: bench/results/calibration-<date>/{model-N.yaml,model-N.log,overstated-F.yaml,
# qos-fresh/,qos-overstated-F/,summary.md}. Before each calibration two references on the same vCPU: openssl sha256 (the
# host's CPU speed) and fio alone on the file at QD32 (the I/O path's capacity and p95): their spreads beside the budgets'.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
trap cleanup EXIT

CALS=${CALS:-3}
CAL_CPU=${CAL_CPU:-1}
ENGINE=${ENGINE:-uring}
CAL_ARGS=${CAL_ARGS---through-dataplane}   # as the node agent (--calibrate-through dataplane); CAL_ARGS= for the device alone
OVERSTATE=${OVERSTATE:-2}
export QOS_SETUPS=${QOS_SETUPS:-qos-on} REPS=${REPS:-1} QOS_P95=${QOS_P95:-1000}
OUT=$REPO/bench/results/calibration-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ensure_device
ensure_jars
"$REFLEX_HOME/bin/reflex-calibrate" --help >/dev/null 2>&1 || die "bin/reflex-calibrate does not start"
[ -n "${MAX_LOAD:-}" ] && wait_quiet "$MAX_LOAD" "${WAIT_MAX:-600}"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "calibrating $DEV $CALS times (engine $ENGINE, vCPU $CAL_CPU); results in $OUT; load average $LOAD0"

budget() { # MODEL.yaml P95 KEY -> token rate at that p95 (as DeviceModel.tokenRateAt: interpolated, 0 stricter than the first point)
  python3 - "$@" <<'PY'
import sys, yaml
m = yaml.safe_load(open(sys.argv[1])); p = float(sys.argv[2]); key = sys.argv[3]; L = m["tokenLimits"]
def rate():
    if p < L[0]["p95Micros"]: return 0
    for lo, hi in zip(L, L[1:]):
        if p <= hi["p95Micros"]:
            t = (p - lo["p95Micros"]) / (hi["p95Micros"] - lo["p95Micros"]); return lo[key] + t * (hi[key] - lo[key])
    return L[-1][key]
print(int(rate()))
PY
}

# A CPU reference on the calibrator's vCPU before each calibration: through a dataplane the 1 ms point is where one
# vCPU running the dataplane and the calibrator's client saturates, so it moves with the host's speed per instruction
# (on this shared VM the same build's memory engine took 2.08 µs/request at 12:33 and 3.0 µs at 22:30).
cpu_ref() { # -> sha256 MB/s over 4 KiB blocks, 3 s, pinned to CAL_CPU
  taskset -c "$CAL_CPU" openssl speed -seconds 3 -bytes 4096 sha256 2>/dev/null \
    | awk '/^sha256 /{v=$2; sub(/k$/,"",v); printf "%.0f\n", v/1000}'
}
# A device reference before each calibration: fio alone on the same file and vCPU (4 KiB random reads, io_uring,
# O_DIRECT, QD32, 8 s), the I/O path's own capacity and p95 without our code. If it moves as much as the budgets do,
# the spread is the machine's, not the calibrator's.
fio_ref() { # -> "IOPS p95µs"
  taskset -c "$CAL_CPU" fio --name=ref --filename="$DEV" --rw=randread --bs=4k --direct=1 --ioengine=io_uring --iodepth=32 \
      --time_based --runtime=8 --ramp_time=1 --norandommap --randrepeat=0 --lat_percentiles=1 --output-format=json 2>/dev/null \
    | python3 -c 'import json, sys; r = json.load(sys.stdin)["jobs"][0]["read"]; print(round(r["iops"]), round(r["lat_ns"]["percentile"]["95.000000"] / 1000))'
}
ceiling() { # MODEL.yaml -> the lowest capacity seen, read-equivalent IOPS (from the model's comments)
  sed -n 's/^# Lowest capacity seen: \([0-9,]*\) read-equivalent.*/\1/p' "$1" | tr -d ,
}

declare -a SECS MIXED RO WCOST CPUREF CEIL FIOIOPS FIOP95
for i in $(seq 1 "$CALS"); do
  CPUREF[$i]=$(cpu_ref || echo -)
  read -r FIOIOPS[$i] FIOP95[$i] < <(fio_ref || echo "- -")
  precond=""; [ "$i" -gt 1 ] && precond="--skip-precondition"   # the first run wrote the span
  cmd="taskset -c $CAL_CPU $REFLEX_HOME/bin/reflex-calibrate --device $DEV --engine $ENGINE --name calibrated-$i --out $OUT/model-$i.yaml --plot $OUT/model-$i.png $precond $CAL_ARGS"
  echo "$cmd" >> "$OUT/commands.txt"
  log "calibration $i/$CALS: $cmd"
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  $cmd > "$OUT/model-$i.log" 2>&1 || { tail -20 "$OUT/model-$i.log" >&2; die "calibration $i failed (see $OUT/model-$i.log)"; }
  SECS[$i]=$(python3 -c "import sys; print(round($(date +%s.%N) - $t0))")
  MIXED[$i]=$(budget "$OUT/model-$i.yaml" "$QOS_P95" mixedTokensPerSec)
  RO[$i]=$(budget "$OUT/model-$i.yaml" "$QOS_P95" readOnlyTokensPerSec)
  WCOST[$i]=$(python3 -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['writeCost4k'])" "$OUT/model-$i.yaml")
  CEIL[$i]=$(ceiling "$OUT/model-$i.yaml"); CEIL[$i]=${CEIL[$i]:--}
  log "  took ${SECS[$i]} s; budget at p95 $QOS_P95 µs: mixed ${MIXED[$i]}, read-only ${RO[$i]} tokens/s; write cost ${WCOST[$i]};" \
    "lowest capacity seen ${CEIL[$i]} IOPS; CPU reference before it ${CPUREF[$i]} MB/s; fio QD32 before it ${FIOIOPS[$i]} IOPS at p95 ${FIOP95[$i]} µs"
done
CPUREF_END=$(cpu_ref || echo -)
read -r FIOIOPS_END FIOP95_END < <(fio_ref || echo "- -")

# the overstated models: the first calibration with every token rate multiplied by each factor in OVERSTATE
for f in $OVERSTATE; do
  python3 - "$OUT/model-1.yaml" "$OUT/overstated-$f.yaml" "$f" <<'PY'
import sys, yaml
m = yaml.safe_load(open(sys.argv[1])); f = float(sys.argv[3])
m["name"] = f"overstated-{sys.argv[3]}x"; m["description"] = f"model-1 with every token rate x {sys.argv[3]} (a wrong model)"
for l in m["tokenLimits"]:
    l["mixedTokensPerSec"] = int(l["mixedTokensPerSec"] * f); l["readOnlyTokensPerSec"] = int(l["readOnlyTokensPerSec"] * f)
yaml.safe_dump(m, open(sys.argv[2], "w"), sort_keys=False)
PY
done

[ "${MIXED[1]}" != 0 ] || die "calibration 1's model reaches no p95 of $QOS_P95 µs (its strictest point is above it): no QoS run at that SLO"
RUNS_QOS=(fresh); for f in $OVERSTATE; do RUNS_QOS+=("overstated-$f"); done
for which in "${RUNS_QOS[@]}"; do
  model=$OUT/model-1.yaml; [ $which = fresh ] || model=$OUT/$which.yaml
  log "QoS with the $which model ($model)"
  MODEL=$model OUT_DIR=$OUT/qos-$which "$BENCH_DIR/run-dataplane.sh" qos > "$OUT/qos-$which.log" 2>&1 \
    || { tail -20 "$OUT/qos-$which.log" >&2; die "QoS run with the $which model failed"; }
done

{
  echo "## Calibration of $DEV ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$REPO" rev-parse --short HEAD), load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "| calibration | time s | write cost | mixed budget at p95 $QOS_P95 µs (tokens/s) | read-only budget (tokens/s) | lowest capacity seen (read-equivalent IOPS) | CPU reference before it (sha256 MB/s, vCPU $CAL_CPU) | fio alone before it (QD32 IOPS, p95 µs) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for i in $(seq 1 "$CALS"); do echo "| $i | ${SECS[$i]} | ${WCOST[$i]} | ${MIXED[$i]} | ${RO[$i]} | ${CEIL[$i]} | ${CPUREF[$i]} | ${FIOIOPS[$i]}, ${FIOP95[$i]} |"; done
  echo "| after | | | | | | $CPUREF_END | $FIOIOPS_END, $FIOP95_END |"
  python3 - "${MIXED[*]}" "${CEIL[*]}" "${CPUREF[*]} $CPUREF_END" "${FIOIOPS[*]} $FIOIOPS_END" "${FIOP95[*]} $FIOP95_END" <<'PY'
import statistics, sys
def spread(name, xs, unit):
    v = [float(x) for x in xs.split() if x != "-"]
    if len(v) < 2: return
    med = statistics.median(v)
    print(f"- {name}: {100 * (max(v) - med) / med:+.1f}% / {100 * (min(v) - med) / med:+.1f}% around the median {med:,.0f} {unit}")
print("\nSpreads (largest deviation above / below the median):\n")
spread("mixed budget at the SLO point (goal ±15%)", sys.argv[1], "tokens/s")
spread("lowest capacity seen: what the node served when it could not keep up", sys.argv[2], "IOPS")
spread("CPU reference (the host's speed per instruction on the calibrator's vCPU)", sys.argv[3], "MB/s")
spread("fio alone, QD32 IOPS (the I/O path's capacity without our code)", sys.argv[4], "IOPS")
spread("fio alone, QD32 p95", sys.argv[5], "µs")
PY
  echo
  for which in "${RUNS_QOS[@]}"; do
    [ $which = fresh ] && echo "### QoS with the fresh model" || echo "### QoS with the model ${which/-/ }x"
    echo
    sed -n '/^### 4. QoS/,/^### Commands/p' "$OUT/qos-$which/summary.md" | sed '1d;$d'
  done
  echo "Commands: $OUT/commands.txt; QoS commands in each qos-*/summary.md."
} > "$OUT/summary.md"
cat "$OUT/summary.md"
log "results in $OUT"

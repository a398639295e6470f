#!/usr/bin/env bash
# Calibrate a device model *through the dataplane*, on the CPUs the QoS benchmark uses (everything on vCPU 1;
# the committed model was measured with the server --poll block, the QoS run serves it --poll yield).
#
#   bench/calibrate-dataplane.sh [NAME]      (default NAME: virtio-vm-dataplane) -> devmodels/models/NAME.yaml
#
# Why: bench/calibrate.sh measures the disk with fio alone on an otherwise idle VM. On this Firecracker VM the
# disk's tail depends on what the guest's vCPUs do: fio at 20K open-loop reads on vCPU 1 has p95 ~50 µs with
# vCPU 0 idle, but ~400 µs (p99 ~2 ms, ~1.2 s of steal time per 5 s) with a spinning or busy vCPU 0 (the host
# runs the disk emulation next to vCPU 0). A budget taken from fio alone promises reads the device cannot deliver
# once a dataplane and its clients run. This script measures the read-only curve the way a tenant sees it:
# reflex-bench open loop (Poisson-free, fixed rate; CO-corrected p95) through `reflex-dataplane --no-qos`,
# server and client on vCPU SRV_CPU/CLI_CPU, at each of RATES, REPS times (median p95 per rate). The token rates
# at each p95 target come from that curve (isotonic fit, bench/lib/calib.py --dataplane); the write cost, a
# property of the disk, is taken from BASE (fio's mixed sweeps; the dataplane's network cost is per request, not
# per write, so it does not change w).
#
# Environment: RATES="2000 5000 8000 11000 14000 17000 20000 23000 26000 30000 35000", REPS=3, CAL_DURATION=8 (s per point,
# +2 s warm-up), SRV_CPU=1 SRV_POLL=block, CLI_CPU=1 CLI_POLL=yield, BASE=devmodels/models/virtio-vm.yaml,
# MAX_LOAD/WAIT_MAX (as run-dataplane.sh). ~ |RATES| x REPS x 11.5 s + 20 s (~7 min with the defaults).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
trap cleanup EXIT

NAME=${1:-virtio-vm-dataplane}
RATES=${RATES:-"2000 5000 8000 11000 14000 17000 20000 23000 26000 30000 35000"}
REPS=${REPS:-3}
CAL_DURATION=${CAL_DURATION:-8}
SRV_CPU=${SRV_CPU:-1}; SRV_POLL=${SRV_POLL:-block}
CLI_CPU=${CLI_CPU:-1}; CLI_POLL=${CLI_POLL:-yield}
BASE=${BASE:-$REPO/devmodels/models/virtio-vm.yaml}
[ -f "$BASE" ] || die "no base model $BASE (its write cost is reused): run bench/calibrate.sh first"
OUT=$REPO/bench/results/calibrate-dataplane-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
BENCH=$REFLEX_HOME/bin/reflex-bench
PORT=11234; ADMIN=19400

ensure_device
ensure_jars
[ -n "${MAX_LOAD:-}" ] && wait_quiet "$MAX_LOAD" "${WAIT_MAX:-600}"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "calibrating $DEV through the dataplane -> devmodels/models/$NAME.yaml; raw data in $OUT; load average $LOAD0"
start_dataplane "$OUT/server.log" "$SRV_CPU" $PORT $ADMIN --device "$DEV" --engine uring --poll "$SRV_POLL" --no-qos
echo "server: $(cat "$OUT/server.log.cmd")" > "$OUT/commands.txt"
# JIT warm-up, unmeasured
$(pin "$CLI_CPU") "$BENCH" --server 127.0.0.1:$PORT --mode closed --qd 8 --duration 3 --warmup 0 \
  --lba-range $DEV_SECTORS --poll "$CLI_POLL" > /dev/null 2>&1
for rep in $(seq 1 "$REPS"); do
  for rate in $RATES; do
    f=$OUT/sweep-$rate-$rep.json
    cmd="$(pin "$CLI_CPU") $BENCH --server 127.0.0.1:$PORT --mode open --iops $rate --read-pct 100 --duration $CAL_DURATION --warmup 2 --lba-range $DEV_SECTORS --poll $CLI_POLL --json $f"
    echo "$cmd" >> "$OUT/commands.txt"
    # shellcheck disable=SC2086
    $cmd > "$OUT/sweep-$rate-$rep.txt" 2>&1 || log "reflex-bench exit $? at $rate IOPS (see $OUT/sweep-$rate-$rep.txt)"
    log "  rep $rep @ $rate IOPS: $(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['rows'][0]; print(f\"got {r['iops']:.0f} IOPS, p50 {r['p50_us']:.0f} us, p95 {r['p95_us']:.0f} us, p99 {r['p99_us']:.0f} us\")" "$f")"
  done
done
stop_dataplane "$SERVER_PID"

python3 "$BENCH_DIR/lib/calib.py" --dataplane "$OUT" "$NAME" "$REPO/devmodels/models/$NAME.yaml" \
  "$(nproc) vCPU $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r); $DEV on $(df --output=source "$DEV" | tail -1) (virtio); server vCPU $SRV_CPU --poll $SRV_POLL, client vCPU $CLI_CPU --poll $CLI_POLL; load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg)" \
  "$BASE"
log "wrote devmodels/models/$NAME.yaml (raw data and fit in $OUT)"

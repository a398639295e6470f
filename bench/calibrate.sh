#!/usr/bin/env bash
# Calibrate a device model for this machine's disk (ReFlex's method, simplified; see bench/README.md).
#
#   bench/calibrate.sh [NAME]          (default NAME: virtio-vm) -> devmodels/models/NAME.yaml
#
# 1. capacity probes (closed loop, QD32): read-only and each mixed ratio;
# 2. open-loop Poisson sweeps with fio (io_uring, O_DIRECT, 4 KiB random, --rate_iops, --rate_process=poisson):
#    read-only, and each mixed ratio (writes with O_DSYNC, like the dataplane's default --sync-writes true),
#    at fractions of the probed capacity; latency = p95 of the reads (what an LC reader sees);
# 3. write weight w: for each mixed point, the read-only IOPS with the same read p95, R*(p95), gives
#    w = (R*(p95) - reads) / writes; w = median over the points on the rising part of the curves, so that
#    p95 vs (RdIOPS + w*WrIOPS) overlaps the read-only curve. Write cost = 100*w (read cost 100);
# 4. token rates at p95 targets: read-only = 100 * R*(target); mixed = 100 * (R + w*W) where the mixed curves
#    reach the target.
# Environment: DEV (the 4 GiB test file), CAL_DURATION=8 (s per sweep point, +1 s ramp), RATIOS="90 75"
# (read % of the mixed sweeps), MAX_LOAD/WAIT_MAX (as run-dataplane.sh), CPU=1 (vCPU fio runs on: where the dataplane runs in bench/run-dataplane.sh),
# SYNC_WRITES=true (writes O_DSYNC, for a dataplane with --sync-writes true; false: plain O_DIRECT writes, for
# --sync-writes false, where durability comes from FLUSH as with a disk's volatile write cache).
# Takes ~ (11 + 2 x 9 points) x (CAL_DURATION + 1) s + probes ~ 5 min with the defaults.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

NAME=${1:-virtio-vm}
CAL_DURATION=${CAL_DURATION:-8}
RATIOS=${RATIOS:-"90 75"}
CPU=${CPU:-1}
SYNC_WRITES=${SYNC_WRITES:-true}
case $SYNC_WRITES in true) SYNC="--sync=dsync" ;; false) SYNC="" ;; *) die "SYNC_WRITES must be true or false" ;; esac
# sweep rates as fractions of the closed-loop capacity; mixed latency rises much earlier (O_DSYNC writes), so denser low
RO_FRACTIONS=${RO_FRACTIONS:-"0.05 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0"}
MIX_FRACTIONS=${MIX_FRACTIONS:-"0.02 0.05 0.1 0.15 0.2 0.3 0.45 0.6 0.8"}
OUT=$REPO/bench/results/calibrate-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ensure_device
[ -n "${MAX_LOAD:-}" ] && wait_quiet "$MAX_LOAD" "${WAIT_MAX:-600}"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "calibrating $DEV -> devmodels/models/$NAME.yaml; raw data in $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"

COMMON="--filename=$DEV --bs=4k --direct=1 --ioengine=io_uring --cpus_allowed=$CPU --norandommap --randrepeat=0 --lat_percentiles=1 --output-format=json --time_based --ramp_time=1"

run_fio() { # file args...
  local f=$1; shift
  echo "fio $COMMON $*" >> "$OUT/commands.txt"
  # shellcheck disable=SC2086
  fio $COMMON "$@" > "$f"
}

iops_of() { python3 -c "import json,sys; j=json.load(open(sys.argv[1]))['jobs'][0]; print(int(j['read']['iops']+j['write']['iops']))" "$1"; }

# 1. capacity probes
run_fio "$OUT/probe-r100.json" --name=probe --rw=randread --iodepth=32 --runtime=5
CAP[100]=$(iops_of "$OUT/probe-r100.json")
for r in $RATIOS; do
  run_fio "$OUT/probe-r$r.json" --name=probe --rw=randrw --rwmixread="$r" $SYNC --iodepth=32 --runtime=5
  CAP[$r]=$(iops_of "$OUT/probe-r$r.json")
done
log "closed-loop QD32 capacity: read-only ${CAP[100]} IOPS; $(for r in $RATIOS; do printf '%s%%-read %s IOPS; ' "$r" "${CAP[$r]}"; done)"

# 2. open-loop sweeps
for r in 100 $RATIOS; do
  fr_list=$MIX_FRACTIONS; [ "$r" = 100 ] && fr_list=$RO_FRACTIONS
  for fr in $fr_list; do
    total=$(python3 -c "print(max(100, int(${CAP[$r]} * $fr)))")
    rd=$((total * r / 100)); wr=$((total - rd))
    if [ "$r" = 100 ]; then
      run_fio "$OUT/sweep-r$r-$total.json" --name=sweep --rw=randread --iodepth=256 --rate_iops="$rd" \
        --rate_process=poisson --runtime="$CAL_DURATION"
    else
      run_fio "$OUT/sweep-r$r-$total.json" --name=sweep --rw=randrw --rwmixread="$r" $SYNC --iodepth=256 \
        --rate_iops="$rd,$wr" --rate_process=poisson --runtime="$CAL_DURATION"
    fi
    log "  $r% read @ $total IOPS: $(python3 -c "
import json,sys; j=json.load(open(sys.argv[1]))['jobs'][0]; r=j['read']; w=j['write']
p=lambda x: x['lat_ns']['percentile'].get('95.000000',0)/1000 if x['total_ios'] else 0
print(f\"got {r['iops']:.0f} rd + {w['iops']:.0f} wr IOPS, read p95 {p(r):.0f} us, write p95 {p(w):.0f} us\")" "$OUT/sweep-r$r-$total.json")"
  done
done

# 3 + 4
SYNC_WRITES=$SYNC_WRITES python3 "$BENCH_DIR/lib/calib.py" "$OUT" "$NAME" "$REPO/devmodels/models/$NAME.yaml" \
  "$(nproc) vCPU $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r); $DEV on $(df --output=source "$DEV" | tail -1) (virtio); fio $(fio --version | tr -d fio-); load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
log "wrote devmodels/models/$NAME.yaml (raw data and fit in $OUT)"

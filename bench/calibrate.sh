#!/usr/bin/env bash
# Calibrate a device model for this machine's disk with bin/reflex-calibrate (its method and flags:
# bin/reflex-calibrate --help; bench/README.md "Calibration"). A thin wrapper: the bench's test file, CPU pinning,
# waiting for a quiet machine, and where the model and the raw output go.
#
#   bench/calibrate.sh [NAME]          (default NAME: virtio-vm) -> devmodels/models/NAME.yaml
#
# Environment: DEV (the 4 GiB test file; written once by ensure_device, so the calibrator does not precondition it
# again unless PRECONDITION=true), CPU=1 (vCPU the calibrator runs on: where the dataplane runs in
# bench/run-dataplane.sh; empty = unpinned), ENGINE=uring, SYNC_WRITES=true (writes durable, as the dataplane's
# --sync-writes; false for a dataplane run with --sync-writes false), CAL_DURATION (s per point; default the plan's),
# MAX_LOAD/WAIT_MAX (as run-dataplane.sh), EXTRA="..." (more reflex-calibrate flags).
# Writes bench/results/calibrate-<date>/ (calibrate.log: plan, every point, the table; NAME.png: curves and fit).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

NAME=${1:-virtio-vm}
CPU=${CPU:-1}
ENGINE=${ENGINE:-uring}
SYNC_WRITES=${SYNC_WRITES:-true}
PRECONDITION=${PRECONDITION:-false}
OUT=$REPO/bench/results/${CALIBRATE_KIND:-calibrate}-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ensure_device
[ -n "${MAX_LOAD:-}" ] && wait_quiet "$MAX_LOAD" "${WAIT_MAX:-600}"
args=(--device "$DEV" --engine "$ENGINE" --sync-writes "$SYNC_WRITES" --name "$NAME"
      --out "$REPO/devmodels/models/$NAME.yaml" --plot "$OUT/$NAME.png")
[ "$PRECONDITION" = true ] || args+=(--skip-precondition)
[ -n "${CAL_DURATION:-}" ] && args+=(--duration-per-point "$CAL_DURATION")
# shellcheck disable=SC2206
args+=(${EXTRA:-})
log "calibrating $DEV -> devmodels/models/$NAME.yaml; output in $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(pin "$CPU") $REFLEX_HOME/bin/reflex-calibrate ${args[*]}" > "$OUT/command.txt"
# shellcheck disable=SC2046
$(pin "$CPU") "$REFLEX_HOME/bin/reflex-calibrate" "${args[@]}" 2>&1 | tee "$OUT/calibrate.log"
log "wrote devmodels/models/$NAME.yaml (log and plot in $OUT)"

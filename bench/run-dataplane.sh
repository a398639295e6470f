#!/usr/bin/env bash
# Dataplane benchmarks against local fio on the same 4 GiB O_DIRECT file (see bench/README.md).
#
#   bench/run-dataplane.sh [qd1] [qd32] [memory] [qos]      (no argument: all four)
#
# Environment (defaults):
#   REPS=3            repetitions; the table shows medians
#   DURATION=10       measured seconds per run (each run adds a 1 s warm-up)
#   DEV=/var/tmp/reflex-bench/dev4g.img   test file (written with real data on first use, then reused)
#   MODEL=            device model for the QoS run; default: devmodels/models/virtio-vm-dataplane.yaml for
#                     QOS_LAYOUT=vcpu1 (bench/calibrate-dataplane.sh writes it), else virtio-vm.yaml (bench/calibrate.sh)
#   QOS_P95=1000      LC tenant's p95 SLO (µs); its reservation is half the model's budget there
#   QOS_DURATION=15   measured seconds of the QoS runs
#   QOS_SETUPS="qos-on qos-on-95 qos-off"   which QoS runs (scheduler on; on with LC at 95%; scheduler off)
#   QOS_SYNC_WRITES=true  the QoS server's --sync-writes (calibrate MODEL with the same SYNC_WRITES)
#   QOS_LAYOUT=vcpu1      vcpu1: server and LC client on vCPU 1, both --poll yield, the BE client on vCPU 0
#                         (--poll block; it mostly waits): vCPU 0 stays nearly idle, because on this VM the host runs
#                         the disk emulation next to vCPU 0 and any load there costs the disk ms of steal time.
#                         shared: server vCPU 1 --poll busy, both clients on vCPU 0; split: the LC client alone on
#                         vCPU 0, server --poll adaptive and the BE client on vCPU 1; block: as shared but nothing
#                         spins (server and both clients --poll block)
#   SETUPS="split-busy split-srv one-vcpu vcpu1-yield"   pinning/polling setups of our QD1/QD32 runs (see below; also
#                     unflagged and unflagged-epoll: no taskset/--poll, the server's and client's own layouts;
#                     unflagged-cadaptive: the same with the client --poll adaptive)
#   MSETUPS="t1-busy t1-block t2-adaptive"   memory-engine setups (also t1-block-epoll, unflagged)
#   FLOOR=1           also run bench/floor's C reference (the least a kernel-TCP server and client can do) in each
#                     QD1/QD32 setup's pinning: what this VM allows any TCP server, next to fio's local number
#   REFLEX_HOME=<this checkout>   whose bin/reflex-dataplane and bin/reflex-bench to run
#   OUT_DIR=bench/results/<date>  where results go
#   MAX_LOAD=, WAIT_MAX=600      if MAX_LOAD is set, wait (at most WAIT_MAX s) for the load average to drop below it
# Results: bench/results/<date>/{runs.jsonl,summary.json,summary.md,*.json,*.log}
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
trap cleanup EXIT

REPS=${REPS:-3}
DURATION=${DURATION:-10}
QOS_P95=${QOS_P95:-1000}
QOS_DURATION=${QOS_DURATION:-15}
QOS_SETUPS=${QOS_SETUPS:-"qos-on qos-on-95 qos-off"}
QOS_SYNC_WRITES=${QOS_SYNC_WRITES:-true}
QOS_LAYOUT=${QOS_LAYOUT:-vcpu1}
case $QOS_LAYOUT in
  vcpu1) QOS_SRV_POLL=yield; QOS_LC_CPU=1; QOS_LC_POLL=yield; QOS_BE_CPU=0 ;;
  shared) QOS_SRV_POLL=busy; QOS_LC_CPU=0; QOS_LC_POLL=busy; QOS_BE_CPU=0 ;;
  split) QOS_SRV_POLL=adaptive; QOS_LC_CPU=0; QOS_LC_POLL=busy; QOS_BE_CPU=1 ;;
  block) QOS_SRV_POLL=block; QOS_LC_CPU=0; QOS_LC_POLL=block; QOS_BE_CPU=0 ;;
  *) die "QOS_LAYOUT must be vcpu1, shared, split or block" ;;
esac
if [ "$QOS_LAYOUT" = vcpu1 ]; then MODEL=${MODEL:-$REPO/devmodels/models/virtio-vm-dataplane.yaml}
else MODEL=${MODEL:-$REPO/devmodels/models/virtio-vm.yaml}; fi
WHAT=("$@")
[ ${#WHAT[@]} -gt 0 ] || WHAT=(qd1 qd32 memory qos)
for w in "${WHAT[@]}"; do case $w in qd1|qd32|memory|qos) ;; *) die "unknown benchmark '$w' (qd1 qd32 memory qos)";; esac; done
want() { local w; for w in "${WHAT[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

OUT=${OUT_DIR:-$REPO/bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RUNS=$OUT/runs.jsonl
RES="python3 $BENCH_DIR/lib/results.py"
BENCH=$REFLEX_HOME/bin/reflex-bench
PORT=11234
ADMIN=19400

ensure_device
ensure_jars
FLOOR=${FLOOR:-1}
if [ "$FLOOR" = 1 ] && { want qd1 || want qd32; }; then ensure_floor "$OUT/bin"; fi
[ -n "${MAX_LOAD:-}" ] && wait_quiet "$MAX_LOAD" "${WAIT_MAX:-600}"
commit=$(git -C "$REFLEX_HOME" rev-parse --short HEAD 2>/dev/null || cat "$REFLEX_HOME/.commit" 2>/dev/null || echo unknown)
cat > "$OUT/meta.json" <<EOF
{"date": "$(date -Is)", "machine": "$(nproc) vCPU $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), $(free -g | awk '/Mem:/ {print $2}') GiB RAM",
 "commit": "$commit", "device": "$DEV ($(df --output=source "$DEV" | tail -1), 4 GiB, O_DIRECT)", "reps": $REPS, "duration": $DURATION,
 "load_start": "$(cut -d' ' -f1-3 /proc/loadavg)", "ticks_start": $($RES ticks), "what": "${WHAT[*]}"}
EOF
log "results -> $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- 1 + 2: uring engine vs fio, QD1 and QD32
# Reference: fio io_uring, same file, 4 KiB randread, direct, pinned to vCPU 1 (where the server runs).
#   fio-block: fio's default (waits for completions in io_uring_enter: the vCPU halts and pays the wake-up);
#   fio-poll:  --iodepth_batch_complete_min=0, fio reaps without blocking (busy-polls completions, like our busy loop).
# Ours: server = reflex-dataplane --engine uring; client = reflex-bench closed loop, one connection.
#   split-busy: server on vCPU 1 --poll busy, client on vCPU 0 --poll busy (the original's dedicated polling cores)
#   split-srv:  server on vCPU 1 --poll busy, client on vCPU 0 --poll block (only the server spins; an application
#               client waits in the kernel, and its halted vCPU leaves the host's virtio emulation more CPU)
#   one-vcpu:   server and client both on vCPU 0, both --poll block (no spinning: they alternate on one vCPU)
#   vcpu1-yield: server and client both on vCPU 1, both --poll yield (vCPU 0, next to the host's disk emulation, idle)
#   unflagged:  no taskset, no --poll, no --net on either side: what a user gets (the server picks its own layout and
#               network path and prints them in its log); unflagged-epoll: the same with the server --net epoll (the
#               fallback path, for a before/after in the same run). The floor runs unpinned, server and client
#               blocking (FLOOR_POLL=block), as an unflagged C server would. The client picks its own poll mode
#               (reflex-bench --poll auto, printed as 'client layout:' in the row's .txt); unflagged-cadaptive: as
#               unflagged, but the client --poll adaptive (its default before --poll auto), for an A/B in one run.
declare -A SRV_CPU=([split-busy]=1 [split-srv]=1 [one-vcpu]=0 [vcpu1-yield]=1 [unflagged]="" [unflagged-epoll]="" [unflagged-cadaptive]="")
declare -A SRV_POLL=([split-busy]=busy [split-srv]=busy [one-vcpu]=block [vcpu1-yield]=yield [unflagged]="" [unflagged-epoll]="" [unflagged-cadaptive]="")
declare -A SRV_NET=([unflagged-epoll]=epoll)
declare -A CLI_CPU=([split-busy]=0 [split-srv]=0 [one-vcpu]=0 [vcpu1-yield]=1 [unflagged]="" [unflagged-epoll]="" [unflagged-cadaptive]="")
declare -A CLI_POLL=([split-busy]=busy [split-srv]=block [one-vcpu]=block [vcpu1-yield]=yield [unflagged]="" [unflagged-epoll]="" [unflagged-cadaptive]=adaptive)
FLOOR_POLL=${FLOOR_POLL:-block}
SETUPS=(${SETUPS:-split-busy split-srv one-vcpu vcpu1-yield})

fio_ref() { # bench qd variant rep
  local b=$1 qd=$2 v=$3 rep=$4 extra=""
  [ "$v" = fio-poll ] && extra="--iodepth_batch_complete_min=0"
  local f=$OUT/$b-$v-$rep.json
  local cmd="fio --name=$b --filename=$DEV --rw=randread --bs=4k --direct=1 --ioengine=io_uring --iodepth=$qd $extra --cpus_allowed=1 --time_based --runtime=$DURATION --ramp_time=1 --norandommap --randrepeat=0 --lat_percentiles=1 --output-format=json"
  # shellcheck disable=SC2086
  $cmd > "$f"
  $RES record "$RUNS" --bench "$b" --setup "$v" --tool fio --rep "$rep" --json "$f" --cmd "$cmd" \
    --extra "pinning=fio pinned to vCPU 1, $([ "$v" = fio-poll ] && echo 'polls completions' || echo 'blocks for completions')"
}

ours_qd() { # setup rep benches...
  local s=$1 rep=$2; shift 2
  local spoll="${SRV_POLL[$s]:+--poll ${SRV_POLL[$s]}}" cpoll="${CLI_POLL[$s]:+--poll ${CLI_POLL[$s]}}" snet="${SRV_NET[$s]:+--net ${SRV_NET[$s]}}"
  # shellcheck disable=SC2086
  start_dataplane "$OUT/server-$s-$rep.log" "${SRV_CPU[$s]}" $PORT $ADMIN --device "$DEV" --engine uring $spoll $snet
  local scmd; scmd=$(cat "$OUT/server-$s-$rep.log.cmd")
  # short unmeasured run so the JITs of both sides are warm before the measured runs
  # shellcheck disable=SC2086
  $(pin "${CLI_CPU[$s]}") "$BENCH" --server 127.0.0.1:$PORT --mode closed --qd 8 --duration 2 --warmup 0 \
    --lba-range $DEV_SECTORS $cpoll > /dev/null 2>&1
  local b qd
  for b in "$@"; do
    qd=${b#qd}
    local f=$OUT/$b-$s-$rep.json
    local cmd="$(pin "${CLI_CPU[$s]}") $BENCH --server 127.0.0.1:$PORT --mode closed --qd $qd --duration $DURATION --warmup 1 --lba-range $DEV_SECTORS $cpoll --json $f"
    # shellcheck disable=SC2086
    $cmd > "$OUT/$b-$s-$rep.txt" 2>&1
    $RES record "$RUNS" --bench "$b" --setup "$s" --tool reflex --rep "$rep" --json "$f" --cmd "$cmd" --server-cmd "$scmd" \
      --extra "pinning=server vCPU ${SRV_CPU[$s]:-any} --poll ${SRV_POLL[$s]:-auto} --net ${SRV_NET[$s]:-auto}, client vCPU ${CLI_CPU[$s]:-any} --poll ${CLI_POLL[$s]:-auto}" \
        "server_layout=$(grep -m1 'layout:' "$OUT/server-$s-$rep.log" | sed 's/^ *//') / $(grep -m1 'network:' "$OUT/server-$s-$rep.log" | sed 's/^ *//')" \
        "client_layout=$(grep -m1 'client layout:' "$OUT/$b-$s-$rep.txt" | sed 's/^.*client layout: //')"
  done
  stop_dataplane "$SERVER_PID"
}

# The floor in the same setup: C server pinned and polling like ours, C client like reflex-bench.
floor_qd() { # setup rep benches...
  local s=$1 rep=$2; shift 2
  local scmd="$(pin "${SRV_CPU[$s]}") $FLOOR_SERVER $DEV $PORT ${SRV_POLL[$s]:-$FLOOR_POLL}"
  # shellcheck disable=SC2086
  $scmd > "$OUT/floor-server-$s-$rep.log" 2>&1 &
  local spid=$!
  _SERVER_PIDS+=("$spid")
  local i
  local up=0
  for i in $(seq 1 50); do
    (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && { up=1; break; }
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$up" = 1 ] || { cat "$OUT/floor-server-$s-$rep.log" >&2; die "floor server did not start listening on $PORT: $scmd"; }
  local b
  for b in "$@"; do
    local f=$OUT/$b-$s-floor-$rep.json
    local cmd="$(pin "${CLI_CPU[$s]}") $FLOOR_CLIENT $PORT ${b#qd} $DURATION ${CLI_POLL[$s]:-$FLOOR_POLL} $DEV_SECTORS $f"
    # shellcheck disable=SC2086
    $cmd > "$OUT/$b-$s-floor-$rep.txt" 2>&1 || { cat "$OUT/$b-$s-floor-$rep.txt" >&2; die "floor client failed: $cmd"; }
    $RES record "$RUNS" --bench "$b" --setup "$s" --tool floor --rep "$rep" --json "$f" --cmd "$cmd" --server-cmd "$scmd" \
      --extra "pinning=server vCPU ${SRV_CPU[$s]:-any} ${SRV_POLL[$s]:-$FLOOR_POLL}, client vCPU ${CLI_CPU[$s]:-any} ${CLI_POLL[$s]:-$FLOOR_POLL}"
  done
  stop_dataplane "$spid"
}

QDS=()
want qd1 && QDS+=(qd1)
want qd32 && QDS+=(qd32)
if [ ${#QDS[@]} -gt 0 ]; then
  for rep in $(seq 1 "$REPS"); do
    for b in "${QDS[@]}"; do
      # fio-poll only at QD1: with --iodepth_batch_complete_min=0 fio 3.33 keeps ~1 request in flight at QD32
      # (measured: QD1-like 30K IOPS, p50 30 µs), so it is no QD32 reference
      vs="fio-block"; [ "$b" = qd1 ] && vs="fio-block fio-poll"
      for v in $vs; do log "rep $rep: $b $v"; fio_ref "$b" "${b#qd}" "$v" "$rep"; done
    done
    for s in "${SETUPS[@]}"; do
      log "rep $rep: ${QDS[*]} reflex $s"; ours_qd "$s" "$rep" "${QDS[@]}"
      if [ "$FLOOR" = 1 ]; then log "rep $rep: ${QDS[*]} floor $s"; floor_qd "$s" "$rep" "${QDS[@]}"; fi
    done
  done
fi

# ---------------------------------------------------------------- 3: memory engine, server CPU per request
# CPU = utime+stime from /proc/PID/stat (whole JVM) and from the reflex-dp-* threads only, over the whole client run
# (warm-up + measured); requests = the server's own reflex_tenant_requests_total delta over the same window.
#   t1-busy:     --threads 1 on vCPU 1 --poll busy   (its CPU is 100% by construction: µs/req = 1/IOPS)
#   t1-block:    --threads 1 on vCPU 1 --poll block  (CPU only while working: the cost per request)
#   t2-adaptive: --threads 2 unpinned --poll adaptive, client 2 threads unpinned (4 busy threads on 2 vCPUs)
#   t1-block-epoll: t1-block with --net epoll (the fallback network path, for a before/after in the same run)
#   unflagged:   server and client without taskset/--threads/--poll/--net (the server's own layout), client 2 connections
declare -A M_SRV_CPU=([t1-busy]=1 [t1-block]=1 [t1-block-epoll]=1 [t2-adaptive]="" [unflagged]="")
declare -A M_SRV_POLL=([t1-busy]=busy [t1-block]=block [t1-block-epoll]=block [t2-adaptive]=adaptive [unflagged]="")
declare -A M_THREADS=([t1-busy]=1 [t1-block]=1 [t1-block-epoll]=1 [t2-adaptive]=2 [unflagged]="")
declare -A M_NET=([t1-block-epoll]=epoll)
declare -A M_CLI_CPU=([t1-busy]=0 [t1-block]=0 [t1-block-epoll]=0 [t2-adaptive]="" [unflagged]="")
declare -A M_CLI_POLL=([t1-busy]=busy [t1-block]=busy [t1-block-epoll]=busy [t2-adaptive]=adaptive [unflagged]="")
declare -A M_CLI_ARGS=([t1-busy]="--threads 1 --connections 2 --qd 32" [t1-block]="--threads 1 --connections 2 --qd 32"
  [t1-block-epoll]="--threads 1 --connections 2 --qd 32" [t2-adaptive]="--threads 2 --connections 4 --qd 32" [unflagged]="--connections 2 --qd 32")
MSETUPS=(${MSETUPS:-t1-busy t1-block t2-adaptive})

ours_memory() { # setup rep
  local s=$1 rep=$2
  local sflags="${M_THREADS[$s]:+--threads ${M_THREADS[$s]}} ${M_SRV_POLL[$s]:+--poll ${M_SRV_POLL[$s]}} ${M_NET[$s]:+--net ${M_NET[$s]}}"
  local cpoll="${M_CLI_POLL[$s]:+--poll ${M_CLI_POLL[$s]}}"
  # shellcheck disable=SC2086
  start_dataplane "$OUT/server-mem-$s-$rep.log" "${M_SRV_CPU[$s]}" $PORT $ADMIN --engine memory --size 4Gi $sflags
  local pid=$SERVER_PID scmd; scmd=$(cat "$OUT/server-mem-$s-$rep.log.cmd")
  # shellcheck disable=SC2086
  $(pin "${M_CLI_CPU[$s]}") "$BENCH" --server 127.0.0.1:$PORT --mode closed ${M_CLI_ARGS[$s]} --duration 3 --warmup 0 \
    --lba-range $DEV_SECTORS $cpoll > /dev/null 2>&1   # JIT warm-up, unmeasured
  local f=$OUT/memory-$s-$rep.json
  local cmd="$(pin "${M_CLI_CPU[$s]}") $BENCH --server 127.0.0.1:$PORT --mode closed ${M_CLI_ARGS[$s]} --duration $DURATION --warmup 1 --lba-range $DEV_SECTORS $cpoll --json $f"
  local r0 c0 t0 r1 c1 t1
  r0=$(server_requests $ADMIN); read -r -a c0 < <(cpu_ticks "$pid"); t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  $cmd > "$OUT/memory-$s-$rep.txt" 2>&1
  r1=$(server_requests $ADMIN); read -r -a c1 < <(cpu_ticks "$pid"); t1=$(date +%s.%N)
  local hz; hz=$(getconf CLK_TCK)
  local n=$((r1 - r0))
  local cpu_us loop_us loop_pct
  cpu_us=$(python3 -c "print(($((c1[0] - c0[0])) / $hz) * 1e6 / max(1, $n))")
  loop_us=$(python3 -c "print(($((c1[1] - c0[1])) / $hz) * 1e6 / max(1, $n))")
  loop_pct=$(python3 -c "print(100 * ($((c1[1] - c0[1])) / $hz) / ($t1 - $t0))")
  $RES record "$RUNS" --bench memory --setup "$s" --tool reflex --rep "$rep" --json "$f" --cmd "$cmd" --server-cmd "$scmd" \
    --extra "cpu_us_per_req=$cpu_us" "loop_cpu_us_per_req=$loop_us" "loop_cpu_pct=$loop_pct" "server_requests=$n" \
      "pinning=server $sflags ${M_SRV_CPU[$s]:+vCPU ${M_SRV_CPU[$s]} }; client ${M_CLI_ARGS[$s]} ${M_CLI_CPU[$s]:+vCPU ${M_CLI_CPU[$s]} }$cpoll" \
      "server_layout=$(grep -m1 'layout:' "$OUT/server-mem-$s-$rep.log" | sed 's/^ *//') / $(grep -m1 'network:' "$OUT/server-mem-$s-$rep.log" | sed 's/^ *//')"
  stop_dataplane "$pid"
}

if want memory; then
  for rep in $(seq 1 "$REPS"); do
    for s in "${MSETUPS[@]}"; do log "rep $rep: memory $s"; ours_memory "$s" "$rep"; done
  done
fi

# ---------------------------------------------------------------- 4: QoS
# LC tenant (100% 4 KiB random reads, p95 SLO = QOS_P95) reserving half the model's budget at that p95, open loop at
# exactly its reservation; BE tenant flooding 4 KiB random writes at QD64, closed loop; each on its own port and
# half of the file. Scheduler on (model MODEL) vs --no-qos; plus qos-on-95: the same with LC offering 95% of its
# reservation (an open-loop client that falls behind sends a catch-up burst; at exactly 100% the LC tenant, capped
# at its reservation, can never work such a backlog off). Pinning and polling per QOS_LAYOUT (see the top).
if want qos; then
  [ -f "$MODEL" ] || die "no device model $MODEL: run bench/calibrate-dataplane.sh (vcpu1) or bench/calibrate.sh first"
  read -r LC_IOPS BUDGET < <(python3 - "$MODEL" "$QOS_P95" <<'EOF'
import sys, yaml
m = yaml.safe_load(open(sys.argv[1])); p = float(sys.argv[2]); L = m["tokenLimits"]
def rate(key):
    if p < L[0]["p95Micros"]:  # as DeviceModel.tokenRateAt: no rate stricter than the first point
        sys.exit(f"{sys.argv[1]} reaches no p95 of {p:.0f} µs (its strictest point is {L[0]['p95Micros']} µs): set QOS_P95")
    for lo, hi in zip(L, L[1:]):
        if p <= hi["p95Micros"]:
            t = (p - lo["p95Micros"]) / (hi["p95Micros"] - lo["p95Micros"]); return lo[key] + t * (hi[key] - lo[key])
    return L[-1][key]
budget = rate("mixedTokensPerSec")  # a BE tenant is present: the mixed budget applies
print(int(budget / 2 / m["readCost4k"]), int(budget))
EOF
)
  HALF=$((DEV_SECTORS / 2))
  cat > "$OUT/slo-table.yaml" <<EOF
# generated by bench/run-dataplane.sh: LC reserves half of $(basename "$MODEL")'s mixed budget at p95 ${QOS_P95} µs ($BUDGET tokens/s)
tenants:
  - { name: lc, port: 11301, class: LC, iops: $LC_IOPS, readPercent: 100, p95Micros: $QOS_P95, lbaBase: 0, lbaCount: $HALF }
  - { name: be, port: 11302, class: BE, lbaBase: $HALF, lbaCount: $HALF }
EOF
  log "QoS: LC $LC_IOPS IOPS at p95 $QOS_P95 µs (half of $BUDGET tokens/s); table $OUT/slo-table.yaml"
  for rep in $(seq 1 "$REPS"); do
    for s in $QOS_SETUPS; do
      log "rep $rep: $s"
      flag=""; [ $s = qos-off ] && flag="--no-qos"
      offered=$LC_IOPS; [ $s = qos-on-95 ] && offered=$((LC_IOPS * 95 / 100))
      # shellcheck disable=SC2086
      start_dataplane "$OUT/server-$s-$rep.log" 1 11300 $ADMIN --device "$DEV" --engine uring --poll $QOS_SRV_POLL \
        --model "$MODEL" --slo-table "$OUT/slo-table.yaml" --sync-writes "$QOS_SYNC_WRITES" $flag
      scmd=$(cat "$OUT/server-$s-$rep.log.cmd")
      grep -q REJECTED "$OUT/server-$s-$rep.log" && { cat "$OUT/server-$s-$rep.log" >&2; die "tenant rejected"; }
      fbe=$OUT/qos-be-$s-$rep.json; flc=$OUT/qos-lc-$s-$rep.json
      be_cmd="taskset -c $QOS_BE_CPU $BENCH --server 127.0.0.1:11302 --mode closed --qd 64 --read-pct 0 --duration $((QOS_DURATION + 4)) --warmup 1 --lba-range $HALF --poll block --drain 30 --json $fbe"
      lc_cmd="taskset -c $QOS_LC_CPU $BENCH --server 127.0.0.1:11301 --mode open --iops $offered --read-pct 100 --duration $QOS_DURATION --warmup 2 --lba-range $HALF --poll $QOS_LC_POLL --json $flc"
      # shellcheck disable=SC2086
      $be_cmd > "$OUT/qos-be-$s-$rep.txt" 2>&1 & be_pid=$!
      sleep 2
      # shellcheck disable=SC2086
      $lc_cmd > "$OUT/qos-lc-$s-$rep.txt" 2>&1 || log "LC client exit $? (see $OUT/qos-lc-$s-$rep.txt)"
      wait $be_pid || log "BE client exit $? (see $OUT/qos-be-$s-$rep.txt)"
      curl -fs "http://127.0.0.1:$ADMIN/metrics" > "$OUT/qos-metrics-$s-$rep.txt" || true
      pinning="server vCPU 1 --poll $QOS_SRV_POLL --sync-writes $QOS_SYNC_WRITES $flag; LC client vCPU $QOS_LC_CPU --poll $QOS_LC_POLL; BE client vCPU $QOS_BE_CPU --poll block"
      # the server's own view of LC latency (parse to completion), from its cumulative histogram: the upper bound
      # of the first bucket holding 95% of the requests
      srv_p95=$(python3 - "$OUT/qos-metrics-$s-$rep.txt" <<'PY'
import re, sys
b = []
for line in open(sys.argv[1]):
    m = re.match(r'reflex_tenant_latency_seconds_bucket\{.*tenant="lc".*le="([^"]+)"\} (\S+)', line)
    if m: b.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), float(m.group(2))))
b.sort()
total = b[-1][1] if b else 0
print(next((round(le * 1e6) for le, c in b if total and c >= 0.95 * total), -1))
PY
)
      $RES record "$RUNS" --bench qos --setup $s --tool lc --rep "$rep" --json "$flc" --cmd "$lc_cmd" --server-cmd "$scmd" \
        --extra "slo_p95_us=$QOS_P95" "reserved_iops=$LC_IOPS" "server_p95_us_le=$srv_p95" "pinning=$pinning"
      $RES record "$RUNS" --bench qos --setup $s --tool be --rep "$rep" --json "$fbe" --cmd "$be_cmd" --server-cmd "$scmd" \
        --extra "pinning=$pinning"
      stop_dataplane "$SERVER_PID"
    done
  done
fi

python3 - "$OUT/meta.json" <<EOF
import json, sys; m = json.load(open(sys.argv[1])); m["load_end"] = "$(cut -d' ' -f1-3 /proc/loadavg)"; m["ticks_end"] = $($RES ticks); json.dump(m, open(sys.argv[1], "w"))
EOF
$RES summarize "$OUT"
log "results in $OUT (summary.md, summary.json, runs.jsonl)"

#!/usr/bin/env bash
# Soak (issue 15): a real control plane (kube-apiserver + etcd), the operator and one node agent (a file-backed
# device, this VM's calibrated model) as local processes; an LC tenant and two BE tenants (FlashTenants) loaded at
# ~70% of the device's token budget for DURATION s; meanwhile the node's SLO table changes every RELOAD s and the
# operator is stopped (SIGTERM, every other time kill -9) and restarted every OPERATOR_RESTART s. Verdicts: 0 errors,
# the LC SLO met in >= 99% of 10-s windows, every table change applied, every restart back, placements unchanged,
# and heap, RSS, open files and threads flat (slopes reported). See bench/soak/README.md.
#
#   bench/soak/run.sh                    # 30 min (DURATION=1800), operator restarted every 300 s, reload every 10 s
#   bench/soak/run.sh --short            # CI: DURATION=90, OPERATOR_RESTART=30 (LC share, slopes: reported, not judged)
#   DURATION=120 OPERATOR_RESTART=40 bench/soak/run.sh
#
# Env: DURATION (1800; 90 with --short) OPERATOR_RESTART (300; 30 with --short) RELOAD (10) SLO (LC p95 µs, 1000)
#      LC_SHARE (0.5: LC reservation as a share of the budget at SLO) TOTAL_SHARE (0.7: LC + BE offered)
#      NMT (1: the agent runs with -XX:NativeMemoryTracking=summary; every forced-GC point saves its summary, the
#      report shows what native memory changed over the second half)
#      AGENT_JAVA_OPTS / OPERATOR_JAVA_OPTS (extra JVM flags; the agent gets the product's, as bin/reflex-node-agent
#      and the chart run it, TrimNativeHeapInterval included)
#      WARMUP (10 s: windows before t0, reported, not judged)
#      MODEL (virtio-vm-dataplane) CHURN_IOPS (100) MAX_LOAD / WAIT_MAX (wait up to WAIT_MAX=600 s for the 1-min
#      load average to drop below MAX_LOAD before the load starts; unset: no wait)
#      REFLEX_HOME (checkout whose built jars run; default this one, built if stale) NO_BUILD (1: never build)
#      KEEP_DEVICE (1: keep the 1 GiB device file) WORK (/var/tmp/reflex-soak: lock, copies of the jars)
#      BENCH_API_PORT (16843) BENCH_ETCD_PORT (12779) BENCH_ETCD_PEER_PORT (12780) BENCH_HTTP_PORT (operator, 18880)
# Own resources: network namespace rfx-soak + veth rfxsk with the stand-in node address 10.213.221.1 (EndpointSlices
# refuse loopback), agent HTTP 10.213.221.1:9500, control plane state under the results dir; a lock on
# $WORK/lock so two soaks never share them. Needs root, iproute2, kubectl, taskset, the control-plane binaries.
# Results: bench/results/soak-<UTC date>/ (summary.md, summary.json, samples.jsonl, reloads.jsonl, events.jsonl,
# lc-windows.json, clients/*.rows, logs). Exit 1 if a verdict fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
source bin/lib/java-home.sh

short=false
for a in "$@"; do
  case $a in
    --short) short=true ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "usage: bench/soak/run.sh [--short]" >&2; exit 2 ;;
  esac
done
if $short; then DURATION=${DURATION:-90} OPERATOR_RESTART=${OPERATOR_RESTART:-30}; fi
DURATION=${DURATION:-1800} OPERATOR_RESTART=${OPERATOR_RESTART:-300} RELOAD=${RELOAD:-10} WINDOW=10
# Warm-up before the judged DURATION (whole windows): the freshly started agent and clients JIT-compile their paths
# and the table churn runs, on the one vCPU the data path has; its windows are reported, not judged.
WARMUP=${WARMUP:-10}; WARMUP=$(( (WARMUP + WINDOW - 1) / WINDOW * WINDOW )); [ "$WARMUP" -ge "$WINDOW" ] || WARMUP=$WINDOW
SLO=${SLO:-1000} LC_SHARE=${LC_SHARE:-0.5} TOTAL_SHARE=${TOTAL_SHARE:-0.7} MODEL=${MODEL:-virtio-vm-dataplane}
CHURN_IOPS=${CHURN_IOPS:-100}
REFLEX_HOME=${REFLEX_HOME:-$root}
WORK=${WORK:-/var/tmp/reflex-soak}
export REFLEX_APISERVER_PORT=${BENCH_API_PORT:-16843} REFLEX_ETCD_PORT=${BENCH_ETCD_PORT:-12779}
export REFLEX_ETCD_PEER_PORT=${BENCH_ETCD_PEER_PORT:-12780}
OP_PORT=${BENCH_HTTP_PORT:-18880}
ADDR=10.213.221.1 NETNS=rfx-soak LINK=rfxsk NODE=soak-node NS=soak
AGENT_HTTP=$ADDR:9500
stamp=$(date -u +%Y%m%d-%H%M%S)
OUT=$root/bench/results/soak-$stamp
RUN=$WORK/run
DEVFILE=$OUT/device.img
export REFLEX_CP_DIR=$OUT/controlplane
PY="python3 $here/soak.py"
command=$( ($short && echo "bench/soak/run.sh --short") || echo "bench/soak/run.sh")
command="DURATION=$DURATION OPERATOR_RESTART=$OPERATOR_RESTART RELOAD=$RELOAD $command"

say() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
k() { kubectl "$@"; }
now() { date +%s.%N | cut -c1-14; }

[ "$(id -u)" = 0 ] || die "needs root (a network namespace + veth pair for the stand-in node's address)"
for c in ip kubectl taskset curl python3 flock; do command -v $c >/dev/null || die "$c is needed"; done
[ -x "$JAVA_HOME/bin/jcmd" ] || die "no jcmd in $JAVA_HOME"
[ -f "devmodels/models/$MODEL.yaml" ] || die "no device model devmodels/models/$MODEL.yaml"
[ "$DURATION" -ge $((2 * WINDOW)) ] || die "DURATION must be >= $((2 * WINDOW)) s"

mkdir -p "$WORK"
exec 9>"$WORK/lock"
flock -n 9 || die "another soak holds $WORK/lock (its ports, network namespace $NETNS)"
mkdir -p "$OUT/pids" "$OUT/clients" "$OUT/gc"
if [ -n "${NMT:-}" ]; then mkdir -p "$OUT/nmt"; export SOAK_NMT=1; fi
: >"$OUT/events.jsonl"

# ---- every process we start, by name -> pid; stopped by pid on exit --------------------------------------------------
declare -A pids=()
cp_up=false netns_up=false
stop() { # stop TIMEOUT NAME...
  local timeout=$1 name p; shift
  for name in "$@"; do
    p=${pids[$name]:-}; [ -n "$p" ] || continue
    unset "pids[$name]"
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 1 $((timeout * 10))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then say "pid $p ($name) ignored SIGTERM for ${timeout}s; killing it"; kill -KILL "$p" 2>/dev/null; fi
    wait "$p" 2>/dev/null || true
  done
}
stop_clients() {
  local n p
  for n in lc be-r be-w; do
    stop 2 "loop-$n"                                      # the restart loop first, then its current client
    p=$(cat "$OUT/pids/client-$n.pid" 2>/dev/null) || continue
    if kill -0 "$p" 2>/dev/null && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q reflex-client.jar; then
      kill -TERM "$p" 2>/dev/null
    fi
  done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  stop_clients
  stop 5 reload sampler
  stop 30 agent
  stop 20 operator
  if $cp_up; then
    cp -r "$REFLEX_CP_DIR/logs" "$OUT/controlplane-logs" 2>/dev/null
    e2e/controlplane down >>"$OUT/controlplane.log" 2>&1 || say "controlplane down failed (state in $REFLEX_CP_DIR)"
  fi
  if $netns_up; then ip link del "$LINK" 2>/dev/null; ip netns del "$NETNS" 2>/dev/null; fi
  [ "${KEEP_DEVICE:-0}" = 1 ] || rm -f "$DEVFILE"
  rm -rf "$RUN" "$OUT/agent-state" "$OUT/operator-cwd"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

event() { # event JSON-FIELDS MESSAGE: one line of the timeline (t = seconds since T0, or before it: negative)
  local t; t=$(now)
  printf '{"t": %s, "rel": %s, %s}\n' "$t" "$(python3 -c "print(round($t - ${T0:-$t}, 2))")" "$1" >>"$OUT/events.jsonl"
  say "$2"
}
wait_until() { # wait_until WHAT TIMEOUT PIDNAME -- CMD...
  local what=$1 timeout=$2 pname=$3; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pname" ] && ! kill -0 "${pids[$pname]:-0}" 2>/dev/null; then die "$what: $pname exited (see $OUT/$pname*.log)"; fi
    [ $SECONDS -ge $deadline ] && die "$what: not within ${timeout}s"
    sleep 0.2
  done
}
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# ---- jars: this checkout's (built when stale) or REFLEX_HOME's, copied so a rebuild meanwhile cannot swap them -------
build() {
  if [ "$REFLEX_HOME" = "$root" ] && [ -z "${NO_BUILD:-}" ]; then
    source bin/lib/stale.sh
    local mods=()
    reflex_stale operator/target/quarkus-app/quarkus-run.jar devmodels crds operator && mods+=(operator)
    reflex_stale node-agent/target/quarkus-app/quarkus-run.jar protocol devmodels dataplane crds node-agent && mods+=(node-agent)
    reflex_stale client/target/reflex-client.jar protocol client && mods+=(client)
    if [ ${#mods[@]} -gt 0 ]; then
      say "building ${mods[*]} (log $OUT/build.log)"
      ./mvnw -B -ntp -q -pl "$(IFS=,; echo "${mods[*]}")" -am package -DskipTests >"$OUT/build.log" 2>&1 \
        || { tail -40 "$OUT/build.log" >&2; die "build failed"; }
      touch operator/target/quarkus-app/quarkus-run.jar node-agent/target/quarkus-app/quarkus-run.jar client/target/reflex-client.jar
    fi
  fi
  local h=$REFLEX_HOME
  for f in operator/target/quarkus-app/quarkus-run.jar node-agent/target/quarkus-app/quarkus-run.jar client/target/reflex-client.jar; do
    [ -f "$h/$f" ] || die "$h/$f missing (build it: ./mvnw -pl operator,node-agent,client -am package -DskipTests)"
  done
  rm -rf "$RUN"; mkdir -p "$RUN/client"
  cp -r "$h/operator/target/quarkus-app" "$RUN/operator-app"
  cp -r "$h/node-agent/target/quarkus-app" "$RUN/agent-app"
  cp -r "$h/client/target/reflex-client.jar" "$h/client/target/lib" "$RUN/client/"
}

# ---- CPU layout -------------------------------------------------------------------------------------------------------
# The data path (the agent's dataplane loop + LC client, both --poll yield) gets the last CPU; everything else (control
# plane, operator, BE clients, the sampler and reload driver, kubectl, this script) the others: a JVM start or a
# kubectl never lands on the data path's CPU; the agent as a whole runs there. HOUSEKEEPING=1 instead gives the agent
# all CPUs and the last as its loops' (--cpus): its loop is pinned there and its JIT compiler threads are
# kept on the others (client/.../cpu/Housekeeping.java); the LC client likewise (reflex-bench --cpus). Not the default
# yet: when housekeeping moved every thread, the agent's control threads on vCPU 0 beside the API server, etcd and a
# restarting operator saw Lease renewals take 10 s and it fenced itself (CI run; quiet 30-min run 2026-12-07 00:08);
# with only the compilers moved it is being measured (bench/soak/README.md). On this Firecracker VM load on vCPU 0 also costs
# disk latency (bench/README.md): the operator's restarts and the BE clients are felt there, as in a real node.
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
  LAST=$((ncpu - 1)); OTHER="0-$((LAST - 1))"
  DP_PIN="taskset -c $LAST"; DP_POLL=yield
  if [ "${HOUSEKEEPING:-0}" = 1 ]; then
    AGENT_PIN=(taskset -c "0-$LAST"); AGENT_CPUS=(--cpus "$LAST"); agent_at="agent loop (--cpus $LAST; its JIT compilers on $OTHER)"
    LC_PIN="taskset -c 0-$LAST"; LC_CPUS=$LAST; lc_at="LC client's load thread (--cpus $LAST; its JIT compilers on $OTHER)"
  else
    AGENT_PIN=($DP_PIN); AGENT_CPUS=(); agent_at="agent"; LC_PIN=$DP_PIN; LC_CPUS=""; lc_at="LC client"
  fi
  layout="$agent_at + $lc_at on CPU $LAST (--poll yield); control plane, operator, BE clients (--poll block), helpers on CPU $OTHER"
else
  DP_PIN=""; DP_POLL=adaptive; OTHER=""; AGENT_PIN=(); AGENT_CPUS=(); LC_PIN=""; LC_CPUS=""
  layout="one CPU: unpinned, --poll adaptive"
fi

AGENT_CMD=("${AGENT_PIN[@]}" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED -XX:+UseParallelGC -XX:TrimNativeHeapInterval=60000 -Xmx768m -XX:+ExitOnOutOfMemoryError
  "-Xlog:gc:file=$OUT/gc/agent.log:time,uptime" ${NMT:+-XX:NativeMemoryTracking=summary} ${AGENT_JAVA_OPTS:-}
  -jar "$RUN/agent-app/quarkus-run.jar"
  --node "$NODE" --address "$ADDR" --http "$AGENT_HTTP" --device "$DEVFILE,model=$MODEL" --state-dir "$OUT/agent-state"
  --poll "$DP_POLL" "${AGENT_CPUS[@]}")
# As the chart runs them: heap = 75% of the container limit (agent 1Gi, operator 768Mi); the operator's image sets no
# collector, and under a 768Mi limit the JVM's ergonomics pick SerialGC.
op_life=0
op_start() {
  op_life=$((op_life + 1))
  mkdir -p "$OUT/operator-cwd"
  (cd "$OUT/operator-cwd" && exec env HOSTNAME=soak-operator "$JAVA_HOME/bin/java" -Xmx576m -XX:+UseSerialGC \
    -XX:+ExitOnOutOfMemoryError "-Xlog:gc:file=$OUT/gc/operator-$op_life.log:time,uptime" ${OPERATOR_JAVA_OPTS:-} -Dquarkus.http.port=$OP_PORT \
    -jar "$RUN/operator-app/quarkus-run.jar") >"$OUT/operator-$op_life.log" 2>&1 &
  pids[operator]=$!
  echo "$!" >"$OUT/pids/operator.pid"; echo "$op_life" >"$OUT/pids/operator.life"
  OP_STARTED=$(now)
}
# Ready, and (once there are objects) its ledger rebuilt from the API server: the ledger is built on the first
# reconcile, and a restarted operator reconciles every tenant and device at once.
op_ready() {
  curl -fs "http://127.0.0.1:$OP_PORT/q/health/ready" >/dev/null && { [ "$1" = 0 ] || grep -q "ledger rebuilt" "$OUT/operator-$op_life.log"; }
}
wait_operator() { # wait_operator N: until ready (and its ledger rebuilt); event operator-ready
  wait_until "operator life $op_life ready" 180 operator -- op_ready "$1"
  local ledger; ledger=$( (grep -o "ledger rebuilt from the API server: .*" "$OUT/operator-$op_life.log" || true) | head -1 | tr -d '"')
  event "\"what\": \"operator-ready\", \"n\": $1, \"life\": $op_life, \"ready_after_s\": $(python3 -c "print(round($(now) - $OP_STARTED, 2))"), \"ledger\": \"$ledger\"" \
    "operator life $op_life ready after $(python3 -c "print(round($(now) - $OP_STARTED, 1))") s ($ledger)"
}

# client_loop NAME PORT TOKEN LBAS RATE READPCT PIN POLL ROWS_FIRST: open loop at RATE in WINDOW-s rows until END;
# a client that ends early (lost connection) is restarted (a reconnect, counted) for the rest of the run.
client_loop() {
  local name=$1 port=$2 token=$3 lbas=$4 rate=$5 rpct=$6 pin=$7 poll=$8 rows=$9 cpus=${10:-} n=0 rc
  while :; do
    n=$((n + 1))
    if [ $n -gt 1 ]; then
      local left; left=$(python3 -c "print(int(($END - $(now)) // $WINDOW))")
      [ "$left" -ge 1 ] || break
      rows=$left
    fi
    local sweep; sweep=$(python3 -c "print(','.join(['$rate'] * $rows))")
    # shellcheck disable=SC2086
    $pin "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar "$RUN/client/reflex-client.jar" \
      --server "$ADDR:$port" --token "$token" --mode open --sweep "$sweep" --duration $WINDOW --warmup 0 --drain 2 \
      --read-pct "$rpct" --size 4096 --pattern rand --lba-range "$lbas" --poll "$poll" --seed $((42 + n)) ${cpus:+--cpus $cpus} \
      --json "$OUT/clients/$name-$n.json" \
      > >(while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$OUT/clients/$name-$n.rows") \
      2>"$OUT/clients/$name-$n.err" &
    echo $! >"$OUT/pids/client-$name.pid"
    rc=0; wait $! || rc=$?
    event "\"what\": \"client-exit\", \"name\": \"$name\", \"n\": $n, \"rc\": $rc" "client $name #$n exited ($rc)"
    python3 -c "import sys; sys.exit(0 if $(now) < $END - $WINDOW else 1)" || break
    event "\"what\": \"client-restart\", \"name\": \"$name\", \"n\": $((n + 1))" "client $name ended early: reconnecting"
    sleep 1
  done
}

# ---- setup ------------------------------------------------------------------------------------------------------------
say "results -> $OUT; load $(loadavg); $ncpu vCPU; $layout"
build
commit=$( (cd "$REFLEX_HOME" && git rev-parse --short HEAD 2>/dev/null) || cat "$REFLEX_HOME/COMMIT" 2>/dev/null || echo unknown)
[ -n "$OTHER" ] && taskset -pc "$OTHER" $$ >/dev/null   # this script and all it starts, unless pinned otherwise

source e2e/versions.env
[ -x "$REFLEX_CONTROLPLANE_BIN/kube-apiserver" ] || { say "building kube-apiserver + etcd (once per machine, ~5-9 min)"; e2e/bin/build-controlplane >"$OUT/build-controlplane.log" 2>&1 || die "e2e/bin/build-controlplane failed"; }

say "device: $DEVFILE (1 GiB, written with zeros through O_DIRECT so reads reach the disk)"
dd if=/dev/zero of="$DEVFILE" bs=1M count=1024 oflag=direct status=none

say "stand-in node $NODE at $ADDR (veth $LINK, network namespace $NETNS)"
ip link del "$LINK" 2>/dev/null || true; ip netns del "$NETNS" 2>/dev/null || true
netns_up=true
ip netns add "$NETNS"
ip link add "$LINK" type veth peer name "$LINK-p" netns "$NETNS"
ip addr add "$ADDR/24" dev "$LINK"
ip link set "$LINK" up
ip -n "$NETNS" addr add "${ADDR%.1}.2/24" dev "$LINK-p"
ip -n "$NETNS" link set "$LINK-p" up

say "control plane on 127.0.0.1:$REFLEX_APISERVER_PORT (state $REFLEX_CP_DIR)"
cp_up=true
e2e/controlplane up 2>"$OUT/controlplane.log" || { cat "$OUT/controlplane.log" >&2; die "control plane did not start"; }
eval "$(e2e/controlplane env)"
k apply --server-side -f crds/generated/ >/dev/null
k wait --for=condition=Established crd/flashtenants.reflex.io crd/flashdevices.reflex.io --timeout=60s >/dev/null

op_start
wait_operator 0
say "node agent: ${AGENT_CMD[*]}"
echo "${AGENT_CMD[*]}" >"$OUT/agent.cmd"
"${AGENT_CMD[@]}" >"$OUT/agent.log" 2>&1 &
pids[agent]=$!; echo $! >"$OUT/pids/agent.pid"
wait_until "agent ready" 120 agent -- curl -fs "http://$AGENT_HTTP/q/health/ready"
wait_until "FlashDevice of $NODE Ready" 60 agent -- \
  bash -c "[ \"\$(kubectl get fd -l reflex.io/node=$NODE -o jsonpath='{.items[*].status.phase}')\" = Ready ]"

eval "$($PY plan "devmodels/models/$MODEL.yaml" "$SLO" "$LC_SHARE" "$TOTAL_SHARE")"
say "$plan_text"
$PY tenants "$NS" "$NODE" "$lc_iops" "$SLO" "$CHURN_IOPS" | k apply --server-side --field-manager=reflex-soak -f - >/dev/null
wait_until "tenants Serving" 120 agent -- $PY serving "$NS" lc be-r be-w churn-s
secret() { k get secret "$1-reflex" -n "$NS" -o jsonpath="{.data.$2}" | base64 -d; }
declare -A port=() token=() lbas=()
for t in lc be-r be-w; do
  port[$t]=$(secret "$t" port); token[$t]=$(secret "$t" token); lbas[$t]=$(secret "$t" lbaCount)
  wait_until "tenant $t listening on $ADDR:${port[$t]}" 30 agent -- listening "$ADDR" "${port[$t]}"
done
placements_start=$($PY placements "$NS")
k get ft,fd -A -o wide >"$OUT/objects-start.txt" 2>&1 || true

# ---- the run ----------------------------------------------------------------------------------------------------------
if [ -n "${MAX_LOAD:-}" ]; then   # other people's work shares this machine: optionally wait for a calmer moment
  waited=0
  while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v m="$MAX_LOAD" 'BEGIN {exit !(l >= m)}'; do
    [ "$waited" -ge "${WAIT_MAX:-600}" ] && { say "load average still $(loadavg); starting anyway"; break; }
    [ $((waited % 60)) = 0 ] && say "waiting for load average < $MAX_LOAD (now $(loadavg))"
    sleep 5; waited=$((waited + 5))
  done
fi
load_start=$(loadavg)
$PY gcpoint "$OUT" t0 agent "${pids[agent]}" >&2
$PY gcpoint "$OUT" life-1-start operator "${pids[operator]}" >&2
TW=$(now)
T0=$(python3 -c "print(round($TW + $WARMUP + 1, 3))")     # the first WARMUP/WINDOW rows of each client: warm-up
END=$(python3 -c "print(round($T0 + $DURATION, 3))")
expected_restarts=$(( (DURATION - 1) / OPERATOR_RESTART ))
python3 - "$OUT/meta.json" <<EOF
import json, sys
json.dump({"stamp": "$stamp", "command": """$command""", "commit": "$commit", "reflex_home": "$REFLEX_HOME",
           "nproc": $ncpu, "layout": "$layout", "plan_text": """$plan_text""", "model": "$MODEL",
           "duration": $DURATION, "warmup": $WARMUP, "operator_restart": $OPERATOR_RESTART, "reload": $RELOAD, "window": $WINDOW,
           "slo": $SLO, "lc_share": $LC_SHARE, "total_share": $TOTAL_SHARE, "budget": $budget, "lc_iops": $lc_iops,
           "be_r_iops": $be_r_iops, "be_w_iops": $be_w_iops, "offered_pct": $offered_pct, "ns": "$NS",
           "t_warmup": $TW, "t0": $T0, "t_end": $END, "expected_restarts": $expected_restarts,
           "load_start": "$load_start", "placements_start": json.loads('''$placements_start''')},
          open(sys.argv[1], "w"), indent=1)
EOF
say "load for ${DURATION}s after a ${WARMUP}s warm-up: LC ${lc_iops} IOPS reads, BE ${be_r_iops} reads/s + ${be_w_iops} writes/s (open loop); load $(loadavg)"
rows=$(( (DURATION + WARMUP) / WINDOW ))
client_loop lc "${port[lc]}" "${token[lc]}" "${lbas[lc]}" "$lc_iops" 100 "$LC_PIN" "$DP_POLL" $rows "$LC_CPUS" &
pids[loop-lc]=$!
client_loop be-r "${port[be-r]}" "${token[be-r]}" "${lbas[be-r]}" "$be_r_iops" 100 "" block $rows &
pids[loop-be-r]=$!
client_loop be-w "${port[be-w]}" "${token[be-w]}" "${lbas[be-w]}" "$be_w_iops" 0 "" block $rows &
pids[loop-be-w]=$!
SOAK_NODE=$NODE SOAK_SLO=$SLO SOAK_CHURN_IOPS=$CHURN_IOPS $PY sample "$OUT" "http://$AGENT_HTTP/metrics" "http://127.0.0.1:$OP_PORT/q/metrics" $WINDOW \
  "$(python3 -c "print($END + $WINDOW)")" 2>"$OUT/sampler.err" &
pids[sampler]=$!
# The table changes start after the first window, so the warm-up covers their code paths too.
sleep "$(python3 -c "print(max(0, $TW + $WINDOW + 1 - $(now)))")"
SOAK_NODE=$NODE SOAK_SLO=$SLO SOAK_CHURN_IOPS=$CHURN_IOPS $PY reload "$OUT" "$NS" "http://$AGENT_HTTP/metrics" "$RELOAD" "$END" \
  2>"$OUT/reload.err" &
pids[reload]=$!
sleep "$(python3 -c "print(max(0, $T0 - $(now)))")"
event '"what": "t0"' "t0: measuring"

# The agent's live heap is measured by a forced full GC (a pause of the data path: 30-250 ms here) only three times:
# before the load, once mid-run halfway between two operator restarts (so the two disturbances never share a
# window), and after the load. The heap after every ordinary GC is sampled all along (perf counters).
MID=$(python3 -c "print(round($T0 + (int($DURATION / 2 // $OPERATOR_RESTART) + 0.5) * $OPERATOR_RESTART, 3))")
mid_done=false
agent_mid_gc() { # before time $1: the mid-run forced GC if it is due before then
  if ! $mid_done && python3 -c "import sys; sys.exit(0 if $MID < min($1, $END - $WINDOW) else 1)"; then
    sleep "$(python3 -c "print(max(0, $MID - $(now)))")"
    $PY gcpoint "$OUT" mid agent "${pids[agent]}" >&2 || true
    event '"what": "agent-forced-gc"' "mid-run forced GC of the agent"
    mid_done=true
  fi
}
i=0
while :; do
  i=$((i + 1))
  at=$(python3 -c "print($T0 + $i * $OPERATOR_RESTART)")
  python3 -c "import sys; sys.exit(0 if $at < $END - 1 else 1)" || break
  agent_mid_gc "$at"
  sleep "$(python3 -c "print(max(0, $at - $(now)))")"
  for n in lc be-r be-w; do kill -0 "${pids[loop-$n]}" 2>/dev/null || say "client loop $n is gone"; done
  kill -0 "${pids[agent]}" 2>/dev/null || die "the agent exited (see $OUT/agent.log)"
  # the operator's live heap (a full GC of the operator: the data path does not notice), then the restart
  $PY gcpoint "$OUT" "life-$op_life-end" operator "${pids[operator]}" >&2 || true
  p=${pids[operator]}
  if [ $((i % 2)) = 1 ]; then sig=TERM; else sig=KILL; fi
  t_kill=$(now)
  kill -$sig "$p"
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then say "operator ignored SIGTERM for 30 s: kill -9"; kill -KILL "$p"; fi
  code=0; wait "$p" 2>/dev/null || code=$?
  exit_after=$(python3 -c "print(round($(now) - $t_kill, 2))")
  event "\"what\": \"operator-kill\", \"n\": $i, \"signal\": \"SIG$sig\", \"life\": $op_life, \"exit_code\": $code, \"exit_after_s\": $exit_after" \
    "restart $i: SIG$sig to operator life $op_life; exited ($code) after ${exit_after}s"
  op_start
  wait_operator "$i"
done

agent_mid_gc "$END"
say "waiting for the end of the load (t_end in $(python3 -c "print(round($END - $(now)))") s)"
for n in lc be-r be-w; do wait "${pids[loop-$n]}" 2>/dev/null || true; unset "pids[loop-$n]"; done
wait "${pids[reload]}" 2>/dev/null || true; unset "pids[reload]"
wait "${pids[sampler]}" 2>/dev/null || true; unset "pids[sampler]"
$PY gcpoint "$OUT" end agent "${pids[agent]}" >&2 || true
$PY gcpoint "$OUT" "life-$op_life-end" operator "${pids[operator]}" >&2 || true
placements_end=$($PY placements "$NS")
ledger_end=$($PY ledger "$NS" 20 || echo '{}')
k get ft,fd -A -o wide >"$OUT/objects-end.txt" 2>&1 || true
curl -fs "http://$AGENT_HTTP/metrics" >"$OUT/agent-metrics-end.txt" || true
python3 - "$OUT/meta.json" "$(loadavg)" <<EOF
import json, sys
m = json.load(open(sys.argv[1]))
m["load_end"] = sys.argv[2]
m["placements_end"] = json.loads('''$placements_end''')
m["ledger_end"] = json.loads('''$ledger_end''')
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
grep -hE " (WARN|WARNING|ERROR|SEVERE) " "$OUT"/operator-*.log "$OUT/agent.log" 2>/dev/null | sed -E 's/^[0-9-]+ [0-9:,.]+ //' \
  | cut -c1-300 | sort | uniq -c | sort -rn >"$OUT/log-warnings.txt" || true
rc=0
$PY report "$OUT" || rc=$?
say "results in $OUT"
exit $rc

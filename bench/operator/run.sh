#!/usr/bin/env bash
# Operator scale benchmark: N FlashDevices, M FlashTenants against a real kube-apiserver (e2e/controlplane) and the
# operator as a local process; how long until every tenant is Placed or refused with a reason, reconciles/s,
# operator heap, API requests, CPU per process, and a no-overcommit check. See bench/operator/README.md.
#
#   bench/operator/run.sh                          # 1000 devices, 10000 tenants
#   DEVICES=100 TENANTS=1000 bench/operator/run.sh # small run
#   OPERATOR_OPTS="-Dquarkus.operator-sdk.concurrent-reconciliation-threads=16" bench/operator/run.sh
#
# Env: DEVICES (1000) TENANTS (10000) NAMESPACES (10) CHUNK (250 tenants per generated file) PAR (8 connections
#      creating tenants with plain POSTs)
#      NODE_ADDRESS (reflex.io/node-address of every device; default 198.18.x.y, see bench.py; 127.0.0.1 is refused
#      by EndpointSlice validation) PROFILE (1: JFR recording of the operator, top frames in profile.txt)
#      SEED (1) POLL (2 s) TIMEOUT (900 s) OPERATOR_OPTS (extra -D/-X flags) XMX (1g) TAG (suffix of the results dir)
#      BENCH_API_PORT (16543) BENCH_ETCD_PORT (12479) BENCH_ETCD_PEER_PORT (12480) BENCH_HTTP_PORT (18480)
# Results: bench/results/operator-<date>-d<DEVICES>-t<TENANTS>[-TAG]/ (summary.md/json, timeline.jsonl, logs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/operator
cd "$root"
source bin/lib/java-home.sh

DEVICES=${DEVICES:-1000} TENANTS=${TENANTS:-10000} NAMESPACES=${NAMESPACES:-10} CHUNK=${CHUNK:-250} PAR=${PAR:-8}
SEED=${SEED:-1} POLL=${POLL:-2} TIMEOUT=${TIMEOUT:-900} XMX=${XMX:-1g} OPERATOR_OPTS=${OPERATOR_OPTS:-}
HTTP_PORT=${BENCH_HTTP_PORT:-18480}
export REFLEX_APISERVER_PORT=${BENCH_API_PORT:-16543} REFLEX_ETCD_PORT=${BENCH_ETCD_PORT:-12479}
export REFLEX_ETCD_PEER_PORT=${BENCH_ETCD_PEER_PORT:-12480}
stamp=$(date +%Y%m%d-%H%M%S)
OUT=$root/bench/results/operator-$stamp-d$DEVICES-t$TENANTS${TAG:+-$TAG}
export REFLEX_CP_DIR=$OUT/controlplane
mkdir -p "$OUT"
PY="python3 $here/bench.py"
METRICS=http://127.0.0.1:$HTTP_PORT/q/metrics
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

op_pid="" poll_pid=""
cleanup() {
  local rc=$?
  set +e
  [ -n "$poll_pid" ] && kill "$poll_pid" 2>/dev/null
  if [ -n "$op_pid" ] && kill -0 "$op_pid" 2>/dev/null; then
    kill -TERM "$op_pid"
    for _ in $(seq 1 100); do kill -0 "$op_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$op_pid" 2>/dev/null && { say "operator ignored TERM; killing"; kill -KILL "$op_pid"; }
  fi
  # Keep the logs of the control plane; `down` deletes its state dir.
  [ -d "$REFLEX_CP_DIR/logs" ] && cp -r "$REFLEX_CP_DIR/logs" "$OUT/controlplane-logs" 2>/dev/null
  e2e/controlplane down >/dev/null 2>&1 || say "controlplane down failed (state in $REFLEX_CP_DIR)"
  rm -rf "$OUT/operator-app" "$OUT/tenants"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_of() { # utime+stime (s) of a PID
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# ---- control plane --------------------------------------------------------------------------------------------------
say "control plane on 127.0.0.1:$REFLEX_APISERVER_PORT (state $REFLEX_CP_DIR)"
e2e/controlplane up 2>"$OUT/controlplane-up.log" || { cat "$OUT/controlplane-up.log" >&2; exit 1; }
eval "$(e2e/controlplane env)"
kubectl apply --server-side -f crds/generated/ >/dev/null
kubectl wait --for=condition=Established crd/flashtenants.reflex.io crd/flashdevices.reflex.io --timeout=60s >/dev/null
for i in $(seq 0 $((NAMESPACES - 1))); do echo "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench-$i\"}}"; done \
  | kubectl apply --server-side -f - >/dev/null

# ---- objects --------------------------------------------------------------------------------------------------------
$PY gen "$OUT" "$DEVICES" "$TENANTS" "$NAMESPACES" "$CHUNK" "$SEED" "${NODE_ADDRESS:-}"
say "creating $DEVICES FlashDevices (Ready, 1 TiB, node-address annotation)"
kubectl apply --server-side --field-manager=reflex-bench -f "$OUT/devices.yaml" >/dev/null
kubectl apply --server-side --field-manager=reflex-bench-agent --subresource=status -f "$OUT/devices-status.yaml" >/dev/null

# ---- operator -------------------------------------------------------------------------------------------------------
jar=$root/operator/target/quarkus-app/quarkus-run.jar
if [ ! -f "$jar" ]; then
  say "building the operator fast-jar"
  ./mvnw -B -ntp -q -pl operator -am package -DskipTests >&2
fi
# Run a copy: someone rebuilding operator/target meanwhile must not swap the jar under the running JVM.
cp -r "$root/operator/target/quarkus-app" "$OUT/operator-app"
[ -n "${PROFILE:-}" ] && OPERATOR_OPTS="$OPERATOR_OPTS -XX:StartFlightRecording=filename=$OUT/operator.jfr,settings=profile,dumponexit=true"
op_cmd="$JAVA_HOME/bin/java -Xmx$XMX -Dquarkus.http.port=$HTTP_PORT $OPERATOR_OPTS -jar operator-app/quarkus-run.jar"
say "operator: $op_cmd"
(cd "$OUT" && exec $op_cmd >"$OUT/operator.log" 2>&1) &
op_pid=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/q/health/ready" >/dev/null && break
  kill -0 "$op_pid" 2>/dev/null || { tail -30 "$OUT/operator.log" >&2; say "operator exited"; exit 1; }
  sleep 0.5
done
# Wait until the ledger holds every device and the device reconciles have settled (no tenant exists yet).
prev=-1
for _ in $(seq 1 300); do
  s=$($PY scrape "$METRICS")
  n=$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); print(int(m.get("reflex_operator_ledger_devices",0)), int(m.get("reflex_operator_reconcile_seconds_count:flashdevice",0)))' "$s")
  set -- $n
  [ "$1" -ge "$DEVICES" ] && [ "$2" = "$prev" ] && break
  prev=$2; sleep 1
done
say "operator ready: ledger devices=$1, device reconciles=$2"

# ---- the measured part ----------------------------------------------------------------------------------------------
$PY scrape "$METRICS" >"$OUT/metrics-before.json"
$PY apireq >"$OUT/apiserver-before.json"
cpu0=("$(cpu_of "$op_pid")" "$(cpu_of "$(cat "$REFLEX_CP_DIR/kube-apiserver.pid")")" "$(cpu_of "$(cat "$REFLEX_CP_DIR/etcd.pid")")")
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
$PY poll "$OUT" "$TENANTS" "$OUT/t0" "$METRICS" "$POLL" "$TIMEOUT" &
poll_pid=$!
say "creating $TENANTS FlashTenants in $NAMESPACES namespaces (plain POSTs over $PAR connections)"
t0=$(date +%s.%N); echo "$t0" >"$OUT/t0"
$PY create "$OUT" "$PAR" >"$OUT/create.log" 2>&1 || { say "tenant create failed:"; tail "$OUT/create.log" >&2; }
t1=$(date +%s.%N)
say "created in $(python3 -c "print(round($t1 - $t0, 1))") s; waiting for every tenant to have a phase"
poll_rc=0; wait "$poll_pid" || poll_rc=$?; poll_pid=""
cpu1=("$(cpu_of "$op_pid")" "$(cpu_of "$(cat "$REFLEX_CP_DIR/kube-apiserver.pid")")" "$(cpu_of "$(cat "$REFLEX_CP_DIR/etcd.pid")")")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
# Let trailing reconciles (device status, re-reconciles) drain before the after-snapshot and the check: until the
# reconcile counters stay put for 4 s (at most 60 s).
settle0=$(date +%s); prev=""
for _ in $(seq 1 30); do
  cur=$($PY scrape "$METRICS" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m.get("reflex_operator_reconcile_seconds_count:flashtenant"), m.get("reflex_operator_reconcile_seconds_count:flashdevice"))')
  [ "$cur" = "$prev" ] && break
  prev=$cur; sleep 4
done
settle=$(( $(date +%s) - settle0 ))
$PY scrape "$METRICS" >"$OUT/metrics-after.json"
$PY apireq >"$OUT/apiserver-after.json"
jcmd "$op_pid" GC.heap_info >"$OUT/heap-info.txt" 2>&1 || true
python3 - "$OUT" "${cpu0[@]}" "${cpu1[@]}" <<'EOF'
import json, sys
o, a = sys.argv[1], [float(x) for x in sys.argv[2:]]
json.dump({"operator": a[3] - a[0], "kube-apiserver": a[4] - a[1], "etcd": a[5] - a[2]}, open(f"{o}/cpu.json", "w"))
EOF
export BENCH_COMMAND="DEVICES=$DEVICES TENANTS=$TENANTS NAMESPACES=$NAMESPACES CHUNK=$CHUNK PAR=$PAR SEED=$SEED XMX=$XMX OPERATOR_OPTS='$OPERATOR_OPTS' bench/operator/run.sh"
export BENCH_OPERATOR_CMD="$op_cmd"
python3 - "$OUT" <<EOF
import json, sys
json.dump({"date": "$stamp", "devices": $DEVICES, "tenants": $TENANTS, "namespaces": $NAMESPACES, "chunk": $CHUNK,
  "par": $PAR, "create_seconds": $t1 - $t0, "xmx": "$XMX", "load_start": "$load_start", "load_end": "$load_end",
  "machine": "$(nproc) vCPU, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)",
  "commit": "$(git rev-parse --short HEAD)", "operator_dirty": "$(git status --porcelain operator/src | wc -l) files",
  "jar_mtime": "$(date -r "$jar" '+%F %T')", "settle_seconds": $settle,
  "reconcile_errors": $(grep -c 'Uncaught error during event processing' "$OUT/operator.log" || true),
  "command": __import__("os").environ["BENCH_COMMAND"],
  "operator_cmd": __import__("os").environ["BENCH_OPERATOR_CMD"]}, open("$OUT/meta.json", "w"), indent=1)
EOF
verify_rc=0; $PY verify "$OUT" || verify_rc=$?
$PY summary "$OUT"
if [ -n "${PROFILE:-}" ]; then
  jcmd "$op_pid" JFR.dump filename="$OUT/operator.jfr" >/dev/null 2>&1 || true
  # Top frames of the operator's CPU samples (own code and libraries), over the whole recording.
  jfr print --events jdk.ExecutionSample --stack-depth 64 "$OUT/operator.jfr" >"$OUT/samples.txt" 2>/dev/null || true
  $PY profile "$OUT/samples.txt" >"$OUT/profile.txt"; rm -f "$OUT/samples.txt"
  say "operator CPU profile (top frames): $OUT/profile.txt"; head -45 "$OUT/profile.txt" >&2
fi
say "results in $OUT"
[ "$poll_rc" = 0 ] || say "not every tenant got a phase within ${TIMEOUT}s"
[ "$verify_rc" = 0 ] || say "OVERCOMMIT/consistency violations: see $OUT/verify.json"
exit $(( poll_rc != 0 || verify_rc != 0 ))

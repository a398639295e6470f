#!/usr/bin/env bash
# Node agent benchmarks (see bench/agent/README.md):
#
#   bench/agent/run.sh [overhead|apply|all]       (default: all)
#
#   overhead  the agent adds nothing to the data path: QD1 p50 and QD32 IOPS of 4 KiB random reads through an
#             agent-run tenant vs a standalone reflex-dataplane on the same 1 GiB file, A/B interleaved, same pinning
#   apply     time from a server-side apply to phase Serving for 100 BE tenants; the agent's RSS before and after
#
# Environment (defaults):
#   DURATION=10 REPS=3      overhead: measured seconds per client run; A/B repetitions (medians reported)
#   TENANTS=100             apply: tenants to create
#   TENANT_SIZE=16Mi        apply: capacity of each tenant
#   APPLY_DEVICES=2         apply: device files on the agent (each serves at most DataplaneConfig.MAX_TENANTS = 64)
#   APPLY_DEV_SIZE=1G       apply: size of each sparse device file (truncate)
#   APPLY_GAP=0             apply: seconds between two applies (0: back to back, one request at a time)
#   APPLY_TIMEOUT=300       apply: seconds to wait for every tenant to be Serving
#   MAX_LOAD=, WAIT_MAX=600 wait (at most WAIT_MAX s) for the 1-minute load average to drop below MAX_LOAD
# Own resources (so it runs next to bin/reflex-demo and the tests): control plane in /var/tmp/reflex-bench-agent/cp
# on ports 18443/18379/18380, network namespace rfx-bench-a with the stand-in node address 10.213.201.1 (veth
# rfxba), operator HTTP 18081, agent HTTP 10.213.201.1:19501, standalone dataplane 10.213.201.1:11240.
# Results: bench/results/agent-<UTC date>/ (overhead-summary.md, apply-summary.json, raw JSON, logs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
source bin/lib/java-home.sh

WHAT=${1:-all}
case $WHAT in overhead|apply|all) ;; *) echo "usage: bench/agent/run.sh [overhead|apply|all]" >&2; exit 2 ;; esac
DURATION=${DURATION:-10} REPS=${REPS:-3}
TENANTS=${TENANTS:-100} TENANT_SIZE=${TENANT_SIZE:-16Mi} APPLY_DEVICES=${APPLY_DEVICES:-2} APPLY_DEV_SIZE=${APPLY_DEV_SIZE:-1G}
APPLY_GAP=${APPLY_GAP:-0} APPLY_TIMEOUT=${APPLY_TIMEOUT:-300}
WORK=/var/tmp/reflex-bench-agent
export REFLEX_CP_DIR=$WORK/cp REFLEX_APISERVER_PORT=18443 REFLEX_ETCD_PORT=18379 REFLEX_ETCD_PEER_PORT=18380
ADDR=10.213.201.1 NETNS=rfx-bench-a LINK=rfxba
OP_PORT=18081 AGENT_HTTP=$ADDR:19501 SA_PORT=11240
NS=bench-agent
LAST=$(( $(nproc) - 1 ))
DEV=$WORK/dev1g.img
stamp=$(date -u +%Y%m%d-%H%M%S)
OUT=$root/bench/results/agent-$stamp${TAG:+-$TAG}
RUN=$WORK/run            # copies of the jars: a rebuild of this tree meanwhile must not swap them under us
mkdir -p "$OUT" "$RUN"
PY="python3 $here/bench.py"
AGENT_JAVA="$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED -XX:+UseParallelGC"
AGENT="$AGENT_JAVA -jar $RUN/agent-app/quarkus-run.jar"                 # = bin/reflex-node-agent
DATAPLANE="$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xss512k -jar $RUN/dataplane/reflex-dataplane.jar"  # = bin/reflex-dataplane
BENCH="$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar $RUN/client/reflex-client.jar"  # = bin/reflex-bench
OPERATOR="$JAVA_HOME/bin/java -Dquarkus.http.port=$OP_PORT -jar $RUN/operator-app/quarkus-run.jar"  # = bin/reflex-operator

say() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
k() { kubectl "$@"; }

# ---- processes we start: name -> pid; stopped (by pid) on exit -----------------------------------------------------
declare -A pids=()
cp_up=false
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
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  stop 5 standalone
  stop 30 agent
  stop 20 operator
  if $cp_up; then
    cp -r "$REFLEX_CP_DIR/logs" "$OUT/controlplane-logs" 2>/dev/null
    e2e/controlplane down >>"$OUT/controlplane.log" 2>&1 || say "controlplane down failed (state in $REFLEX_CP_DIR)"
  fi
  ip link del "$LINK" 2>/dev/null; ip netns del "$NETNS" 2>/dev/null
  rm -rf "$WORK/state-a" "$WORK/state-b" "$WORK"/apply-*.img
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_until() { # wait_until WHAT TIMEOUT PIDNAME -- CMD...: poll CMD every 0.1 s
  local what=$1 timeout=$2 pname=$3; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pname" ] && ! kill -0 "${pids[$pname]:-0}" 2>/dev/null; then die "$what: $pname exited (see $OUT/$pname*.log)"; fi
    [ $SECONDS -ge $deadline ] && die "$what: not within ${timeout}s"
    sleep 0.1
  done
}
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- setup ------------------------------------------------------------------------------------------------------------
build() {
  source bin/lib/stale.sh
  local mods=()
  reflex_stale operator/target/quarkus-app/quarkus-run.jar devmodels crds operator && mods+=(operator)
  reflex_stale node-agent/target/quarkus-app/quarkus-run.jar protocol devmodels dataplane crds node-agent && mods+=(node-agent)
  reflex_stale dataplane/target/reflex-dataplane.jar protocol devmodels dataplane && mods+=(dataplane)
  reflex_stale client/target/reflex-client.jar protocol client && mods+=(client)
  if [ ${#mods[@]} -gt 0 ]; then
    say "building ${mods[*]}"
    ./mvnw -B -ntp -q -pl "$(IFS=,; echo "${mods[*]}")" -am package -DskipTests >"$OUT/build.log" 2>&1 \
      || { tail -40 "$OUT/build.log" >&2; die "build failed"; }
    touch operator/target/quarkus-app/quarkus-run.jar node-agent/target/quarkus-app/quarkus-run.jar \
      dataplane/target/reflex-dataplane.jar client/target/reflex-client.jar
  fi
  rm -rf "$RUN"; mkdir -p "$RUN"
  cp -r operator/target/quarkus-app "$RUN/operator-app"
  cp -r node-agent/target/quarkus-app "$RUN/agent-app"
  mkdir -p "$RUN/dataplane" "$RUN/client"
  cp -r dataplane/target/reflex-dataplane.jar dataplane/target/lib "$RUN/dataplane/"
  cp -r client/target/reflex-client.jar client/target/lib "$RUN/client/"
}

setup_cluster() {
  say "control plane on 127.0.0.1:$REFLEX_APISERVER_PORT (state $REFLEX_CP_DIR)"
  e2e/controlplane down >/dev/null 2>&1 || true        # leftovers of a killed run (it stops only its own PIDs)
  cp_up=true
  e2e/controlplane up 2>"$OUT/controlplane.log" || { cat "$OUT/controlplane.log" >&2; die "control plane did not start"; }
  eval "$(e2e/controlplane env)"
  k apply --server-side -f crds/generated/ >/dev/null
  k wait --for=condition=Established crd/flashtenants.reflex.io crd/flashdevices.reflex.io --timeout=60s >/dev/null
  k create namespace "$NS" >/dev/null
  say "operator: $OPERATOR"
  (cd "$RUN" && exec $OPERATOR >"$OUT/operator.log" 2>&1) &
  pids[operator]=$!
  wait_until "operator ready" 120 operator -- curl -fs "http://127.0.0.1:$OP_PORT/q/health/ready"
  # the stand-in node's address (EndpointSlices refuse loopback): a veth pair, far end in a network namespace
  ip link del "$LINK" 2>/dev/null || true; ip netns del "$NETNS" 2>/dev/null || true
  ip netns add "$NETNS"
  ip link add "$LINK" type veth peer name "$LINK-p" netns "$NETNS"
  ip addr add "$ADDR/24" dev "$LINK"
  ip link set "$LINK" up
  ip -n "$NETNS" addr add "${ADDR%.1}.2/24" dev "$LINK-p"
  ip -n "$NETNS" link set "$LINK-p" up
}

start_agent() { # start_agent LOG PIN ARGS...
  local logf=$1 pin=$2; shift 2
  local cmd="$pin $AGENT --address $ADDR --http $AGENT_HTTP $*"
  echo "$(date -u +%T) $cmd" >>"$OUT/commands.txt"
  # shellcheck disable=SC2086
  $cmd >>"$logf" 2>&1 &
  pids[agent]=$!
  wait_until "agent ready" 120 agent -- curl -fs "http://$AGENT_HTTP/q/health/ready"
}

fd_ready() { # fd_ready NODE COUNT: COUNT FlashDevices of NODE Ready (agent) with a Budgeted condition (operator)
  [ "$(k get fd -l "reflex.io/node=$1" -o json | python3 -c 'import json,sys; print(sum(1 for d in json.load(sys.stdin)["items"] if (d.get("status") or {}).get("phase") == "Ready" and any(c["type"] == "Budgeted" for c in (d.get("status") or {}).get("conditions") or [])))')" = "$2" ]
}
phase_is() { [ "$($PY tenant "$NS" "$1" | cut -d' ' -f1)" = "$2" ]; }

wait_quiet() {
  [ -n "${MAX_LOAD:-}" ] || return 0
  local waited=0
  while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v m="$MAX_LOAD" 'BEGIN {exit !(l >= m)}'; do
    [ "$waited" -ge "${WAIT_MAX:-600}" ] && { say "load average still $(loadavg); measuring anyway"; return 0; }
    [ $((waited % 60)) -eq 0 ] && say "waiting for load average < $MAX_LOAD (now $(loadavg))"
    sleep 5; waited=$((waited + 5))
  done
}

# ---- 1. overhead ----------------------------------------------------------------------------------------------------
client() { # client SETUP REP BENCH QD TARGET AUTH...
  local setup=$1 rep=$2 b=$3 qd=$4 target=$5; shift 5
  local f=$OUT/$b-$setup-$rep.json t0
  local cmd="taskset -c $LAST $BENCH --server $target $* --mode closed --qd $qd --duration $DURATION --warmup 1 --lba-range $LBAS --poll yield --json $f"
  t0=$($PY ticks)
  # shellcheck disable=SC2086
  $cmd >"$OUT/$b-$setup-$rep.txt" 2>&1 || { cat "$OUT/$b-$setup-$rep.txt" >&2; die "client failed: $cmd"; }
  $PY record "$OUT" "$b" "$setup" "$rep" "$f" "$t0" "$cmd" >&2
}

warm() { # warm TARGET AUTH...: 2 s unmeasured QD8 so both JITs are warm (as bench/run-dataplane.sh does)
  local target=$1; shift
  # shellcheck disable=SC2086
  taskset -c $LAST $BENCH --server "$target" "$@" --mode closed --qd 8 --duration 2 --warmup 0 --lba-range "$LBAS" --poll yield >/dev/null 2>&1
}

overhead() {
  [ -f "$DEV.filled" ] && [ "$(stat -c %s "$DEV")" = $((1 << 30)) ] || {
    say "writing $DEV: 1 GiB of random data, dd oflag=direct (a sparse file would read holes without the disk)"
    dd if=/dev/urandom of="$DEV" bs=1M count=1024 oflag=direct status=none; date -Is >"$DEV.filled"; }
  local node=bench-a tenant=bench-be
  local agent_args="--node $node --device $DEV,engine=uring,model=null --state-dir $WORK/state-a --poll yield"
  rm -rf "$WORK/state-a"
  say "overhead: first agent start publishes the device; tenant $tenant (BE, 900Mi) placed on it"
  start_agent "$OUT/agent-overhead.log" "taskset -c $LAST" $agent_args
  wait_until "FlashDevice of $node Ready" 60 agent -- fd_ready $node 1
  k apply --server-side --field-manager=reflex-bench -f - >/dev/null <<EOF
apiVersion: reflex.io/v1alpha1
kind: FlashTenant
metadata: {name: $tenant, namespace: $NS}
spec:
  class: BE
  capacity: 900Mi
  placement: {deviceSelector: {matchLabels: {reflex.io/node: $node}}}
EOF
  wait_until "tenant $tenant Serving" 60 agent -- phase_is $tenant Serving
  read -r PORT TOKEN LBAS < <($PY secret "$NS" "$tenant")
  read -r _ _ device _ lba_off < <($PY tenant "$NS" "$tenant")
  say "tenant $tenant: $ADDR:$PORT, device $device, lbaOffset $lba_off, lbaCount $LBAS (both setups read LBAs [0, $LBAS) of their tenant)"
  stop 30 agent
  local sa_cmd="taskset -c $LAST $DATAPLANE --device $DEV --engine uring --listen $ADDR:$SA_PORT --model null --admin none --poll yield"
  cat >>"$OUT/commands.txt" <<EOF
standalone server: $sa_cmd
agent:             taskset -c $LAST $AGENT --address $ADDR --http $AGENT_HTTP $agent_args
EOF
  wait_quiet
  local ticks0; ticks0=$($PY ticks)
  echo "{\"start\": \"$(date -u -Is)\", \"load_start\": \"$(loadavg)\", \"ticks_start\": $ticks0, \"duration\": $DURATION, \"reps\": $REPS}" >"$OUT/overhead-meta.json"
  for rep in $(seq 1 "$REPS"); do
    say "rep $rep/$REPS: A standalone reflex-dataplane on $ADDR:$SA_PORT (load $(loadavg))"
    echo "$(date -u +%T) $sa_cmd" >>"$OUT/commands.txt"
    # shellcheck disable=SC2086
    $sa_cmd >>"$OUT/standalone.log" 2>&1 &
    pids[standalone]=$!
    wait_until "standalone listening" 60 standalone -- listening $ADDR $SA_PORT
    # --extended: the same protocol (HELLO, statuses) the agent's tenant speaks with its token
    warm $ADDR:$SA_PORT --extended
    client standalone "$rep" qd1 1 $ADDR:$SA_PORT --extended
    client standalone "$rep" qd32 32 $ADDR:$SA_PORT --extended
    stop 10 standalone

    say "rep $rep/$REPS: B agent-run tenant on $ADDR:$PORT (load $(loadavg))"
    start_agent "$OUT/agent-overhead.log" "taskset -c $LAST" $agent_args
    wait_until "tenant $tenant listening" 60 agent -- listening $ADDR "$PORT"
    warm $ADDR:"$PORT" --token "$TOKEN"
    client agent "$rep" qd1 1 $ADDR:"$PORT" --token "$TOKEN"
    client agent "$rep" qd32 32 $ADDR:"$PORT" --token "$TOKEN"
    stop 30 agent
  done
  python3 - "$OUT/overhead-meta.json" "$(loadavg)" "$($PY ticks)" "$ticks0" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1])); t0, t1 = m["ticks_start"], json.loads(sys.argv[3])
m.update(end=__import__("datetime").datetime.now(__import__("datetime").timezone.utc).isoformat(timespec="seconds"),
         load_end=sys.argv[2], steal_pct=100.0 * (t1[0] - t0[0]) / max(1, t1[1] - t0[1]))
json.dump(m, open(sys.argv[1], "w"))
print(f"overhead: {m['start']} .. {m['end']} UTC, load {m['load_start']} -> {m['load_end']}, host steal {m['steal_pct']:.1f}% of vCPU time")
EOF
  $PY overhead "$OUT"
  echo "reproduce: DURATION=$DURATION REPS=$REPS bench/agent/run.sh overhead"
  echo "  A server: $sa_cmd"
  echo "  B server: taskset -c $LAST $AGENT --address $ADDR --http $AGENT_HTTP $agent_args"
  echo "  client:   taskset -c $LAST $BENCH --server ADDR:PORT {--extended | --token TOKEN} --mode closed --qd {1|32} --duration $DURATION --warmup 1 --lba-range $LBAS --poll yield"
  # leave nothing of this benchmark behind for the next one
  k delete ft -n "$NS" "$tenant" --wait=false >/dev/null 2>&1 || true
  k delete fd -l "reflex.io/node=$node" --wait=false >/dev/null 2>&1 || true
}

# ---- 2. apply -> Serving --------------------------------------------------------------------------------------------
apply_bench() {
  local node=bench-b devs="" i
  rm -rf "$WORK/state-b"
  for i in $(seq 0 $((APPLY_DEVICES - 1))); do
    rm -f "$WORK/apply-$i.img"; truncate -s "$APPLY_DEV_SIZE" "$WORK/apply-$i.img"
    devs="$devs --device $WORK/apply-$i.img,engine=uring,model=sample"
  done
  local agent_args="--node $node$devs --state-dir $WORK/state-b"
  say "apply: agent $node with $APPLY_DEVICES device(s) of $APPLY_DEV_SIZE (sparse), default --poll adaptive, unpinned"
  start_agent "$OUT/agent-apply.log" "" $agent_args
  wait_until "$APPLY_DEVICES FlashDevice(s) of $node Ready" 60 agent -- fd_ready $node "$APPLY_DEVICES"
  sleep 5   # let the agent settle after start-up (JIT, first passes) before the RSS sample
  local apid=${pids[agent]} rss0 rss1 cpu0 cpu1 hz; hz=$(getconf CLK_TCK)
  rss0=$(rss_kb "$apid"); cpu0=$(awk '{print $14 + $15}' "/proc/$apid/stat")
  wait_quiet
  local ticks0 load0; ticks0=$($PY ticks); load0=$(loadavg)
  say "apply: $TENANTS BE tenants of $TENANT_SIZE, server-side apply one at a time (gap ${APPLY_GAP}s); agent RSS $((rss0 / 1024)) MiB"
  local rc=0
  $PY apply "$OUT" "$NS" t "$TENANTS" "$node" "$TENANT_SIZE" "$APPLY_GAP" "$APPLY_TIMEOUT" >"$OUT/apply-out.json" || rc=$?
  local ticks1 load1; ticks1=$($PY ticks); load1=$(loadavg)
  sleep 5   # then sample RSS with every tenant served
  rss1=$(rss_kb "$apid"); cpu1=$(awk '{print $14 + $15}' "/proc/$apid/stat")
  local open=0 p
  for p in $(k get ft -n "$NS" -o jsonpath='{range .items[*]}{.status.placement.port}{"\n"}{end}'); do listening $ADDR "$p" && open=$((open + 1)); done
  k get ft -n "$NS" -o wide >"$OUT/tenants.txt" 2>&1
  k get fd -o wide >"$OUT/devices.txt" 2>&1
  k get ft -n "$NS" -o json >"$OUT/tenants.json"
  curl -fs "http://$AGENT_HTTP/metrics" >"$OUT/agent-metrics.txt" || true
  curl -fs "http://127.0.0.1:$OP_PORT/q/metrics" >"$OUT/operator-metrics.txt" || true
  local oprss; oprss=$(rss_kb "${pids[operator]}")
  cat >>"$OUT/commands.txt" <<EOF
agent (apply): $AGENT --address $ADDR --http $AGENT_HTTP $agent_args
EOF
  python3 - "$OUT" "$rss0" "$rss1" "$(( cpu1 - cpu0 ))" "$hz" "$open" "$ticks0" "$ticks1" "$load0" "$load1" "$oprss" <<'EOF'
import collections, json, re, sys
out, rss0, rss1, dcpu, hz, opened, t0, t1, l0, l1, oprss = sys.argv[1:]
s = json.load(open(f"{out}/apply-summary.json"))
t0, t1 = json.loads(t0), json.loads(t1)
ts = json.load(open(f"{out}/tenants.json"))["items"]
per_dev = collections.Counter(((t.get("status") or {}).get("placement") or {}).get("device", "-") for t in ts)
not_serving = {t["metadata"]["name"]: [f"{c['type']}={c['status']} {c.get('reason')}: {c.get('message')}"
               for c in (t.get("status") or {}).get("conditions", []) if c["type"] == "Serving"]
               for t in ts if (t.get("status") or {}).get("phase") != "Serving"}
m = open(f"{out}/agent-metrics.txt").read() if __import__("os").path.exists(f"{out}/agent-metrics.txt") else ""
def metric(name):
    x = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)", m, re.M)
    return float(x.group(1)) if x else None
s.update(rss_before_mib=int(rss0) / 1024, rss_after_mib=int(rss1) / 1024, agent_cpu_s=int(dcpu) / int(hz),
         ports_listening=int(opened), tenants_per_device=dict(per_dev), not_serving_conditions=not_serving,
         steal_pct=100.0 * (t1[0] - t0[0]) / max(1, t1[1] - t0[1]), load_start=l0, load_end=l1,
         operator_rss_mib=int(oprss) / 1024,
         agent_metric_time_to_serving={"count": metric("reflex_agent_tenant_time_to_serving_seconds_count"),
                                       "sum": metric("reflex_agent_tenant_time_to_serving_seconds_sum"),
                                       "max": metric("reflex_agent_tenant_time_to_serving_seconds_max")},
         agent_tenants_serving=metric("reflex_agent_tenants_serving"),
         agent_tenants_not_serving=metric("reflex_agent_tenants_not_serving"))
json.dump(s, open(f"{out}/apply-summary.json", "w"), indent=1)
f = lambda x: "-" if x is None else f"{x:.3f}"
print(f"apply -> Serving over {s['tenants']} tenants ({s['serving']} Serving; gap {s['gap_s']} s; applies took "
      f"{s['apply_seconds']:.1f} s): p50 {f(s['to_serving_s']['p50'])} s, p99 {f(s['to_serving_s']['p99'])} s, "
      f"max {f(s['to_serving_s']['max'])} s (goal p99 <= 2 s: {'met' if s['to_serving_s']['p99'] is not None and s['serving'] == s['tenants'] and s['to_serving_s']['p99'] <= 2 else 'missed'})")
print(f"  apply -> Placed (operator): p50 {f(s['to_placed_s']['p50'])} s, p99 {f(s['to_placed_s']['p99'])} s; "
      f"Placed -> Serving (agent): p50 {f(s['placed_to_serving_s']['p50'])} s, p99 {f(s['placed_to_serving_s']['p99'])} s; "
      f"apply call p50 {f(s['apply_call_s']['p50'])} s")
print(f"  agent RSS {s['rss_before_mib']:.0f} MiB before, {s['rss_after_mib']:.0f} MiB with the tenants; agent CPU "
      f"{s['agent_cpu_s']:.1f} s; operator RSS {s['operator_rss_mib']:.0f} MiB; ports listening {opened}; per device {dict(per_dev)}")
print(f"  load {l0} -> {l1}, host steal {s['steal_pct']:.1f}%")
if not_serving:
    print(f"  NOT Serving ({len(not_serving)}): " + "; ".join(f"{k}: {v}" for k, v in list(not_serving.items())[:5]))
EOF
  echo "reproduce: TENANTS=$TENANTS TENANT_SIZE=$TENANT_SIZE APPLY_DEVICES=$APPLY_DEVICES APPLY_DEV_SIZE=$APPLY_DEV_SIZE APPLY_GAP=$APPLY_GAP bench/agent/run.sh apply"
  echo "  agent: $AGENT --address $ADDR --http $AGENT_HTTP $agent_args"
  echo "  tenants: bench/agent/bench.py apply OUT $NS t $TENANTS $node $TENANT_SIZE $APPLY_GAP $APPLY_TIMEOUT (server-side apply PATCH per tenant = kubectl apply --server-side)"
  return $rc
}

# ---- main -------------------------------------------------------------------------------------------------------------
say "results -> $OUT; load $(loadavg); $(nproc) vCPU; commit $(git rev-parse --short HEAD) ($(git status --porcelain | wc -l) changed files in the tree)"
build
setup_cluster
rc=0
if [ "$WHAT" = overhead ] || [ "$WHAT" = all ]; then overhead; fi
if [ "$WHAT" = apply ] || [ "$WHAT" = all ]; then apply_bench || rc=$?; fi
say "results in $OUT (commands: $OUT/commands.txt)"
exit $rc

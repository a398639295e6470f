#!/usr/bin/env bash
# Operator scale benchmark: N FlashDevices on kwok-simulated Nodes, M FlashTenants against a real kube-apiserver
# (e2e/controlplane) and the operator as a local process; how long until every tenant is Placed or refused with a
# reason, the API requests per tenant, operator CPU and heap, the time to Exposed of one probe tenant created in
# the middle of the burst, a no-overcommit check -- and the API server's own floor for the same requests (replayed
# without the operator on a fresh control plane), and the ratio of the two. See bench/operator/README.md.
#
#   bench/operator/run.sh                                   # 1000 kwok nodes x 1 device, 10000 tenants, then the floor
#   DEVICES=100 TENANTS=1000 bench/operator/run.sh          # small run
#   FLOOR=0 bench/operator/run.sh                           # the operator run only
#   FLOOR=only bench/operator/run.sh                        # the floor only (REPLAY=.../replay.json, else synthetic)
#   KWOK=0 bench/operator/run.sh                            # no kwok: Node-less devices with a node-address annotation
#   OPERATOR_OPTS="-Dquarkus.operator-sdk.concurrent-reconciliation-threads=16" bench/operator/run.sh
#
# Env: DEVICES (1000) TENANTS (10000) NAMESPACES (10) CHUNK (250 tenants per generated file) PAR (8 connections
#      creating tenants with plain POSTs)
#      KWOK (1: one kwok Node per DEVICES_PER_NODE devices, InternalIP in 198.18.0.0/15, Leases renewed by kwok every
#      10 s as kubelets do (KWOK_LEASE_SECONDS 40); 0: no Nodes, the devices carry reflex.io/node-address)
#      KWOK_LEASE_PARALLELISM (32 Lease renewals in flight; kwok's default 4 cannot keep up on a busy machine)
#      DEVICES_PER_NODE (1 with kwok, 2 without)
#      FLOOR (1: the operator run, then the floor on a fresh control plane; 0: no floor; only: the floor alone)
#      FLOOR_THREADS (8: the operator's reconciler threads) FLOOR_WATCH (1: the operator's watches open during the
#      floor) REPLAY (FLOOR=only: replay.json of an earlier run; else synthetic bodies with FLOOR_VERBS)
#      PROBE (1: a probe tenant created after TENANTS/2 creates; create -> Placed / Exposed reported)
#      BASELINE (15 s: idle window before the creates; background request and CPU rates, e.g. kwok's leases)
#      NODE_ADDRESS (every node's address; default 198.18.x.y, see bench.py; 127.0.0.1 is refused by EndpointSlice
#      validation) PROFILE (1: JFR recording of the operator, top frames in profile.txt)
#      SEED (1) POLL (2 s) TIMEOUT (900 s) OPERATOR_OPTS (extra -D/-X flags) XMX (1g) TAG (suffix of the results dir)
#      BENCH_API_PORT (16543) BENCH_ETCD_PORT (12479) BENCH_ETCD_PEER_PORT (12480) BENCH_HTTP_PORT (18480)
# Results: bench/results/operator-<date>-d<DEVICES>-t<TENANTS>[-TAG]/ (summary.md/json, timeline.jsonl, logs;
# floor/ for the floor run). Wrap large runs in `flock /tmp/reflex-opbench.lock` so that two never overlap.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/operator
cd "$root"
source bin/lib/java-home.sh

DEVICES=${DEVICES:-1000} TENANTS=${TENANTS:-10000} NAMESPACES=${NAMESPACES:-10} CHUNK=${CHUNK:-250} PAR=${PAR:-8}
SEED=${SEED:-1} POLL=${POLL:-2} TIMEOUT=${TIMEOUT:-900} XMX=${XMX:-1g} OPERATOR_OPTS=${OPERATOR_OPTS:-}
KWOK=${KWOK:-1} FLOOR=${FLOOR:-1} PROBE=${PROBE:-1} BASELINE=${BASELINE:-15}
FLOOR_THREADS=${FLOOR_THREADS:-8} FLOOR_WATCH=${FLOOR_WATCH:-1} REPLAY=${REPLAY:-} KWOK_LEASE_SECONDS=${KWOK_LEASE_SECONDS:-40}
KWOK_LEASE_PARALLELISM=${KWOK_LEASE_PARALLELISM:-32}
if [ "$KWOK" = 1 ]; then DEVICES_PER_NODE=${DEVICES_PER_NODE:-1}; else DEVICES_PER_NODE=${DEVICES_PER_NODE:-2}; fi
NODES=$(( (DEVICES + DEVICES_PER_NODE - 1) / DEVICES_PER_NODE ))
case "$FLOOR" in 0|1|only) ;; *) echo "FLOOR must be 0, 1 or only" >&2; exit 2 ;; esac
HTTP_PORT=${BENCH_HTTP_PORT:-18480}
export REFLEX_APISERVER_PORT=${BENCH_API_PORT:-16543} REFLEX_ETCD_PORT=${BENCH_ETCD_PORT:-12479}
export REFLEX_ETCD_PEER_PORT=${BENCH_ETCD_PEER_PORT:-12480}
stamp=$(date +%Y%m%d-%H%M%S)
OUT=$root/bench/results/operator-$stamp-d$DEVICES-t$TENANTS${TAG:+-$TAG}
export REFLEX_CP_DIR=$OUT/controlplane
mkdir -p "$OUT"
PY="python3 $here/bench.py"
METRICS=http://127.0.0.1:$HTTP_PORT/q/metrics
# The benchmark's own requests (creates, polls, the probe's watch) as user reflex-bench (see identities below).
export BENCH_IDENTITY=bench BENCH_KWOK=$KWOK BENCH_DEVICES_PER_NODE=$DEVICES_PER_NODE
[ "$PROBE" = 1 ] && export BENCH_PROBE_AT=$((TENANTS / 2))
EXPECT=$((TENANTS + (PROBE == 1 ? 1 : 0)))
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

op_pid="" poll_pid="" probe_pid="" kwok_pid=""
stop_pid() { # PID [name]: TERM, up to 10 s, then KILL
  local p=$1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  say "${2:-$p} ignored TERM; killing"; kill -KILL "$p" 2>/dev/null || true
}
cp_down() { # LABEL: stop kwok, keep the control plane's logs in OUT/LABEL-logs, delete its state
  stop_pid "$kwok_pid" kwok; kwok_pid=""
  [ -d "$REFLEX_CP_DIR/logs" ] && { mkdir -p "$OUT/$1"; cp -r "$REFLEX_CP_DIR/logs" "$OUT/$1/controlplane-logs" 2>/dev/null; }
  e2e/controlplane down >/dev/null 2>&1 || say "controlplane down failed (state in $REFLEX_CP_DIR)"
}
cleanup() {
  local rc=$?
  set +e
  for p in "$poll_pid" "$probe_pid"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  stop_pid "$op_pid" operator
  cp_down "${phase:-run}"
  rm -rf "$OUT/operator-app" "$OUT/tenants" "$OUT/floor/tenants"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

threads_cpu() { # the operator's CPU seconds by thread group (JIT, GC, event loops, reconcilers, ...), as JSON
  [ -n "${1:-}" ] && [ -d "/proc/$1/task" ] || { echo '{}'; return; }
  for t in /proc/$1/task/*; do
    printf '%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" "$(cut -d')' -f2- "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"
  done | python3 -c '
import json, re, sys, os
hz = os.sysconf("SC_CLK_TCK"); out = {}
for line in sys.stdin:
    name, _, ticks = line.rstrip("\n").partition("\t")
    if not ticks: continue
    g = re.sub(r"[-#]?[0-9]+$", "", name.strip()) or name
    out[g] = round(out.get(g, 0) + int(ticks) / hz, 2)
print(json.dumps(out, sort_keys=True))'
}
cpu_of() { # utime+stime (s) of a PID
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}
children_cpu() { # user+sys (s) of this shell's finished children (bench.py clients, kubectl), from cpu_sample's `times`
  tail -1 "$OUT/.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } print s }'
}
cpu_sample() { # JSON of the CPU seconds so far of the processes we measure
  times >"$OUT/.times" # in this shell (a $(...) subshell would see no children)
  printf '{"operator": %s, "kube-apiserver": %s, "etcd": %s, "kwok": %s, "bench": %s, "machine": %s, "steal": %s, "t": %s}\n' \
    "$(cpu_of "$op_pid")" "$(cpu_of "$(cat "$REFLEX_CP_DIR/kube-apiserver.pid")")" \
    "$(cpu_of "$(cat "$REFLEX_CP_DIR/etcd.pid")")" "$(cpu_of "$kwok_pid")" "$(children_cpu)" \
    "$(awk -v hz="$(getconf CLK_TCK)" '/^cpu / {print ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat)" \
    "$(awk -v hz="$(getconf CLK_TCK)" '/^cpu / {print $9 / hz}' /proc/stat)" "$(date +%s.%N)"
}

# ---- control plane, identities, kwok nodes, devices -------------------------------------------------------------------
# Clients other than the operator get identities of their own, so that kube-apiserver counts their requests apart:
# API Priority and Fairness counts dispatched requests per FlowSchema (apiserver_flowcontrol_dispatched_requests_total).
# kwok (group reflex-bench:kwok) and the benchmark's client (reflex-bench:clients) are cluster-admins with FlowSchemas
# on the exempt priority level, as the operator (its ServiceAccount, FlowSchema reflex-bench-operator) is: nobody is
# queued or limited.
identities() {
  local pki=$REFLEX_CP_DIR/pki who group
  for who in kwok bench; do
    group=reflex-bench:$([ "$who" = kwok ] && echo kwok || echo clients)
    openssl req -newkey rsa:2048 -nodes -keyout "$pki/$who.key" -out "$pki/$who.csr" -subj "/O=$group/CN=reflex-$who" 2>/dev/null
    printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >"$pki/$who.ext"
    openssl x509 -req -in "$pki/$who.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
      -out "$pki/$who.crt" -extfile "$pki/$who.ext" 2>/dev/null
    rm -f "$pki/$who.csr" "$pki/$who.ext"
    cat <<EOF
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"reflex-bench-$who"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"$group"}]}
{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"FlowSchema","metadata":{"name":"reflex-bench-$who"},
 "spec":{"matchingPrecedence":100,"priorityLevelConfiguration":{"name":"exempt"},
  "rules":[{"subjects":[{"kind":"Group","group":{"name":"$group"}}],
   "resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}],
   "nonResourceRules":[{"verbs":["*"],"nonResourceURLs":["*"]}]}]}}
EOF
  done | kubectl apply --server-side -f - >/dev/null
  rm -f "$pki"/*.srl
  # The operator runs as a ServiceAccount with a bound token, as in its pod: with a client certificate and no token,
  # fabric8 7.5's TokenRefreshInterceptor re-reads and parses the kubeconfig before every request (it refreshes until
  # it gets a token), 14% of the operator's CPU in a 3,000-tenant profile. Same rights and APF level as before
  # (cluster-admin, exempt), its own FlowSchema so its requests are counted apart.
  cat <<EOF | kubectl apply --server-side -f - >/dev/null
{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"reflex-operator","namespace":"default"}}
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"reflex-bench-operator"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
 "subjects":[{"kind":"ServiceAccount","name":"reflex-operator","namespace":"default"}]}
{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"FlowSchema","metadata":{"name":"reflex-bench-operator"},
 "spec":{"matchingPrecedence":100,"priorityLevelConfiguration":{"name":"exempt"},
  "rules":[{"subjects":[{"kind":"ServiceAccount","serviceAccount":{"name":"reflex-operator","namespace":"default"}}],
   "resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}],
   "nonResourceRules":[{"verbs":["*"],"nonResourceURLs":["*"]}]}]}}
EOF
  local token
  token=$(kubectl create token reflex-operator -n default --duration=48h)
  cat >"$REFLEX_CP_DIR/operator.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: "https://127.0.0.1:$REFLEX_APISERVER_PORT", certificate-authority: "$pki/ca.crt"}}]
users: [{name: reflex-operator, user: {token: "$token"}}]
contexts: [{name: bench, context: {cluster: bench, user: reflex-operator}}]
current-context: bench
EOF
}

start_kwok() {
  local bin pki=$REFLEX_CP_DIR/pki
  bin=$(e2e/bin/build-kwok --print)
  cat >"$REFLEX_CP_DIR/kwok.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: "https://127.0.0.1:$REFLEX_APISERVER_PORT", certificate-authority: "$pki/ca.crt"}}]
users: [{name: kwok, user: {client-certificate: "$pki/kwok.crt", client-key: "$pki/kwok.key"}}]
contexts: [{name: kwok, context: {cluster: bench, user: kwok}}]
current-context: kwok
EOF
  # kwok's own node Stages (e2e/bin/build-kwok copies them from its module): initialize (Ready, keeps our
  # InternalIP) and the heartbeat that goes with Leases (an unchanged status every ~10 min), as kubelets do; v0.7.0's
  # default picks the 20-25 s status heartbeat when Leases are on. A Lease per node, renewed every
  # KWOK_LEASE_SECONDS/4 (kubelet: 40 s, renewed every 10 s).
  # nodeLeaseParallelism: Leases renewed at once (kwok's default 4 fell to ~30 renewals/s for 1,000 nodes on a
  # busy machine, ~35 s apart against a 40 s Lease; 1,000 kubelets are 1,000 independent clients).
  { printf 'apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions:\n  nodeLeaseParallelism: %s\n' "$KWOK_LEASE_PARALLELISM"
    for f in node-initialize node-heartbeat-with-lease; do echo "---"; cat "$(dirname "$bin")/stages/$f.yaml"; done
  } >"$REFLEX_CP_DIR/kwok.yaml"
  # Only our Nodes (kwok's annotation).
  setsid "$bin" --kubeconfig "$REFLEX_CP_DIR/kwok.kubeconfig" --config "$REFLEX_CP_DIR/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds="$KWOK_LEASE_SECONDS" -v=WARN </dev/null >"$1/kwok.log" 2>&1 &
  kwok_pid=$!
}

cp_up() { # DIR: control plane, CRDs, namespaces, identities, kwok + Nodes, FlashDevices (objects generated in DIR)
  local dir=$1
  say "control plane on 127.0.0.1:$REFLEX_APISERVER_PORT (state $REFLEX_CP_DIR)"
  e2e/controlplane up 2>"$dir/controlplane-up.log" || { cat "$dir/controlplane-up.log" >&2; exit 1; }
  eval "$(e2e/controlplane env)"
  kubectl apply --server-side -f crds/generated/ >/dev/null
  kubectl wait --for=condition=Established crd/flashtenants.reflex.io crd/flashdevices.reflex.io --timeout=60s >/dev/null
  for i in $(seq 0 $((NAMESPACES - 1))); do echo "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench-$i\"}}"; done \
    | kubectl apply --server-side -f - >/dev/null
  identities
  if [ "$KWOK" = 1 ]; then
    start_kwok "$dir"
    say "creating $NODES kwok Nodes (InternalIP in 198.18.0.0/15) and waiting until kwok has them Ready with Leases"
    BENCH_IDENTITY=admin $PY create-nodes "$dir" "$PAR" >"$dir/nodes-create.log" 2>&1 || { cat "$dir/nodes-create.log" >&2; exit 1; }
    local ok=""
    for _ in $(seq 1 240); do
      if $PY nodes-ready "$NODES" >"$dir/nodes-ready.json" 2>&1; then ok=1; break; fi
      kill -0 "$kwok_pid" 2>/dev/null || { tail -20 "$dir/kwok.log" >&2; say "kwok exited"; exit 1; }
      sleep 1
    done
    [ -n "$ok" ] || { cat "$dir/nodes-ready.json" >&2; say "kwok did not make the Nodes Ready"; exit 1; }
    say "nodes: $(cat "$dir/nodes-ready.json")"
  fi
  say "creating $DEVICES FlashDevices (Ready, 1 TiB, $([ "$KWOK" = 1 ] && echo "on the kwok Nodes" || echo "node-address annotation"))"
  kubectl apply --server-side --field-manager=reflex-bench -f "$dir/devices.yaml" >/dev/null
  kubectl apply --server-side --field-manager=reflex-bench-agent --subresource=status -f "$dir/devices-status.yaml" >/dev/null
}

# baseline DIR: background request and CPU rates over BASELINE s with nothing but the idle clients (kwok's leases).
baseline() {
  [ "$BASELINE" -gt 0 ] || return 0
  cpu_sample >"$1/baseline-cpu-before.json"; $PY apireq >"$1/baseline-before.json"
  sleep "$BASELINE"
  cpu_sample >"$1/baseline-cpu-after.json"; $PY apireq >"$1/baseline-after.json"
}

start_probe_watch() { # DIR
  [ "$PROBE" = 1 ] || return 0
  $PY probe-watch "$1" "$TIMEOUT" >"$1/probe-watch.log" 2>&1 &
  probe_pid=$!
}
finish_probe_watch() {
  [ -n "$probe_pid" ] || return 0
  for _ in $(seq 1 50); do kill -0 "$probe_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$probe_pid" 2>/dev/null || true; wait "$probe_pid" 2>/dev/null || true; probe_pid=""
}

$PY gen "$OUT" "$DEVICES" "$TENANTS" "$NAMESPACES" "$CHUNK" "$SEED" "${NODE_ADDRESS:-}"
poll_rc=0 verify_rc=0 floor_rc=0

# ==== the operator run ===============================================================================================
if [ "$FLOOR" != only ]; then
  phase=operator-run
  cp_up "$OUT"
  jar=$root/operator/target/quarkus-app/quarkus-run.jar
  if [ ! -f "$jar" ]; then
    say "building the operator fast-jar"
    ./mvnw -B -ntp -q -pl operator -am package -DskipTests >&2
  fi
  # Run a copy: someone rebuilding operator/target meanwhile must not swap the jar under the running JVM.
  # When the copied build was made: the newest file in it (quarkus-run.jar itself is only a launcher).
  jar_mtime=$(find "$root/operator/target/quarkus-app" -type f -printf '%T@ %TY-%Tm-%Td %TH:%TM\n' | sort -n | tail -1 | cut -d' ' -f2-)
  cp -r "$root/operator/target/quarkus-app" "$OUT/operator-app"
  [ -n "${PROFILE:-}" ] && OPERATOR_OPTS="$OPERATOR_OPTS -XX:StartFlightRecording=filename=$OUT/operator.jfr,settings=profile,dumponexit=true"
  # GC as the operator's image runs it (operator/pom.xml; OPERATOR_OPTS can override).
  op_cmd="$JAVA_HOME/bin/java -XX:+UseParallelGC -Xmx$XMX -Dquarkus.http.port=$HTTP_PORT $OPERATOR_OPTS -jar operator-app/quarkus-run.jar"
  say "operator: $op_cmd"
  (cd "$OUT" && KUBECONFIG=$REFLEX_CP_DIR/operator.kubeconfig exec $op_cmd >"$OUT/operator.log" 2>&1) &
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
    # every device in the ledger and reconciled (its status written) at least once, and no reconcile for 1 s
    [ "$1" -ge "$DEVICES" ] && [ "$2" -ge "$DEVICES" ] && [ "$2" = "$prev" ] && break
    prev=$2; sleep 1
  done
  say "operator ready: ledger devices=$1, device reconciles=$2; ${BASELINE}s idle baseline"
  baseline "$OUT"

  # ---- the measured part ----
  $PY scrape "$METRICS" >"$OUT/metrics-before.json"
  $PY apireq >"$OUT/apiserver-before.json"
  cpu_sample >"$OUT/cpu-before.json"
  threads_cpu "$op_pid" >"$OUT/operator-threads-before.json"
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  start_probe_watch "$OUT"
  $PY poll "$OUT" "$EXPECT" "$OUT/t0" "$METRICS" "$POLL" "$TIMEOUT" &
  poll_pid=$!
  say "creating $TENANTS FlashTenants in $NAMESPACES namespaces (plain POSTs over $PAR connections)${BENCH_PROBE_AT:+; the probe after $BENCH_PROBE_AT}"
  t0=$(date +%s.%N); echo "$t0" >"$OUT/t0"
  $PY create "$OUT" "$PAR" >"$OUT/create.log" 2>&1 || { say "tenant create failed:"; tail "$OUT/create.log" >&2; }
  t1=$(date +%s.%N)
  say "created in $(python3 -c "print(round($t1 - $t0, 1))") s; waiting for every tenant to have a phase"
  wait "$poll_pid" || poll_rc=$?; poll_pid=""
  cpu_sample >"$OUT/cpu-after.json"
  threads_cpu "$op_pid" >"$OUT/operator-threads-after.json"
  load_end=$(cut -d' ' -f1-3 /proc/loadavg)
  finish_probe_watch
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
  export BENCH_COMMAND="DEVICES=$DEVICES TENANTS=$TENANTS NAMESPACES=$NAMESPACES CHUNK=$CHUNK PAR=$PAR SEED=$SEED XMX=$XMX KWOK=$KWOK DEVICES_PER_NODE=$DEVICES_PER_NODE FLOOR=$FLOOR PROBE=$PROBE OPERATOR_OPTS='$OPERATOR_OPTS' bench/operator/run.sh"
  export BENCH_OPERATOR_CMD="$op_cmd"
  python3 - "$OUT" <<EOF
import json, sys
json.dump({"date": "$stamp", "devices": $DEVICES, "tenants": $TENANTS, "namespaces": $NAMESPACES, "chunk": $CHUNK,
  "par": $PAR, "create_seconds": $t1 - $t0, "xmx": "$XMX", "load_start": "$load_start", "load_end": "$load_end",
  "kwok": $KWOK, "nodes": $NODES, "poll": $POLL, "devices_per_node": $DEVICES_PER_NODE, "probe": $PROBE, "baseline_s": $BASELINE,
  "machine": "$(nproc) vCPU, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)",
  "commit": "$(git rev-parse --short HEAD)", "operator_dirty": "$(git status --porcelain operator/src | wc -l) files",
  "jar_mtime": "$jar_mtime", "settle_seconds": $settle,
  "reconcile_errors": $(grep -c 'Uncaught error during event processing' "$OUT/operator.log" || true),
  "command": __import__("os").environ["BENCH_COMMAND"],
  "operator_cmd": __import__("os").environ["BENCH_OPERATOR_CMD"]}, open("$OUT/meta.json", "w"), indent=1)
EOF
  $PY verify "$OUT" || verify_rc=$?
  [ "$FLOOR" = 1 ] && { $PY capture "$OUT" >"$OUT/capture.log" 2>&1 || { say "capture failed:"; tail "$OUT/capture.log" >&2; }; }
  if [ -n "${PROFILE:-}" ]; then
    jcmd "$op_pid" JFR.dump filename="$OUT/operator.jfr" >/dev/null 2>&1 || true
    # Top frames of the operator's CPU samples (own code and libraries), over the whole recording.
    jfr print --events jdk.ExecutionSample --stack-depth 64 "$OUT/operator.jfr" >"$OUT/samples.txt" 2>/dev/null || true
    $PY profile "$OUT/samples.txt" >"$OUT/profile.txt"; rm -f "$OUT/samples.txt"
    say "operator CPU profile (top frames): $OUT/profile.txt"; head -45 "$OUT/profile.txt" >&2
  fi
  stop_pid "$op_pid" operator; op_pid=""
  cp_down operator-run
fi

# ==== the floor: the same requests without the operator, on a fresh control plane with the same settings ============
if [ "$FLOOR" != 0 ]; then
  phase=floor
  F=$OUT/floor
  mkdir -p "$F"
  ln -sfn "$OUT/tenants" "$F/tenants"; cp "$OUT/probe.json" "$OUT/devices.yaml" "$OUT/devices-status.yaml" "$F/"
  [ -f "$OUT/nodes.json" ] && cp "$OUT/nodes.json" "$F/"
  replay=${REPLAY:-}
  [ -z "$replay" ] && [ -f "$OUT/replay.json" ] && replay=$OUT/replay.json
  cp_up "$F"
  say "floor: ${BASELINE}s idle baseline"
  baseline "$F"
  $PY apireq >"$F/apiserver-before.json"
  cpu_sample >"$F/cpu-before.json"
  start_probe_watch "$F"
  $PY poll "$F" "$EXPECT" "$F/t0" "$METRICS" "$POLL" "$TIMEOUT" >"$F/poll.log" &
  poll_pid=$!
  say "floor: $TENANTS creates ($PAR connections) and the operator's writes for each (${replay:-synthetic bodies}; $FLOOR_THREADS writers, watches $FLOOR_WATCH)"
  $PY floor "$F" "$PAR" "$FLOOR_THREADS" "$FLOOR_WATCH" "$replay" >"$F/floor.log" 2>&1 || { floor_rc=$?; say "floor: errors, see $F/floor.log"; }
  wait "$poll_pid" || true; poll_pid=""
  cpu_sample >"$F/cpu-after.json"
  finish_probe_watch
  $PY apireq >"$F/apiserver-after.json"
  say "floor: $(python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); print("first create -> last write", round(f["first_create_to_last_write_s"] or -1, 1), "s, writes", f["writes"], "errors", f["error_count"])' "$F/floor.json" 2>/dev/null || echo '?')"
  cp_down floor
fi
phase=done

$PY summary "$OUT"
say "results in $OUT"
[ "$poll_rc" = 0 ] || say "not every tenant got a phase within ${TIMEOUT}s"
[ "$verify_rc" = 0 ] || say "OVERCOMMIT/consistency violations: see $OUT/verify.json"
exit $(( poll_rc != 0 || verify_rc != 0 || floor_rc != 0 ))

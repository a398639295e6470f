#!/usr/bin/env bash
# Crash consistency (issue 15): no acknowledged write is lost when the server is killed with SIGKILL under QD32 write
# load. Each mode runs reflex-crashcheck (client/…/check/crash, bin/reflex-crashcheck), which for ROUNDS rounds:
# starts the server on the same device file, writes self-describing 4 KiB blocks at random LBAs at QD32, SIGKILLs
# the server 0.2–2 s into that load, restarts it, reads back every block of the region and checks each holds its
# latest acknowledged write or the write in flight at the kill (never older data, another block's, torn or
# never-written data; blocks never written keep their random pre-run content). See bench/crash/README.md.
#
#   bench/crash/run.sh                         # every mode below
#   bench/crash/run.sh uring nbd               # some of them
#
#   uring      standalone reflex-dataplane, io_uring engine, O_DIRECT file, native protocol; acked = SET reply
#   file       the same with the file engine (pread/pwrite on worker threads, O_DSYNC)
#   nbd        the NBD front-end (io_uring engine): WRITE with FUA; acked = its reply
#   nbd-flush  the NBD front-end: plain WRITEs, NBD_CMD_FLUSH after every 32 answered; acked = the FLUSH's reply
#   nosync     uring with --sync-writes false, native protocol, acked = SET reply (NOSYNC_ROUNDS rounds): what a
#              process kill does to writes that are not synced (nothing: it cannot simulate power loss)
#   agent      the dataplane inside a node agent (bin/reflex-node-agent as a process; the agent is what is
#              SIGKILLed): a real kube-apiserver + etcd (e2e/controlplane), the operator, one stand-in node (network
#              namespace + veth), one BE FlashTenant; the checker knows only the tenant's Secret
#
# Env (defaults): ROUNDS=50 NOSYNC_ROUNDS=10 BLOCKS=32768 (the region checked: the whole 128 MiB device file; for the
#   agent the whole 96 MiB tenant) QD=32 KILL=0.2-2 (s) SEED (random)
#   WORK=/var/tmp/reflex-crash (device files, jar copies, control-plane state), NO_BUILD=1 (use target/ as is)
# Own resources (runs next to the demo, the tests and the other benches): control plane on 127.0.0.1:16743/12679/
# 12680 (state $WORK/cp), network namespace rfx-crash with the stand-in node address 10.213.141.1 (veth rfxck),
# operator HTTP 18681, agent HTTP 10.213.141.1:19541, standalone servers on free loopback ports.
# Results: bench/results/crash-<UTC date>/ (summary.md, <mode>.json per-round numbers, <mode>.log, server logs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
source bin/lib/java-home.sh

MODES=${*:-uring file nbd nbd-flush nosync agent}
for m in $MODES; do
  case $m in uring|file|nbd|nbd-flush|nosync|agent) ;; *) echo "usage: bench/crash/run.sh [uring|file|nbd|nbd-flush|nosync|agent]..." >&2; exit 2 ;; esac
done
ROUNDS=${ROUNDS:-50} NOSYNC_ROUNDS=${NOSYNC_ROUNDS:-10} BLOCKS=${BLOCKS:-32768} QD=${QD:-32} KILL=${KILL:-0.2-2}
WORK=${WORK:-/var/tmp/reflex-crash}
stamp=$(date -u +%Y%m%d-%H%M%S)
OUT=$root/bench/results/crash-$stamp
RUN=$WORK/run              # copies of the jars: a rebuild of this tree meanwhile must not swap them under a restart
DEV=$WORK/dev128m.img
mkdir -p "$OUT" "$RUN"

export REFLEX_CP_DIR=$WORK/cp REFLEX_APISERVER_PORT=16743 REFLEX_ETCD_PORT=12679 REFLEX_ETCD_PEER_PORT=12680
ADDR=10.213.141.1 NETNS=rfx-crash LINK=rfxck OP_PORT=18681 AGENT_HTTP=10.213.141.1:19541 NS=crash NODE=crash-node

DATAPLANE=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xss512k -jar "$RUN/dataplane/reflex-dataplane.jar")  # = bin/reflex-dataplane
CHECK=("$JAVA_HOME/bin/java" -XX:+UseParallelGC -cp "$RUN/client/reflex-client.jar" io.reflex.check.crash.ReflexCrashCheck)  # = bin/reflex-crashcheck
AGENT=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
       --add-opens java.base/sun.nio.ch=ALL-UNNAMED -XX:+UseParallelGC -jar "$RUN/agent-app/quarkus-run.jar")  # = bin/reflex-node-agent
OPERATOR=("$JAVA_HOME/bin/java" "-Dquarkus.http.port=$OP_PORT" -jar "$RUN/operator-app/quarkus-run.jar")  # = bin/reflex-operator

say() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
k() { kubectl "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- processes this script starts itself (the checker starts and kills the servers): stopped by pid on exit ------
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
  stop 30 checker agent
  stop 20 operator
  if $cp_up; then e2e/controlplane down >>"$OUT/controlplane.log" 2>&1 || say "controlplane down failed (state in $REFLEX_CP_DIR)"; fi
  if ip netns list 2>/dev/null | grep -qw "$NETNS"; then ip link del "$LINK" 2>/dev/null; ip netns del "$NETNS" 2>/dev/null; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_until() { # wait_until WHAT TIMEOUT PIDNAME -- CMD...: poll CMD every 0.2 s
  local what=$1 timeout=$2 pname=$3; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pname" ] && ! kill -0 "${pids[$pname]:-0}" 2>/dev/null; then die "$what: $pname exited (see $OUT/$pname*.log)"; fi
    [ $SECONDS -ge $deadline ] && die "$what: not within ${timeout}s"
    sleep 0.2
  done
}
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# Cache flushes the block device under $WORK has completed (field 16 of its stat: kernels >= 5.5), or "-". With
# --sync-writes true every acknowledged write waits for one (RWF_DSYNC/O_DSYNC on a disk without FUA), merged when
# several are pending at once; other processes on the same disk add a few (journal commits, their fsyncs).
flushes() {
  local src; src=$(readlink -f "$(df --output=source "$WORK" | tail -1)")
  awk '{print (NF >= 17 ? $16 : "-")}' "/sys/class/block/$(basename "$src")/stat" 2>/dev/null || echo -
}

# ---- build once, then run copies ------------------------------------------------------------------------------------
build() {
  local need_agent=$1 mods=()
  source bin/lib/stale.sh
  if [ -z "${NO_BUILD:-}" ]; then
    reflex_stale dataplane/target/reflex-dataplane.jar protocol devmodels dataplane && mods+=(dataplane)
    reflex_stale client/target/reflex-client.jar protocol client && mods+=(client)
    if $need_agent; then
      reflex_stale operator/target/quarkus-app/quarkus-run.jar devmodels crds operator && mods+=(operator)
      reflex_stale node-agent/target/quarkus-app/quarkus-run.jar protocol devmodels dataplane crds node-agent && mods+=(node-agent)
    fi
  fi
  if [ ${#mods[@]} -gt 0 ]; then
    say "building ${mods[*]} (log $OUT/build.log)"
    ./mvnw -B -ntp -q -pl "$(IFS=,; echo "${mods[*]}")" -am package -DskipTests >"$OUT/build.log" 2>&1 \
      || { tail -40 "$OUT/build.log" >&2; die "build failed"; }
    touch dataplane/target/reflex-dataplane.jar client/target/reflex-client.jar
    $need_agent && touch operator/target/quarkus-app/quarkus-run.jar node-agent/target/quarkus-app/quarkus-run.jar
  fi
  rm -rf "$RUN"; mkdir -p "$RUN/dataplane" "$RUN/client"
  cp -r dataplane/target/reflex-dataplane.jar dataplane/target/lib "$RUN/dataplane/"
  cp -r client/target/reflex-client.jar client/target/lib "$RUN/client/"
  if $need_agent; then
    cp -r operator/target/quarkus-app "$RUN/operator-app"
    cp -r node-agent/target/quarkus-app "$RUN/agent-app"
  fi
}

# random_file FILE MIB: a file of random bytes (written, not sparse): what the blocks hold before a run, which every
# block the run never writes must still hold afterwards.
random_file() {
  local f=$1 mib=$2
  [ -f "$f.filled" ] && [ "$(stat -c %s "$f")" = $((mib << 20)) ] && return 0
  say "writing $f: $mib MiB of random bytes (dd oflag=direct)"
  rm -f "$f.filled"
  dd if=/dev/urandom of="$f" bs=1M count="$mib" oflag=direct status=none
  date -Is >"$f.filled"
}

failed=0
# check NAME ROUNDS CHECKER-ARGS... -- SERVER...: one reflex-crashcheck run; its numbers go to NAME.json
check() {
  local name=$1 rounds=$2; shift 2
  local load0 t0 f0 rc=0
  load0=$(loadavg); t0=$SECONDS; f0=$(flushes)
  say "$name: $rounds rounds (load $load0)"
  { printf '%q ' "${CHECK[@]}" --rounds "$rounds" --blocks "$BLOCKS" --qd "$QD" --kill-after "$KILL" ${SEED:+--seed "$SEED"} \
      --json "$OUT/$name.json" --server-log "$OUT/$name-server.log" --records "$WORK/$name.records" "$@"; echo; } >>"$OUT/commands.txt"
  "${CHECK[@]}" --rounds "$rounds" --blocks "$BLOCKS" --qd "$QD" --kill-after "$KILL" ${SEED:+--seed "$SEED"} \
    --json "$OUT/$name.json" --server-log "$OUT/$name-server.log" --records "$WORK/$name.records" "$@" \
    > >(tee "$OUT/$name.log" | grep --line-buffered -E '^(run |round |  VIOLATION|PASS|FAIL|ERROR)' | cut -c1-240 >&2) 2>&1 &
  pids[checker]=$!
  wait "${pids[checker]}" || rc=$?
  unset "pids[checker]"
  sleep 0.2  # let tee finish
  local f1; f1=$(flushes)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$load0" "$(loadavg)" $((SECONDS - t0)) \
    "$([ "$f0" != - ] && [ "$f1" != - ] && echo $((f1 - f0)) || echo -)" >>"$OUT/loads.tsv"
  [ $rc = 0 ] || { failed=1; say "$name: exit $rc (1: violations, 2: the run broke) — see $OUT/$name.log"; }
}

standalone() { # standalone NAME ROUNDS ENGINE PROTOCOL DURABILITY [dataplane flags...]
  local name=$1 rounds=$2 engine=$3 protocol=$4 durability=$5; shift 5
  local port nbd args=()
  port=$(free_port)
  local server=("${DATAPLANE[@]}" --device "$DEV" --engine "$engine" --listen "127.0.0.1:$port" --admin none "$@")
  if [ "$protocol" = nbd ]; then
    nbd=$(free_port)
    server+=(--nbd "127.0.0.1:$nbd")
    args=(--protocol nbd --port "$nbd" --export default)
  else
    args=(--port "$port")
  fi
  check "$name" "$rounds" "${args[@]}" --durability "$durability" -- "${server[@]}"
}

# ---- the node agent ------------------------------------------------------------------------------------------------
fd_ready() { [ "$(k get fd -l "reflex.io/node=$NODE" -o jsonpath='{.items[*].status.phase}')" = Ready ]; }
tenant_serving() { [ "$(k get ft crash -n "$NS" -o jsonpath='{.status.phase}')" = Serving ]; }
secret() { k get secret crash-reflex -n "$NS" -o jsonpath="{.data.$1}" | base64 -d; }

agent_mode() {
  [ "$(id -u)" = 0 ] && command -v ip >/dev/null || die "agent mode needs root and iproute2 (a network namespace + veth for the stand-in node's address)"
  for c in kubectl curl; do command -v $c >/dev/null || die "agent mode needs $c"; done
  source e2e/versions.env
  [ -x "$REFLEX_CONTROLPLANE_BIN/kube-apiserver" ] || say "building kube-apiserver + etcd (first use on this machine, ~5-9 min)"
  e2e/bin/build-controlplane >"$OUT/build-controlplane.log" 2>&1 || { tail -20 "$OUT/build-controlplane.log" >&2; die "e2e/bin/build-controlplane failed"; }

  say "agent: control plane on 127.0.0.1:$REFLEX_APISERVER_PORT (state $REFLEX_CP_DIR)"
  e2e/controlplane down >/dev/null 2>&1 || true    # leftovers of a killed run (it stops only its own PIDs)
  cp_up=true
  e2e/controlplane up 2>"$OUT/controlplane.log" || { cat "$OUT/controlplane.log" >&2; die "control plane did not start"; }
  eval "$(e2e/controlplane env)"
  k apply --server-side -f crds/generated/ >/dev/null
  k wait --for=condition=Established crd/flashtenants.reflex.io crd/flashdevices.reflex.io --timeout=60s >/dev/null
  k create namespace "$NS" >/dev/null

  say "agent: stand-in node $NODE at $ADDR (veth $LINK into network namespace $NETNS)"
  ip link del "$LINK" 2>/dev/null || true; ip netns del "$NETNS" 2>/dev/null || true
  ip netns add "$NETNS"
  ip link add "$LINK" type veth peer name "$LINK-p" netns "$NETNS"
  ip addr add "$ADDR/24" dev "$LINK"
  ip link set "$LINK" up
  ip -n "$NETNS" addr add "${ADDR%.1}.2/24" dev "$LINK-p"
  ip -n "$NETNS" link set "$LINK-p" up

  say "agent: operator (log $OUT/operator.log)"
  (cd "$RUN" && exec "${OPERATOR[@]}" >"$OUT/operator.log" 2>&1) &
  pids[operator]=$!
  wait_until "operator ready" 120 operator -- curl -fs "http://127.0.0.1:$OP_PORT/q/health/ready"

  local adev=$WORK/agent256m.img
  random_file "$adev" 256
  rm -rf "$WORK/agent-state"
  local agent=("${AGENT[@]}" --node "$NODE" --address "$ADDR" --http "$AGENT_HTTP"
               --device "$adev,engine=uring,model=virtio-vm-dataplane" --state-dir "$WORK/agent-state" --nbd-port 0)
  say "agent: first start publishes the device; a BE FlashTenant is placed on it (log $OUT/agent-setup.log)"
  (cd "$RUN" && exec "${agent[@]}" >"$OUT/agent-setup.log" 2>&1) &
  pids[agent]=$!
  wait_until "agent ready" 120 agent -- curl -fs "http://$AGENT_HTTP/q/health/ready"
  wait_until "FlashDevice of $NODE Ready" 60 agent -- fd_ready
  k apply --server-side --field-manager=reflex-crash -f - >/dev/null <<EOF
apiVersion: reflex.io/v1alpha1
kind: FlashTenant
metadata: {name: crash, namespace: $NS}
spec:
  class: BE
  capacity: 96Mi
  placement: {deviceSelector: {matchLabels: {reflex.io/node: $NODE}}}
EOF
  wait_until "tenant Serving" 90 agent -- tenant_serving
  local host port token lbas
  host=$(k get endpointslices -n "$NS" -l kubernetes.io/service-name=crash -o jsonpath='{.items[0].endpoints[0].addresses[0]}')
  port=$(secret port); token=$(secret token); lbas=$(secret lbaCount)
  wait_until "tenant listening on $host:$port" 60 agent -- listening "$host" "$port"
  say "agent: tenant crash → Secret crash-reflex: $(secret host) (EndpointSlice → $host) port $port, $lbas sectors, token ${token:0:6}…"
  stop 30 agent
  local blocks=$BLOCKS
  [ $((lbas / 8)) -ge "$blocks" ] || blocks=$((lbas / 8))
  echo "$token" >"$WORK/agent.token"; chmod 600 "$WORK/agent.token"
  { echo "agent: $(printf '%q ' "${agent[@]}")"; echo "  KUBECONFIG=$KUBECONFIG"; } >>"$OUT/commands.txt"
  # The checker restarts the agent with the same flags and state dir after each kill; the agent rebuilds the same
  # tenant table (same port, extent, token) from the API server.
  BLOCKS=$blocks check agent "$ROUNDS" --host "$host" --port "$port" --token-file "$WORK/agent.token" --restart-timeout 180 \
    -- "${agent[@]}"
  rm -f "$WORK/agent.token"
  k get ft,fd -A -o wide >"$OUT/agent-objects.txt" 2>&1 || true
}

# ---- main -------------------------------------------------------------------------------------------------------------
need_agent=false; [[ " $MODES " == *" agent "* ]] && need_agent=true
say "results -> $OUT; modes: $MODES; $(nproc) vCPU, load $(loadavg); commit $(git rev-parse --short HEAD) ($(git status --porcelain | wc -l) changed files in the tree)"
build $need_agent
random_file "$DEV" 128
: >"$OUT/loads.tsv"
for m in $MODES; do
  case $m in
    uring) standalone uring "$ROUNDS" uring reflex reply ;;
    file) standalone file "$ROUNDS" file reflex reply ;;
    nbd) standalone nbd "$ROUNDS" uring nbd fua ;;
    nbd-flush) standalone nbd-flush "$ROUNDS" uring nbd flush ;;
    nosync) standalone nosync "$NOSYNC_ROUNDS" uring reflex reply --sync-writes false ;;
    agent) agent_mode ;;
  esac
done

python3 - "$OUT" <<'EOF' | tee "$OUT/summary.md"
import json, os, sys
out = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(f"{out}/loads.tsv") if l.strip()]
print("| mode | durable when | rounds | writes acked | acked-block checks | in flight at the kills (landed / not) | violations | time | device flushes (per acked write) | load avg before → after |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, rc, l0, l1, secs, fl in rows:
    p = f"{out}/{name}.json"
    if not os.path.exists(p):
        print(f"| {name} | | | | | | run broke (exit {rc}) | {secs} s | {fl} | {l0} → {l1} |")
        continue
    j = json.load(open(p))
    inflight = f"{j['inFlightAtKills']} ({j['landed']} / {j['notLanded']})" if j["durability"] != "flush" else \
        f"{j['inFlightAtKills']} + {j['unflushedAtKills']} unflushed ({j['landed']} / {j['notLanded']})"
    verdict = str(j["violations"]) + ("" if j["error"] is None else f" — ERROR {j['error']}")
    flush = fl if fl == "-" else f"{int(fl):,} ({int(fl) / max(1, j['durableWrites']):.2f})"
    print(f"| {name} | {j['durability']} | {j['rounds']} | {j['durableWrites']:,} | {j['acknowledgedReadBack']:,} | {inflight} | "
          f"{verdict} | {j['seconds']:.0f} s | {flush} | {l0} → {l1} |")
EOF
say "summary: $OUT/summary.md"
exit $failed

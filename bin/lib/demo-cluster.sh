# Sourced by bin/reflex-demo: the cluster demo (its default mode). Expects root, dir, duration, cpus, pin.
# Everything started here is recorded (pids, links, namespaces, control plane) and stopped by demo_cleanup on exit.

ns=demo                                         # the Kubernetes namespace of the demo's tenants
op_port=18080                                   # operator HTTP (health, metrics): off the default 8080
declare -A node_name=([a]=demo-node-a [b]=demo-node-b)
declare -A node_addr=([a]=10.213.101.1 [b]=10.213.102.1)   # host end of each stand-in node's veth pair
declare -A node_netns=([a]=rfx-demo-a [b]=rfx-demo-b)
declare -A node_link=([a]=rfxda [b]=rfxdb)
declare -A pids=()                              # name -> pid of every process we started
cp_up=false
t0=$SECONDS

say() { printf '\n== [%3ds] %s\n' $((SECONDS - t0)) "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf 'reflex-demo: error: %s\n' "$*" >&2; exit 1; }
# tail_log FILE [N]: the last N lines, without our own readiness polls and stack frames.
tail_log() {
  [ -f "$1" ] || return 0
  printf -- '--- last lines of %s:\n' "$1" >&2
  grep -v 'SRHCK01001\|^[[:space:]]*at \|^[[:space:]]*\.\.\. [0-9]* more' "$1" | tail -n "${2:-30}" | cut -c1-600 >&2
}

# The control plane on its own ports and state dir, so it never meets a developer's instance or a test run.
controlplane() {
  REFLEX_CP_DIR=$dir/cp REFLEX_APISERVER_PORT=17443 REFLEX_ETCD_PORT=17379 REFLEX_ETCD_PEER_PORT=17380 \
    "$root/e2e/controlplane" "$@"
}
k() { kubectl "$@"; }

# wait_for WHAT TIMEOUT LOG PID DIAG -- COMMAND...: poll COMMAND every 0.2 s; on the process's death or the
# timeout print DIAG's output (a function name, or "") and LOG's tail, and fail.
wait_for() {
  local what=$1 timeout=$2 log=$3 pid=$4 diag=$5; shift 6
  local deadline=$((SECONDS + timeout)) why=""
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then why="its process exited"; fi
    [ $SECONDS -ge "$deadline" ] && why="not within ${timeout}s"
    if [ -n "$why" ]; then
      [ -n "$diag" ] && $diag >&2
      tail_log "$log"
      die "$what: $why (log: $log)"
    fi
    sleep 0.2
  done
}

# stop TIMEOUT NAME...: SIGTERM some of our processes together, wait for them (SIGKILL after TIMEOUT s).
stop() {
  local timeout=$1 name p alive; shift
  local ps=()
  for name in "$@"; do
    p=${pids[$name]:-}; [ -n "$p" ] || continue
    unset "pids[$name]"; rm -f "$dir/pids/$name.pid"
    kill -TERM "$p" 2>/dev/null && ps+=("$p")
  done
  [ ${#ps[@]} -gt 0 ] || return 0
  for _ in $(seq 1 $((timeout * 10))); do
    alive=0; for p in "${ps[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${ps[@]}"; do
    if kill -0 "$p" 2>/dev/null; then echo "reflex-demo: pid $p ignored SIGTERM for ${timeout}s; killing it" >&2; kill -KILL "$p" 2>/dev/null; fi
    wait "$p" 2>/dev/null || true
  done
}

demo_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  echo
  echo "== cleaning up (device files stay in $dir)"
  stop 5 lc-client be-client
  stop 30 agent-a agent-b      # they drain their tenants' connections
  stop 20 operator
  if $cp_up; then controlplane down >>"$dir/controlplane.log" 2>&1 || echo "reflex-demo: controlplane down failed (see $dir/controlplane.log)" >&2; fi
  remove_nodes
  rm -rf "$dir/state-a" "$dir/state-b" "$dir/pids"
  exit "$rc"
}

remove_nodes() {
  local n
  for n in a b; do
    ip link del "${node_link[$n]}" 2>/dev/null || true
    ip netns del "${node_netns[$n]}" 2>/dev/null || true
  done
}

# Stand-in node addresses: a veth pair per node, far end in a network namespace, the agent on the near end.
make_nodes() {
  local n
  remove_nodes   # leftovers of a run that was killed before its cleanup
  for n in a b; do
    local nsn=${node_netns[$n]} link=${node_link[$n]} addr=${node_addr[$n]}
    ip netns add "$nsn" &&
      ip link add "$link" type veth peer name "$link-p" netns "$nsn" &&
      ip addr add "$addr/24" dev "$link" &&
      ip link set "$link" up &&
      ip -n "$nsn" addr add "${addr%.1}.2/24" dev "$link-p" &&
      ip -n "$nsn" link set "$link-p" up ||
      die "cannot create stand-in node $n (network namespace $nsn, veth $link; needs CAP_SYS_ADMIN + CAP_NET_ADMIN); without a cluster: bin/reflex-demo --dataplane-only"
  done
}

# Processes of an earlier run killed before its cleanup (SIGKILL, power loss) would hold our ports: stop exactly
# those, by the pid files that run left, and only while the pid still runs one of our jars.
kill_leftovers() {
  local f p
  for f in "$dir"/pids/*.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q 'quarkus-run.jar\|reflex-client.jar'; then
      echo "   stopping pid $p left by an earlier run ($(basename "$f" .pid))"; kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

record() { pids[$1]=$2; mkdir -p "$dir/pids"; echo "$2" > "$dir/pids/$1.pid"; }

build() {
  source "$root/bin/lib/stale.sh"
  local mods=()
  reflex_stale "$root/operator/target/quarkus-app/quarkus-run.jar" devmodels crds operator && mods+=(operator)
  reflex_stale "$root/node-agent/target/quarkus-app/quarkus-run.jar" protocol devmodels dataplane crds node-agent && mods+=(node-agent)
  reflex_stale "$root/client/target/reflex-client.jar" protocol client && mods+=(client)
  [ ${#mods[@]} -gt 0 ] || return 0
  say "building ${mods[*]}"
  (cd "$root" && ./mvnw -B -ntp -q -pl "$(IFS=,; echo "${mods[*]}")" -am package -DskipTests) > "$dir/build.log" 2>&1 \
    || { tail_log "$dir/build.log" 60; die "build failed (log: $dir/build.log)"; }
  local m
  for m in operator/target/quarkus-app/quarkus-run.jar node-agent/target/quarkus-app/quarkus-run.jar client/target/reflex-client.jar; do
    touch "$root/$m"   # maven keeps an unchanged jar's old mtime
  done
}

device_file() {
  local f=$dir/$1.img
  if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" != $((1 << 30)) ]; then
    note "creating a 1 GiB file-backed device at $f (written, so reads reach the disk)"
    dd if=/dev/zero of="$f" bs=1M count=1024 oflag=direct status=none
  fi
}

# start_agent a|b [flags]: one node agent on its stand-in node's address; agent A is the node the tenants share.
start_agent() {
  local n=$1; shift
  local pinning="" poll=block
  if [ "$n" = a ]; then pinning=$a_pin; poll=$a_poll; fi
  echo "--- $(date -u +%T) reflex-node-agent ${*:-}" >> "$dir/agent-$n.log"
  $pinning "$root/bin/reflex-node-agent" --node "${node_name[$n]}" --address "${node_addr[$n]}" \
    --device "$dir/$n.img,model=$model" --state-dir "$dir/state-$n" --poll "$poll" "$@" >> "$dir/agent-$n.log" 2>&1 &
  record "agent-$n" $!
}

agent_ready() { curl -fs "http://${node_addr[$1]}:9500/q/health/ready"; }
device_ready() { [ "$(k get fd -l "reflex.io/node=${node_name[$1]}" -o jsonpath='{.items[*].status.phase}')" = Ready ]; }
wait_agent() {
  local n=$1
  wait_for "agent $n readiness (http://${node_addr[$n]}:9500/q/health/ready)" 90 "$dir/agent-$n.log" "${pids[agent-$n]}" "" -- agent_ready "$n"
  wait_for "FlashDevice of ${node_name[$n]} Ready" 60 "$dir/agent-$n.log" "${pids[agent-$n]}" show_devices -- device_ready "$n"
}

show_devices() { k get fd -o wide 2>&1; }
show_tenants() {
  k get ft,fd -A -o wide 2>&1
  k get ft -n "$ns" -o jsonpath='{range .items[*]}{.metadata.name}:{"\n"}{range .status.conditions[*]}  {.type}={.status} {.reason}: {.message}{"\n"}{end}{end}' 2>&1
  tail_log "$dir/operator.log" 15
}

# secret NAME FIELD: one field of the tenant's Secret, which is all a client gets.
secret() { k get secret "$1-reflex" -n "$ns" -o jsonpath="{.data.$2}" | base64 -d; }
# Cluster DNS would answer NAME.demo.svc of a headless Service with its EndpointSlice's addresses; there is no DNS here.
resolve() { k get endpointslices -n "$ns" -l "kubernetes.io/service-name=$1" -o jsonpath='{.items[0].endpoints[0].addresses[0]}'; }
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
tenants_serving() {
  local t p
  for t in lc be; do
    p=$(k get ft "$t" -n "$ns" -o jsonpath='{.status.phase}') && [ "$p" = Serving ] || return 1
    listening "$(resolve "$t")" "$(secret "$t" port)" || return 1
  done
}

apply_tenants() {
  k apply --server-side --field-manager=reflex-demo -f - <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $ns
---
apiVersion: reflex.io/v1alpha1
kind: FlashTenant
metadata:
  name: lc
  namespace: $ns
spec:
  class: LC
  iops: $lc_iops
  readPercent: 100
  p95LatencyMicros: $slo
  capacity: 512Mi
  placement:
    deviceSelector:
      matchLabels: {reflex.io/node: ${node_name[a]}}
---
apiVersion: reflex.io/v1alpha1
kind: FlashTenant
metadata:
  name: be
  namespace: $ns
spec:
  class: BE
  capacity: 512Mi
  placement:
    deviceSelector:
      matchLabels: {reflex.io/node: ${node_name[a]}}
EOF
}

# Where each tenant lives, from its Secret and EndpointSlice only (what a pod would use).
read_endpoints() {
  local t
  for t in lc be; do
    declare -g "${t}_host=$(secret "$t" host)" "${t}_port=$(secret "$t" port)" "${t}_token=$(secret "$t" token)" \
      "${t}_lbas=$(secret "$t" lbaCount)" "${t}_addr=$(resolve "$t")"
  done
}

# run_load TAG: LC open loop at lc_offered 4 KiB random reads and BE closed-loop QD BE_QD (default 64) 4 KiB random writes, at once.
run_load() {
  local tag=$1 bench=$root/bin/reflex-bench rc=0
  say "load, QoS scheduler $tag: LC open loop at $lc_offered IOPS 4 KiB random reads + BE closed loop QD${BE_QD:-64} 4 KiB random writes, ${duration}s (+2s warm-up)"
  read_endpoints
  note "lc: Secret lc-reflex → host $lc_host port $lc_port, $lc_lbas sectors, token ${lc_token:0:6}…; $lc_host → $lc_addr"
  note "be: Secret be-reflex → host $be_host port $be_port, $be_lbas sectors, token ${be_token:0:6}…; $be_host → $be_addr"
  note "(no cluster DNS here: a host NAME.$ns.svc resolves as cluster DNS would for a headless Service, to the address"
  note " in the EndpointSlice labelled kubernetes.io/service-name=NAME)"
  $be_pin "$bench" --server "$be_addr:$be_port" --token "$be_token" --mode closed --poll block --qd "${BE_QD:-64}" --read-pct 0 \
    --size 4096 --pattern rand --lba-range "$be_lbas" --duration "$duration" --warmup 2 --json "$dir/$tag-be.json" \
    > "$dir/$tag-be.txt" 2>&1 &
  record be-client $!
  $lc_pin "$bench" --server "$lc_addr:$lc_port" --token "$lc_token" --mode open --poll "$lc_poll" --iops "$lc_offered" \
    --read-pct 100 --size 4096 --pattern rand --lba-range "$lc_lbas" --duration "$duration" --warmup 2 \
    --json "$dir/$tag-lc.json" > "$dir/$tag-lc.txt" 2>&1 &
  record lc-client $!
  wait "${pids[lc-client]}" || rc=$?; unset "pids[lc-client]"
  # Exit code 3 is "more failed requests than --max-errors": a result (counted in the verdict), not a failure.
  [ $rc = 0 ] || [ $rc = 3 ] || { cat "$dir/$tag-lc.txt" >&2; die "LC client failed (exit $rc)"; }
  rc=0; wait "${pids[be-client]}" || rc=$?; unset "pids[be-client]"
  [ $rc = 0 ] || [ $rc = 3 ] || { cat "$dir/$tag-be.txt" >&2; die "BE client failed (exit $rc)"; }

  echo
  echo "LC tenant lc (reserved $lc_iops IOPS, offered $lc_offered, p95 SLO $slo µs):"; grep -v '^WARNING' "$dir/$tag-lc.txt"
  echo
  echo "BE tenant be (best effort, QD${BE_QD:-64} writes):"; grep -v '^WARNING' "$dir/$tag-be.txt"
  echo
  echo "node agent A's own view (parse → device completion; one window since the agent started, warm-up included): http://${node_addr[a]}:9500/metrics"
  curl -fs "http://${node_addr[a]}:9500/metrics" | python3 "$root/bin/lib/demo_report.py" metrics || true
  echo
  k get ft,fd -A -o wide
  echo
  python3 "$root/bin/lib/demo_report.py" verdict "$dir/$tag-lc.json" "$lc_offered" "$lc_iops" "$slo"
}

placement() { k get ft -n "$ns" -o jsonpath='{range .items[*]}{.metadata.name} on {.status.placement.device} port {.status.placement.port}, {end}' | sed 's/, $//'; }

cluster_demo() {
  local runs=(on off)
  [ $# -le 1 ] || die "one option at most (bin/reflex-demo --help)"
  case "${1:-}" in
    "") ;;
    --no-contrast) runs=(on) ;;
    --no-qos) runs=(off) ;;
    *) die "unknown option $1 (bin/reflex-demo --help)" ;;
  esac
  if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
    echo "reflex-demo: the cluster demo needs root and iproute2: each stand-in node gets a network namespace and a veth" >&2
    echo "pair (EndpointSlices refuse loopback addresses). Run it as root, or without a cluster:" >&2
    echo "  bin/reflex-demo --dataplane-only" >&2
    exit 1
  fi
  for c in kubectl curl python3; do command -v $c >/dev/null || die "$c is needed"; done

  slo=${SLO:-1000}
  share=${LC_SHARE:-0.3}
  model=${MODEL:-virtio-vm-dataplane}
  # A name, not a path: the agent publishes it in FlashDevice spec.deviceModel.name for the operator to load.
  local model_file=$root/devmodels/models/$model.yaml
  [ -f "$model_file" ] || die "MODEL must be a device model name from devmodels/models/ ($(cd "$root/devmodels/models" && ls | sed 's/\.yaml$//' | paste -sd' ')), got '$model'"
  if [ "$pin" = 1 ]; then
    local last=$((cpus - 1))
    a_pin="taskset -c $last"; lc_pin="taskset -c $last"; be_pin="taskset -c 0"; a_poll=yield; lc_poll=yield
    layout="agent A (both tenants' node) + LC client on CPU $last (--poll yield), BE client on CPU 0 (--poll block)"
  else
    a_pin=""; lc_pin=""; be_pin=""; a_poll=adaptive; lc_poll=adaptive
    layout="unpinned, --poll adaptive"
  fi

  mkdir -p "$dir"
  kill_leftovers
  trap demo_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  build

  say "control plane: kube-apiserver + etcd as local processes (state $dir/cp, API on 127.0.0.1:17443)"
  source "$root/e2e/versions.env"
  [ -x "$REFLEX_CONTROLPLANE_BIN/kube-apiserver" ] ||
    note "first use on this machine: building kube-apiserver + etcd from source, ~5-9 min (log: $dir/build-controlplane.log)"
  "$root/e2e/bin/build-controlplane" > "$dir/build-controlplane.log" 2>&1 ||
    { tail_log "$dir/build-controlplane.log"; die "e2e/bin/build-controlplane failed"; }
  local t=$SECONDS
  cp_up=true
  controlplane up > "$dir/controlplane.log" 2>&1 || { cat "$dir/controlplane.log" >&2; die "control plane did not start"; }
  eval "$(controlplane env)"
  note "up in $((SECONDS - t))s; KUBECONFIG=$KUBECONFIG"
  k apply --server-side -f "$root/crds/generated/" | sed 's/^/   /'

  say "stand-in nodes: ${node_name[a]} at ${node_addr[a]}, ${node_name[b]} at ${node_addr[b]} (veth pairs into network namespaces ${node_netns[a]}, ${node_netns[b]})"
  make_nodes

  say "operator (log $dir/operator.log)"
  t=$SECONDS
  KUBECONFIG=$KUBECONFIG "$root/bin/reflex-operator" "-Dquarkus.http.port=$op_port" > "$dir/operator.log" 2>&1 &
  record operator $!
  wait_for "operator readiness (http://127.0.0.1:$op_port/q/health/ready)" 120 "$dir/operator.log" "${pids[operator]}" "" \
    -- curl -fs "http://127.0.0.1:$op_port/q/health/ready"
  note "ready in $((SECONDS - t))s"

  local qos_a=()
  [ "${runs[0]}" = off ] && qos_a=(--no-qos)
  say "node agents, each with a 1 GiB file-backed device, model $(basename "$model" .yaml) (logs $dir/agent-{a,b}.log; $layout)"
  device_file a; device_file b
  rm -rf "$dir/state-a" "$dir/state-b"
  : > "$dir/agent-a.log"; : > "$dir/agent-b.log"
  t=$SECONDS
  start_agent a "${qos_a[@]}"
  start_agent b
  wait_agent a; wait_agent b
  note "both ready and their FlashDevices published in $((SECONDS - t))s"
  k get fd -o wide | sed 's/^/   /'

  eval "$(python3 "$root/bin/lib/demo_report.py" plan "$model_file" "$slo" "$share")"
  say "tenants: lc (LC, $lc_iops IOPS reserved at p95 ≤ $slo µs, 512Mi) and be (BE, 512Mi), both on ${node_name[a]}'s device"
  note "$plan_budget"
  note "$plan_lc"
  t=$SECONDS
  apply_tenants | sed 's/^/   /'
  wait_for "tenants Serving" 90 "$dir/agent-a.log" "" show_tenants -- tenants_serving
  note "applied → Serving (placed, exposed, listening) in $((SECONDS - t))s: $(placement)"

  local before
  for run in "${runs[@]}"; do
    if [ "$run" = off ] && [ "${runs[0]}" = on ]; then
      before=$(placement)
      say "contrast: restarting agent A with --no-qos (SIGTERM, then the same flags + --no-qos)"
      t=$SECONDS
      stop 30 agent-a
      start_agent a --no-qos
      wait_agent a
      wait_for "tenants Serving after the restart" 90 "$dir/agent-a.log" "${pids[agent-a]}" show_tenants -- tenants_serving
      note "back in $((SECONDS - t))s; $( [ "$(placement)" = "$before" ] && echo "the same tenants on the same ports" || echo "placement CHANGED, was: $before"): $(placement)"
    fi
    run_load "$run"
  done

  if [ ${#runs[@]} = 2 ]; then
    say "summary: the same load on the same device, QoS scheduler on vs off"
    python3 "$root/bin/lib/demo_report.py" summary "$slo" "$lc_offered" on "$dir/on-lc.json" "$dir/on-be.json" \
      off "$dir/off-lc.json" "$dir/off-be.json"
  fi
  note "total ${SECONDS}s; logs and results in $dir"
}

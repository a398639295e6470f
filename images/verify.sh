#!/usr/bin/env bash
# Check the image tars for real, without a Docker daemon: import them into a private containerd and run them.
#
#   images/verify.sh                  # the three tars the `images` profile writes (build them first, README)
#   images/verify.sh --no-cluster     # skip the started-in runs (no kube-apiserver): java -version and --help only
#
# What it does (root needed: containerd, runc):
#   1. starts containerd with its own config, root, state, socket, runc root and FIFO dir under $T
#      (default /var/tmp/reflex-images-test; CRI plugin off, so no CNI, no pause image, nothing shared)
#   2. `ctr -n k8s.io images import --all-platforms` each tar; prints the unpacked size of each image
#   3. per image: `java -version` (the runtime starts in the image's rootfs) and the app's --help
#      (agent, client), timed from `ctr run` to exit: a cold start; in the agent image the DPDK probe
#      (io.reflex.dataplane.dpdk.DpdkProbe: EAL init, the drivers its plugin directory loaded, a net_null and a
#      net_af_packet port on lo opened and started), privileged, and as the chart's unprivileged vdev agent runs it
#      (read-only root filesystem, default seccomp profile, no capability but CAP_NET_RAW and CAP_NET_ADMIN, host
#      network)
#   4. unless --no-cluster: a private control plane (e2e/controlplane on ports 17443/13379/13380, state in $T),
#      the CRDs, then the operator and the agent containers (host network, the kubeconfig bind-mounted) until
#      Quarkus logs "started in"; prints the time from `ctr run` to that line, then stops them with SIGTERM
#   5. stops everything it started (by PID), unmounts and deletes $T. Exit status 0 only if every check passed.
#
# Environment: REFLEX_IMAGES_TEST_DIR ($T), OPERATOR_TAR, AGENT_TAR, CLIENT_TAR (paths), TAG (default 0.1.0),
# REGISTRY (default reflex; image names are $REGISTRY/<app>:$TAG as the build's -Dimage.registry/-Dimage.tag).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=${REFLEX_IMAGES_TEST_DIR:-/var/tmp/reflex-images-test}
TAG=${TAG:-0.1.0}
REGISTRY=${REGISTRY:-reflex}
OPERATOR_TAR=${OPERATOR_TAR:-$root/operator/target/reflex-operator-image.tar}
AGENT_TAR=${AGENT_TAR:-$root/node-agent/target/reflex-node-agent-image.tar}
CLIENT_TAR=${CLIENT_TAR:-$root/client/target/reflex-client-image.tar}
cluster=1
case "${1:-}" in
  "") ;;
  --no-cluster) cluster=0 ;;
  -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  *) echo "images/verify.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

say() { printf '[images/verify %3ss] %s\n' "$SECONDS" "$*" >&2; }
die() { echo "images/verify.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (containerd and runc)"
for c in containerd ctr runc python3; do command -v $c >/dev/null || die "$c missing (apt-get install -y containerd runc)"; done
for f in "$OPERATOR_TAR" "$AGENT_TAR" "$CLIENT_TAR"; do
  [ -f "$f" ] || die "$f missing: ./mvnw -B -ntp -Pimages -pl operator,node-agent,client -am package -DskipTests"
done
[ ! -e "$T" ] || die "$T exists (another run, or a crashed one: check, then rm -rf it)"

SOCK=$T/containerd.sock
CTR=(ctr -a "$SOCK" -n k8s.io)
RUN=("${CTR[@]}" run --rm --runc-root "$T/runc" --fifo-dir "$T/fifo")
CP_ENV=(REFLEX_CP_DIR="$T/cp" REFLEX_APISERVER_PORT=17443 REFLEX_ETCD_PORT=13379 REFLEX_ETCD_PEER_PORT=13380)
containerd_pid=""
cp_started=0
failed=0

cleanup() {
  set +e
  if [ -n "$containerd_pid" ]; then
    for id in $("${CTR[@]}" tasks ls -q 2>/dev/null); do "${CTR[@]}" tasks kill -s KILL "$id" >/dev/null 2>&1; done
    sleep 1
    for id in $("${CTR[@]}" containers ls -q 2>/dev/null); do
      "${CTR[@]}" tasks delete -f "$id" >/dev/null 2>&1; "${CTR[@]}" containers delete "$id" >/dev/null 2>&1
    done
    kill "$containerd_pid" 2>/dev/null; wait "$containerd_pid" 2>/dev/null
  fi
  [ "$cp_started" = 1 ] && env "${CP_ENV[@]}" "$root/e2e/controlplane" down >/dev/null 2>&1
  # Overlay and shm mounts left by containers or snapshots, deepest first.
  awk -v t="$T" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T"/{root,state,runc,fifo}
cat > "$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$T/containerd.sock.ttrpc"
EOF
containerd --config "$T/config.toml" > "$T/containerd.log" 2>&1 &
containerd_pid=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && "${CTR[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${CTR[@]}" version >/dev/null 2>&1 || { tail -20 "$T/containerd.log" >&2; die "containerd did not start"; }
say "private containerd up (pid $containerd_pid, $SOCK)"

entrypoint() { # the image's entrypoint, one word per line, from the tar's config
  python3 - "$1" <<'EOF'
import json, sys, tarfile
t = tarfile.open(sys.argv[1]); m = json.load(t.extractfile("manifest.json"))[0]
print("\n".join(json.load(t.extractfile(m["Config"]))["config"]["Entrypoint"]))
EOF
}
ms() { date +%s%3N; }
check() { # NAME, then a command; prints its output's first lines, records a failure
  local name=$1; shift
  local t0 t1 out rc=0
  t0=$(ms); out=$("$@" 2>&1) || rc=$?; t1=$(ms)
  printf '%s\n' "$out" | head -${LINES_SHOWN:-3} | sed 's/^/    /' >&2
  if [ $rc = 0 ]; then say "ok   $name ($((t1 - t0)) ms)"; else say "FAIL $name (exit $rc)"; failed=1; fi
}

declare -A TARS=([operator]=$OPERATOR_TAR [node-agent]=$AGENT_TAR [client]=$CLIENT_TAR)
for app in operator node-agent client; do
  img=docker.io/$REGISTRY/$app:$TAG
  t0=$(ms)
  "${CTR[@]}" images import --all-platforms "${TARS[$app]}" >/dev/null || die "import of ${TARS[$app]} failed"
  "${CTR[@]}" images check "name==$img" | grep -q 'complete' || die "$img not complete after import"
  say "imported $img in $(($(ms) - t0)) ms (tar $(du -m "${TARS[$app]}" | cut -f1) MB)"
done
# Unpacked size: the snapshots' disk usage (the layers are shared across the three images).
"${CTR[@]}" images ls | awk 'NR == 1 || /reflex/' | sed 's/^/    /' >&2

for app in operator node-agent client; do
  img=docker.io/$REGISTRY/$app:$TAG
  check "$app: java -version" "${RUN[@]}" "$img" "v-$app" java -version
done
mapfile -t agent_ep < <(entrypoint "$AGENT_TAR")
mapfile -t client_ep < <(entrypoint "$CLIENT_TAR")
LINES_SHOWN=2 check "node-agent: --help (cold start to usage)" "${RUN[@]}" "docker.io/$REGISTRY/node-agent:$TAG" h-agent "${agent_ep[@]}" --help
LINES_SHOWN=2 check "client: reflex-bench --help (cold start to usage)" "${RUN[@]}" "docker.io/$REGISTRY/client:$TAG" h-client "${client_ep[@]}" --help
# DPDK in the agent image: the libraries load, the EAL's plugin directory has the drivers (the PCI NICs' too), the
# vdev ports open on an mbuf pool (the mempool handler is a plugin as well). --no-huge: no hugepages needed here.
dpdk_probe() { # EXPECTED-REGEX, ctr run args...: the probe's output must match every line of EXPECTED-REGEX
  local want=$1 out rc=0; shift
  out=$("$@" java --enable-native-access=ALL-UNNAMED -XX:-UsePerfData -cp '/deployments/lib/main/*' \
    io.reflex.dataplane.dpdk.DpdkProbe --no-huge --no-shconf -m 128 --no-telemetry --log-level warning \
    --vdev net_null0 --vdev net_af_packet0,iface=lo 2>&1) || rc=$?
  printf '%s\n' "$out" | grep dpdk-probe
  [ $rc = 0 ] || return $rc
  while read -r re; do grep -qE "$re" <<<"$out" || { echo "no match for /$re/"; return 1; }; done <<<"$want"
}
probe_want='drivers loaded: .*\bnet_af_packet\b.*\bnet_af_xdp\b
drivers loaded: .*\bmempool_ring\b.*\bnet_i40e\b.*\bnet_ice\b.*\bnet_ixgbe\b.*\bnet_virtio\b
port 0 \(net_null, .*started and stopped
port 1 \(net_af_packet, .*started and stopped
2 port\(s\), 0 failed'
agent_img=docker.io/$REGISTRY/node-agent:$TAG
# ctr has no "drop ALL": drop each of its default capabilities (containerd's oci.populateDefaultUnixSpec) but NET_RAW
# (net_af_packet's raw socket), and add NET_ADMIN (rte_eth_dev_start replays the promiscuous setting: SIOCSIFFLAGS on
# the interface; without it the start fails with EPERM).
net_caps=(--cap-add CAP_NET_ADMIN)
for c in CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE; do
  net_caps+=(--cap-drop "CAP_$c")
done
LINES_SHOWN=6 check "node-agent: DPDK probe, privileged (agent.privileged)" \
  dpdk_probe "$probe_want" "${RUN[@]}" --privileged --net-host "$agent_img" p-agent
LINES_SHOWN=6 check "node-agent: DPDK probe as the chart's unprivileged vdev agent (read-only, seccomp, NET_RAW + NET_ADMIN only)" \
  dpdk_probe "$probe_want" "${RUN[@]}" --net-host --read-only --seccomp "${net_caps[@]}" \
  --mount type=tmpfs,src=tmpfs,dst=/tmp,options=rw:nosuid:nodev "$agent_img" p-agent-unpriv

# The operator and client images run as nonroot (65532, named in the base's /etc/passwd), the agent as root.
for app in operator:nonroot node-agent:root client:nonroot; do
  LINES_SHOWN=1 check "${app%%:*}: runs as ${app#*:}" bash -c '"$@" 2>&1 | grep -E "^ *user.name = $0\$"' "${app#*:}" \
    "${RUN[@]}" "docker.io/$REGISTRY/${app%%:*}:$TAG" "u-${app%%:*}" java -XshowSettings:properties -version
done

started() { # APP, log file, ctr run args...: run detached-in-background until "started in", print the time, stop it
  local app=$1 log=$2; shift 2
  local t0 t1 pid
  t0=$(ms)
  "${CTR[@]}" run --runc-root "$T/runc" --fifo-dir "$T/fifo" --net-host "$@" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    grep -q 'started in' "$log" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  t1=$(ms)
  if grep -q 'started in' "$log"; then
    grep -m1 'started in' "$log" | sed 's/^/    /' >&2
    say "ok   $app: from ctr run to \"started in\": $((t1 - t0)) ms"
  else
    tail -20 "$log" | sed 's/^/    /' >&2
    say "FAIL $app: no \"started in\" line"; failed=1
  fi
  "${CTR[@]}" tasks kill -s TERM "s-$app" >/dev/null 2>&1 || true
  wait $pid 2>/dev/null || true
  "${CTR[@]}" containers delete "s-$app" >/dev/null 2>&1 || true
  grep -i -E 'ERROR|Exception' "$log" | head -5 | sed 's/^/    log: /' >&2 || true
}

if [ "$cluster" = 1 ]; then
  [ -x "$root/e2e/controlplane" ] || die "e2e/controlplane missing"
  cp_started=1
  env "${CP_ENV[@]}" "$root/e2e/controlplane" up >/dev/null 2>&1 || die "private control plane did not start ($T/cp/logs)"
  install -m 644 "$T/cp/kubeconfig" "$T/kubeconfig"      # readable by the operator's uid 65532
  KUBECONFIG=$T/kubeconfig kubectl apply -f "$root/crds/generated/" >/dev/null
  say "private control plane up (127.0.0.1:17443), CRDs applied"
  kube=(--mount "type=bind,src=$T/kubeconfig,dst=/etc/reflex/kubeconfig,options=rbind:ro" --env KUBECONFIG=/etc/reflex/kubeconfig)

  started operator "$T/operator.log" "${kube[@]}" --env QUARKUS_HTTP_PORT=18080 \
    "docker.io/$REGISTRY/operator:$TAG" s-operator

  truncate -s 64M "$T/device.img"
  started node-agent "$T/agent.log" "${kube[@]}" --privileged \
    --mount "type=bind,src=$T,dst=/data,options=rbind:rw" \
    "docker.io/$REGISTRY/node-agent:$TAG" s-node-agent "${agent_ep[@]}" \
    --node images-test --address 127.0.0.1 --http 127.0.0.1:19500 --state-dir /data/agent-state \
    --device /data/device.img,engine=file,name=images-test-dev
  KUBECONFIG=$T/kubeconfig kubectl get flashdevices 2>&1 | sed 's/^/    /' >&2 || true
fi

if [ "$failed" = 0 ]; then say "all checks passed"; else say "some checks FAILED"; fi
exit $failed

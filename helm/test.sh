#!/usr/bin/env bash
# Tests of the chart helm/reflex, against a real kube-apiserver (e2e/controlplane on its own ports and state dir):
#
#   1. the chart's CRDs are crds/generated/ byte for byte (helm/reflex/sync-crds.sh copies them); no build output
#      (*.class, *.jar) in the chart
#   2. helm lint --strict for each row of the values matrix: default, ci/e2e-values.yaml, tests/full-values.yaml
#      (2 replicas + leader election, per-node devices, create= file devices with their hostPaths, hugepages,
#      monitoring, dashboards, NetworkPolicy), tests/dpdk-values.yaml (DPDK ports on a bound NIC on two nodes,
#      privileged, hugepages), tests/dpdk-vdev-values.yaml (a DPDK vdev, net_af_packet: unprivileged but NET_RAW)
#   3. the schema refuses unknown keys at every level and bad values; the template's own checks fire
#   4. helm template of each row, with assertions on the objects (tests/check_render.py)
#   5. every reflex_* metric in the dashboard and the alerts is one the code exports (tests/check_metrics.py)
#   6. promtool check rules + promtool test rules (tests/alerts.test.yaml) on the rendered PrometheusRule
#   7. kubectl apply --dry-run=server of each rendering (CRDs included) on the API server; the monitoring.coreos.com
#      kinds (ServiceMonitor, PodMonitor, PrometheusRule) are left out: that server has no Prometheus Operator CRDs
#   8. Pod Security admission: the operator's pod passes "restricted", the agent's needs "privileged"
#   9. helm install (ci/e2e-values.yaml), then RBAC with kubectl auth can-i as each service account: what it must do
#      is allowed, what it must not is denied; helm upgrade; helm uninstall leaves only the CRDs
#
#   helm/test.sh            # ~1 min once helm, promtool and the control plane binaries are cached
#   helm/test.sh --offline  # steps 1-6 only: no API server (no etcd/kube-apiserver binaries, ports or root needed)
#
# Needs: helm (e2e/bin/build-helm builds it), kube-apiserver + etcd (e2e/bin/build-controlplane), kubectl, python3
# with PyYAML, promtool (PATH, or extracted from Debian's prometheus package into the
# cache: no service is installed or started). Environment: HELM, PROMTOOL, REFLEX_HELM_TEST_DIR (default
# /var/tmp/reflex-helm-test), KEEP=1 leaves the control plane running, OFFLINE=1 is --offline.
set -euo pipefail
OFFLINE=${OFFLINE:-0}
case "${1:-}" in
  "") ;;
  --offline) OFFLINE=1 ;;
  -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  *) echo "helm/test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
chart=$here/reflex
# shellcheck source=../e2e/versions.env
source "$root/e2e/versions.env"

TEST_DIR=${REFLEX_HELM_TEST_DIR:-/var/tmp/reflex-helm-test}
export REFLEX_CP_DIR=${REFLEX_CP_DIR:-$TEST_DIR/cp}
export REFLEX_APISERVER_PORT=${REFLEX_APISERVER_PORT:-19443}
export REFLEX_ETCD_PORT=${REFLEX_ETCD_PORT:-19379}
export REFLEX_ETCD_PEER_PORT=${REFLEX_ETCD_PEER_PORT:-19380}
KUBE_VERSION=$REFLEX_K8S_VERSION
NS=reflex-system
RELEASE=reflex
APP=app

fails=0
passes=0
step() { printf '\n== %s\n' "$*"; }
ok() { passes=$((passes + 1)); printf '  ok   %s\n' "$*"; }
bad() { fails=$((fails + 1)); printf '  FAIL %s\n' "$*"; }
# expect_ok DESCRIPTION CMD...: the command must succeed (its output is shown on failure).
expect_ok() {
  local what=$1 log; shift
  if log=$("$@" 2>&1); then ok "$what"; else bad "$what"; printf '%s\n' "$log" | sed 's/^/       /' | tail -20; fi
}
expect_fail() {
  local what=$1 pattern=$2 log; shift 2
  if log=$("$@" 2>&1); then bad "$what (succeeded)"
  elif grep -qE "$pattern" <<<"$log"; then ok "$what"
  else bad "$what (failed, but not with /$pattern/)"; printf '%s\n' "$log" | sed 's/^/       /' | tail -5; fi
}

mkdir -p "$TEST_DIR"
work=$(mktemp -d "$TEST_DIR/run.XXXXXX")
cp_started=0
cleanup() {
  local rc=$?
  if [ "$cp_started" = 1 ] && [ "${KEEP:-0}" != 1 ]; then "$root/e2e/controlplane" down >/dev/null 2>&1 || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# ---- tools --------------------------------------------------------------------------------------------------------
HELM=${HELM:-}
if [ -z "$HELM" ]; then HELM=$("$root/e2e/bin/build-helm" --print); fi
"$HELM" version --short >/dev/null || { echo "helm/test.sh: $HELM does not run" >&2; exit 1; }
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$PROMTOOL" ]; then
  # Debian's prometheus package carries promtool; unpack it instead of installing (no service to start or stop).
  pdir=$REFLEX_CACHE/promtool
  if [ ! -x "$pdir/usr/bin/promtool" ]; then
    echo "helm/test.sh: fetching promtool from Debian's prometheus package into $pdir" >&2
    mkdir -p "$pdir/deb"
    (cd "$pdir/deb" && apt-get download prometheus >/dev/null 2>&1) \
      || { echo "helm/test.sh: apt-get download prometheus failed; install promtool or set PROMTOOL" >&2; exit 1; }
    dpkg-deb -x "$pdir"/deb/prometheus_*.deb "$pdir" && rm -rf "$pdir/deb" "$pdir/usr/bin/prometheus"
  fi
  PROMTOOL=$pdir/usr/bin/promtool
fi
python3 -c 'import yaml' 2>/dev/null || { echo "helm/test.sh: python3 with PyYAML is needed" >&2; exit 1; }
echo "helm $("$HELM" version --short), $("$PROMTOOL" --version 2>&1 | head -1), kubectl $(kubectl version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])'), Kubernetes $KUBE_VERSION"

CASES=(default e2e full dpdk dpdk-vdev)
# values CASE: the values file of one row of the matrix (default: the chart's own values.yaml).
values() {
  case $1 in
    default) echo "$chart/values.yaml" ;;
    e2e) echo "$chart/ci/e2e-values.yaml" ;;
    full) echo "$here/tests/full-values.yaml" ;;
    dpdk) echo "$here/tests/dpdk-values.yaml" ;;
    dpdk-vdev) echo "$here/tests/dpdk-vdev-values.yaml" ;;
  esac
}
render() { # render CASE [more helm args]: helm template of one row of the matrix
  local c=$1; shift
  "$HELM" template "$RELEASE" "$chart" -n "$NS" --kube-version "$KUBE_VERSION" -f "$(values "$c")" "$@"
}

# ---- 1. one source of truth ---------------------------------------------------------------------------------------
step "CRDs are up to date; no build output in the chart"
if diff -r "$root/crds/generated" "$chart/crds" >"$work/crd.diff" 2>&1; then
  ok "helm/reflex/crds == crds/generated ($(ls "$chart/crds" | wc -l) CRDs)"
else
  bad "helm/reflex/crds differs from crds/generated: run helm/reflex/sync-crds.sh"; head -20 "$work/crd.diff" | sed 's/^/       /'
fi
built=$(find "$chart" -type f \( -name '*.class' -o -name '*.jar' \) | sed "s|^$chart/||")
if [ -z "$built" ]; then ok "no *.class or *.jar in helm/reflex"; else bad "build output in the chart: $built"; fi

# ---- 2. lint ------------------------------------------------------------------------------------------------------
step "helm lint --strict"
for c in "${CASES[@]}"; do
  expect_ok "lint [$c]" "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$chart" -f "$(values "$c")"
done

# ---- 3. schema and template checks ----------------------------------------------------------------------------------
step "values.schema.json refuses what it should"
for key in bogus operator.bogus operator.image.bogus operator.placement.bogus operator.placement.ports.bogus \
           operator.probes.startup.bogus agent.bogus agent.hugepages.bogus agent.updateStrategy.bogus \
           agent.network.bogus agent.dpdk.bogus monitoring.bogus monitoring.prometheusRule.bogus dashboards.bogus networkPolicy.bogus; do
  expect_fail "unknown key $key" "Additional property bogus is not allowed" render default --set "$key=1"
done
expect_fail "agent.poll=spin" "must be one of" render default --set agent.poll=spin
expect_fail "unknown key agent.connections.bogus" "Additional property bogus is not allowed" render default --set agent.connections.bogus=1
expect_fail "agent.connections.maxConnectRate=-1" "[Mm]ust be greater than or equal to 0" render default --set agent.connections.maxConnectRate=-1
expect_fail "agent.connections.connectBurst=0" "[Mm]ust be greater than or equal to 1" render default --set agent.connections.connectBurst=0
expect_fail "agent.connections.maxBuffersPerConnection=16MB" "[Dd]oes not match pattern" render default --set agent.connections.maxBuffersPerConnection=16MB
expect_fail "operator.placement.policy=random" "must be one of" render default --set operator.placement.policy=random
expect_fail "agent.updateStrategy.type=Always" "must be one of" render default --set agent.updateStrategy.type=Always
expect_fail "device spec with ';'" "[Dd]oes not match pattern" render default --set 'agent.devices={/a;/b}'
expect_fail "agent.fileDevices is gone (create=SIZE in the device spec instead)" \
  "Additional property fileDevices is not allowed" render default \
  --set 'agent.fileDevices[0].path=/var/lib/reflex/a.img' --set 'agent.fileDevices[0].size=1Gi'
expect_fail "relative agent.hostPaths entry" "[Dd]oes not match pattern" render default --set 'agent.hostPaths={var/a}'
expect_fail "agent.hostPaths entry /" "[Dd]oes not match pattern" render default --set 'agent.hostPaths={/}'
expect_fail "agent.hostPaths entry with a trailing /" "[Dd]oes not match pattern" render default --set 'agent.hostPaths={/var/a/}'
expect_fail "agent.hostPaths twice the same" "unique" render default --set 'agent.hostPaths={/var/a,/var/a}'
expect_fail "agent.hostPaths = the state dir" "already mounted" render default --set 'agent.hostPaths={/var/lib/reflex/agent}'
expect_fail "agent.hostPaths = /dev" "already mounted" render default --set 'agent.hostPaths={/dev}'
expect_fail "create= device outside agent.hostPaths" "under none of agent.hostPaths" render default \
  --set-json 'agent.devices=["/var/lib/reflex/x/a.img,create=1Gi"]'
expect_fail "create= device in a sibling of a hostPath (/var/lib/reflex/e2e2 vs /var/lib/reflex/e2e)" \
  "under none of agent.hostPaths" render e2e --set-json 'agent.devices=["/var/lib/reflex/e2e2/a.img,create=1Gi"]'
expect_fail "create= device of agent.nodeDevices outside agent.hostPaths" "under none of agent.hostPaths" render default \
  --set-json 'agent.nodeDevices={"node-a":["/srv/a.img,model=m,create=1Gi"]}'
expect_fail "javaOptions without the FFM flags" "[Dd]oes not match pattern" render default --set agent.javaOptions=-Xmx1g
expect_fail "ports.min above ports.max" "is above max" render default --set operator.placement.ports.min=30000
expect_fail "agent.nbdPort among the tenant ports" "overlaps operator.placement.ports" render default --set agent.nbdPort=20100
expect_fail "agent.nbdPort 15 below the tenant ports (a node's 16 devices would reach them)" "overlaps operator.placement.ports" \
  render default --set agent.nbdPort=19990
expect_fail "agent.nbdPort above 65520" "less than or equal to 65520" render default --set agent.nbdPort=65530
# DPDK: values the schema refuses, then combinations only the template can check.
expect_fail "agent.network.engine=rdma" "must be one of" render dpdk --set agent.network.engine=rdma
expect_fail "DPDK MTU 1500 (a 4 KiB block per datagram needs jumbo frames)" "greater than or equal to 4200" \
  render dpdk --set agent.network.mtu=1500
expect_fail "DPDK MTU 4199" "greater than or equal to 4200" render dpdk-vdev --set agent.network.mtu=4199
expect_fail "DPDK MTU above 9600" "less than or equal to 9600" render dpdk --set agent.network.mtu=16000
expect_fail "agent.dpdk.nic=eth1 (a PCI address or auto)" "[Dd]oes not match pattern" render dpdk --set agent.dpdk.nic=eth1
expect_fail "agent.dpdk.claim=Always" "must be one of" render dpdk --set agent.dpdk.claim=Always
expect_fail "agent.dpdk.address without a prefix" "[Dd]oes not match pattern" render dpdk-vdev --set agent.dpdk.address=192.168.50.7
expect_fail "agent.dpdk.nodeAddresses entry without a prefix" "[Dd]oes not match pattern" render dpdk \
  --set-json 'agent.dpdk.nodeAddresses={"node-a":"10.0.9.1"}'
expect_fail "agent.dpdk.nodeAddresses key that is no node name" "[Dd]oes not match pattern" render dpdk \
  --set-json 'agent.dpdk.nodeAddresses={"Node A":"10.0.9.1/24"}'
expect_fail "DPDK without an address" "give the DPDK port an address" render dpdk-vdev --set agent.dpdk.address=
expect_fail "DPDK without hugepages (and without --no-huge)" "needs agent.hugepages.enabled" render dpdk \
  --set agent.hugepages.enabled=false
expect_fail "DPDK with --in-memory and --no-huge (the EAL refuses the pair)" "refuses --in-memory together with --no-huge" \
  render dpdk-vdev --set 'agent.dpdk.args=--no-huge --in-memory --vdev net_af_packet0\,iface=eth1'
expect_fail "unprivileged DPDK on a NIC (vfio, sysfs binding)" "needs agent.privileged" render dpdk \
  --set agent.privileged=false --set agent.hugepages.pagesPerNumaNode=0
expect_fail "unprivileged DPDK with the NIC picked automatically" "needs agent.privileged" render dpdk-vdev \
  --set agent.dpdk.args= --set agent.hugepages.enabled=true
expect_fail "unprivileged net_af_xdp (an XDP program)" "net_af_xdp loads an XDP program" render dpdk-vdev \
  --set 'agent.dpdk.args=--no-huge --no-shconf --vdev net_af_xdp0\,iface=eth1'
expect_ok "DPDK on a vdev without privilege, hugepages or a NIC renders" render dpdk-vdev

# ---- 4. render matrix -----------------------------------------------------------------------------------------------
step "helm template: values matrix"
for c in "${CASES[@]}"; do
  mkdir -p "$work/$c"
  if render "$c" > "$work/$c/all.yaml" 2>"$work/$c/err"; then
    if python3 "$here/tests/check_render.py" "$c" "$work/$c/all.yaml" "$chart" "$work/$c"; then
      ok "render [$c]: $(grep -c '^kind:' "$work/$c/all.yaml") objects, assertions hold"
    else bad "render [$c]: assertions"; fi
  else bad "render [$c]"; cat "$work/$c/err"; fi
done
if render default --include-crds | grep -q 'kind: "CustomResourceDefinition"'; then ok "CRDs installed from crds/ (--include-crds)"; else bad "no CRDs in the chart"; fi

# ---- 5. metric names ------------------------------------------------------------------------------------------------
step "dashboard and alert queries use exported metrics"
expect_ok "dashboards are JSON" python3 -c 'import json,sys; [json.load(open(f)) for f in sys.argv[1:]]' "$chart"/files/grafana-dashboards/*.json
expect_ok "metric names exist in DataplaneMetrics/AgentMetrics/OperatorMetrics" \
  python3 "$here/tests/check_metrics.py" "$root" "$chart"/files/grafana-dashboards/*.json "$work/full/rules.yaml"

# ---- 6. promtool -----------------------------------------------------------------------------------------------------
step "promtool"
expect_ok "promtool check rules (rendered PrometheusRule spec)" "$PROMTOOL" check rules "$work/full/rules.yaml"
# The PodMonitor's job for release "reflex" in reflex-system, as the unit tests' series carry it.
mkdir -p "$work/alerts"
render full --set monitoring.prometheusRule.agentJob=reflex-system/reflex-node-agent \
  --show-only templates/072-PrometheusRule-reflex.yaml \
  | python3 -c 'import sys,yaml; yaml.safe_dump(yaml.safe_load(sys.stdin)["spec"], sys.stdout, allow_unicode=True)' \
  > "$work/alerts/rules.yaml"
cp "$here/tests/alerts.test.yaml" "$work/alerts/"
expect_ok "promtool test rules (tests/alerts.test.yaml: each alert fires when it should, and only then)" \
  "$PROMTOOL" test rules "$work/alerts/alerts.test.yaml"

if [ "$OFFLINE" = 1 ]; then
  printf '\n%d passed, %d failed (--offline: the API server checks, 7-9, not run)\n' "$passes" "$fails"
  [ "$fails" = 0 ]; exit
fi

# ---- 7. the API server ---------------------------------------------------------------------------------------------
step "API server (e2e/controlplane on :$REFLEX_APISERVER_PORT, state in $REFLEX_CP_DIR)"
"$root/e2e/bin/build-controlplane" >/dev/null
cp_started=1
"$root/e2e/controlplane" up >"$work/controlplane-up.log" 2>&1 || { cat "$work/controlplane-up.log" >&2; exit 1; }
eval "$("$root/e2e/controlplane" env)"
K() { kubectl "$@"; }
# The release namespace runs the privileged agent; the app namespace is where tenants live.
K create namespace "$NS" --dry-run=client -o yaml | K label --local -f - -o yaml \
  pod-security.kubernetes.io/enforce=privileged | K apply -f - >/dev/null
K create namespace "$APP" --dry-run=client -o yaml | K apply -f - >/dev/null
K create namespace restricted --dry-run=client -o yaml | K label --local -f - -o yaml \
  pod-security.kubernetes.io/enforce=restricted | K apply -f - >/dev/null
K create namespace baseline --dry-run=client -o yaml | K label --local -f - -o yaml \
  pod-security.kubernetes.io/enforce=baseline | K apply -f - >/dev/null

step "kubectl apply --dry-run=server (ServiceMonitor, PodMonitor, PrometheusRule skipped: no monitoring.coreos.com CRDs here)"
expect_ok "CRDs (crds/)" K apply --dry-run=server --server-side -f "$chart/crds/"
for c in "${CASES[@]}"; do
  expect_ok "dry-run [$c]: $(grep -c '^kind:' "$work/$c/core.yaml") objects" \
    K apply --dry-run=server -f "$work/$c/core.yaml"
done

step "Pod Security admission"
python3 - "$work/default/pods.yaml" "$work" <<'PY'
import sys, yaml
pods = list(yaml.safe_load_all(open(sys.argv[1])))
for p in pods:
    kind = "operator" if "operator" in p["metadata"]["name"] else "agent"
    yaml.safe_dump(p, open(f"{sys.argv[2]}/pod-{kind}.yaml", "w"))
PY
expect_ok "operator pod admitted under 'restricted'" K apply --dry-run=server -n restricted -f "$work/pod-operator.yaml"
expect_fail "agent pod refused under 'baseline' (privileged, hostNetwork, hostPID, hostPath)" "violates PodSecurity" \
  K apply --dry-run=server -n baseline -f "$work/pod-agent.yaml"
expect_ok "agent pod admitted under 'privileged'" K apply --dry-run=server -n "$NS" -f "$work/pod-agent.yaml"

# ---- 9. install, RBAC, upgrade, uninstall ----------------------------------------------------------------------------
step "helm install (ci/e2e-values.yaml; no kubelet here: objects only)"
expect_ok "helm install" "$HELM" install "$RELEASE" "$chart" -n "$NS" -f "$chart/ci/e2e-values.yaml"
expect_ok "operator Deployment, agent DaemonSet, ServiceAccounts" \
  K -n "$NS" get deployment/reflex-operator daemonset/reflex-node-agent serviceaccount/reflex-operator serviceaccount/reflex-node-agent

"$HELM" get notes "$RELEASE" -n "$NS" > "$work/notes.txt" 2>&1 || true
if grep -q 'kind: FlashTenant' "$work/notes.txt" && grep -q 'get secret db-reflex' "$work/notes.txt" \
   && grep -q 'reflex-system get pods' "$work/notes.txt"; then ok "NOTES.txt: wait for pods and devices, apply a FlashTenant, read its Secret"
else bad "NOTES.txt"; sed 's/^/       /' "$work/notes.txt"; fi

step "RBAC: kubectl auth can-i as each service account"
# can SA EXPECT(yes|no) VERB RESOURCE [kubectl args]
can() {
  local sa=$1 want=$2; shift 2
  local got
  got=$(K auth can-i --as="system:serviceaccount:$NS:$sa" "$@" 2>/dev/null || true)
  if [ "$got" = "$want" ]; then ok "$sa: $want $*"; else bad "$sa: expected $want, got '${got:-error}' for $*"; fi
}
OP=reflex-operator
AG=reflex-node-agent
# Operator: what it does.
for v in get list watch patch; do can $OP yes $v flashtenants.reflex.io -n $APP; done
can $OP yes list flashtenants.reflex.io --all-namespaces
can $OP yes watch flashtenants.reflex.io --all-namespaces
can $OP yes patch flashtenants.reflex.io --subresource=status -n $APP
for v in get list watch patch; do can $OP yes $v flashdevices.reflex.io; done
can $OP yes patch flashdevices.reflex.io --subresource=status
for v in get list watch; do can $OP yes $v nodes; done
for r in services secrets endpointslices.discovery.k8s.io; do
  for v in get create patch delete; do can $OP yes $v $r -n $APP; done
  can $OP yes list $r --all-namespaces
  can $OP yes watch $r --all-namespaces
done
can $OP yes create leases.coordination.k8s.io -n $NS
can $OP yes get leases.coordination.k8s.io/reflex-operator -n $NS
can $OP yes update leases.coordination.k8s.io/reflex-operator -n $NS
can $OP yes patch leases.coordination.k8s.io/reflex-operator -n $NS
# The agents' heartbeat Leases and the leader Lease, read through a watch.
can $OP yes list leases.coordination.k8s.io -n $NS
can $OP yes watch leases.coordination.k8s.io -n $NS
# Operator: what it must not.
for v in create delete deletecollection; do can $OP no $v flashtenants.reflex.io -n $APP; done
for v in create delete; do can $OP no $v flashdevices.reflex.io; done
for v in create update patch delete; do can $OP no $v nodes; done
can $OP no patch nodes --subresource=status
can $OP no update services -n $APP
can $OP no deletecollection secrets -n $APP
can $OP no get leases.coordination.k8s.io/kube-controller-manager -n $NS
can $OP no update leases.coordination.k8s.io/other -n $NS
can $OP no delete leases.coordination.k8s.io/reflex-operator -n $NS
can $OP no get leases.coordination.k8s.io -n kube-system
can $OP no list leases.coordination.k8s.io -n kube-system
can $OP no list leases.coordination.k8s.io --all-namespaces
can $OP no patch leases.coordination.k8s.io/reflex-agent-node-1 -n $NS
can $OP no create leases.coordination.k8s.io -n $APP
can $OP no create pods -n $APP
can $OP no create deployments.apps -n $NS
can $OP no get configmaps -n $NS
can $OP no create customresourcedefinitions.apiextensions.k8s.io
can $OP no create clusterrolebindings.rbac.authorization.k8s.io
can $OP no impersonate serviceaccounts
# Agent: what it does.
for v in get list watch create patch; do can $AG yes $v flashdevices.reflex.io; done
can $AG yes patch flashdevices.reflex.io --subresource=status
for v in get list watch; do can $AG yes $v flashtenants.reflex.io -n $APP; done
can $AG yes watch flashtenants.reflex.io --all-namespaces
can $AG yes patch flashtenants.reflex.io --subresource=status -n $APP
# Its heartbeat: a Lease per node in the release namespace, server-side applied (create, then patch).
can $AG yes create leases.coordination.k8s.io -n $NS
can $AG yes patch leases.coordination.k8s.io/reflex-agent-node-1 -n $NS
# Agent: what it must not.
for v in create update patch delete; do can $AG no $v flashtenants.reflex.io -n $APP; done
for v in update delete deletecollection; do can $AG no $v flashdevices.reflex.io; done
can $AG no update flashtenants.reflex.io --subresource=status -n $APP
# Not even reading tenants' Secrets: it gets the token's hash from the FlashTenant's status.
for v in get list watch create patch update delete; do can $AG no $v secrets -n $APP; done
can $AG no list secrets --all-namespaces
can $AG no get secrets -n $NS
can $AG no create services -n $APP
can $AG no create endpointslices.discovery.k8s.io -n $APP
for v in get list patch; do can $AG no $v nodes; done
for v in get list watch update delete; do can $AG no $v leases.coordination.k8s.io -n $NS; done
can $AG no create leases.coordination.k8s.io -n $APP
can $AG no create leases.coordination.k8s.io -n kube-node-lease
can $AG no create pods -n $NS
# Its calibrated device models: ConfigMaps in the release namespace (no delete; none elsewhere).
for v in get list watch create update patch; do can $AG yes $v configmaps -n $NS; done
can $AG no delete configmaps -n $NS
can $AG no get configmaps -n $APP
can $AG no create configmaps -n kube-system

step "node restriction (ValidatingAdmissionPolicy): an agent writes only its own node's objects"
# The agent's ServiceAccount impersonated with the user extra a pod-bound token carries (its node), server-side
# dry runs: admission runs, nothing is stored.
as_agent() { # NODE ('' : a token without a node) -> kubeconfig path
  local f="$work/as-agent-${1:-none}.kubeconfig"
  K config view --raw --minify -o json | python3 -c '
import json, sys
c = json.load(sys.stdin); u = c["users"][0]["user"]
u["as"] = sys.argv[1]
if sys.argv[2]: u["as-user-extra"] = {"authentication.kubernetes.io/node-name": [sys.argv[2]]}
json.dump(c, open(sys.argv[3], "w"))' "system:serviceaccount:$NS:$AG" "$1" "$f"
  echo "$f"
}
# admitted AS-NODE WANT(yes|no) WHAT OBJECT -- kubectl args ('-' in them: OBJECT on stdin)
admitted() {
  local node=$1 want=$2 what=$3 obj=$4; shift 5
  local out got
  for _ in $(seq 1 20); do   # the policy takes effect a moment after it is created
    if out=$(kubectl --kubeconfig "$(as_agent "$node")" "$@" --dry-run=server 2>&1 <<<"$obj"); then got=yes
    else got=no; fi
    { [ "$got" = "$want" ] || [ "$want" = yes ]; } && break
    sleep 1
  done
  if [ "$got" = no ] && ! grep -q 'ValidatingAdmissionPolicy' <<<"$out"; then
    bad "agent on '${node:-no node}': $what refused, but not by the node-restriction policy"; sed 's/^/       /' <<<"$out" | head -3
  elif [ "$got" = "$want" ]; then ok "agent on '${node:-no node}': $want, $what"
  else bad "agent on '${node:-no node}': expected $want, got $got for $what"; sed 's/^/       /' <<<"$out" | head -3; fi
}
lease() { printf '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s","namespace":"%s"},"spec":{"holderIdentity":"x","leaseDurationSeconds":40}}' "$1" "$NS"; }
device() { printf '{"apiVersion":"reflex.io/v1alpha1","kind":"FlashDevice","metadata":{"name":"%s"},"spec":{"nodeName":"%s","engine":"memory","capacity":"1Gi","deviceModel":{"inline":{"readCost4k":100,"writeCost4k":1000,"tokenLimits":[{"p95Micros":500,"mixedTokensPerSec":1000000,"readOnlyTokensPerSec":2000000}]}}}}' "$1" "$2"; }
if K get validatingadmissionpolicy reflex-node-agent-node-restriction >/dev/null 2>&1; then
  ok "ValidatingAdmissionPolicy reflex-node-agent-node-restriction installed"
  APPLY=(apply --server-side --field-manager=reflex-agent -f -)
  admitted node-1 yes "its own Lease" "$(lease reflex-agent-node-1)" -- "${APPLY[@]}"
  admitted node-1 no "another node's Lease" "$(lease reflex-agent-node-2)" -- "${APPLY[@]}"
  admitted "" no "a token that names no node" "$(lease reflex-agent-node-1)" -- "${APPLY[@]}"
  admitted node-1 yes "a FlashDevice of its node" "$(device nr-dev-1 node-1)" -- "${APPLY[@]}"
  admitted node-1 no "a FlashDevice of another node" "$(device nr-dev-2 node-2)" -- "${APPLY[@]}"
  # Tenants placed on node-2 (status written by the admin, as the operator would).
  K -n "$APP" apply -f - >/dev/null <<<'{"apiVersion":"reflex.io/v1alpha1","kind":"FlashTenant","metadata":{"name":"nr-t"},"spec":{"class":"BE","capacity":"1Gi"}}'
  K -n "$APP" patch flashtenant nr-t --subresource=status --type=merge \
    -p '{"status":{"phase":"Placed","placement":{"device":"d2","node":"node-2","port":20001,"lbaOffset":0,"lbaCount":2097152}}}' >/dev/null
  # What the agent sends: a server-side apply of the status (no read first: it may not get the status).
  status() { printf '{"apiVersion":"reflex.io/v1alpha1","kind":"FlashTenant","metadata":{"name":"nr-t","namespace":"%s"},"status":%s}' "$APP" "$1"; }
  STATUS=(apply --server-side --force-conflicts --subresource=status --field-manager=reflex-agent -f -)
  admitted node-2 yes "Serving on a tenant placed on its node" "$(status '{"phase":"Serving"}')" -- "${STATUS[@]}"
  admitted node-1 no "Serving on a tenant placed on another node" "$(status '{"phase":"Serving"}')" -- "${STATUS[@]}"
  admitted node-2 no "moving a tenant (its placement)" "$(status '{"placement":{"device":"d2","node":"node-1","port":20001,"lbaOffset":0,"lbaCount":2097152}}')" -- "${STATUS[@]}"
  K -n "$APP" delete flashtenant nr-t --wait=false >/dev/null
  # Calibrated device models: ConfigMaps labelled with the agent's node only.
  model_cm() { printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","namespace":"%s","labels":{"reflex.io/node":"%s","reflex.io/device":"d"}},"data":{"model.yaml":"name: d"}}' "$1" "$NS" "$2"; }
  admitted node-1 yes "a model ConfigMap labelled with its node" "$(model_cm reflex-model-nr-1 node-1)" -- "${APPLY[@]}"
  admitted node-1 no "a model ConfigMap labelled with another node" "$(model_cm reflex-model-nr-2 node-2)" -- "${APPLY[@]}"
  admitted node-1 no "any other ConfigMap" "$(model_cm reflex-operator-config node-1)" -- "${APPLY[@]}"
  K -n "$NS" apply -f - >/dev/null <<<"$(model_cm reflex-model-nr-3 node-2)"
  # As the agent applies: forcing conflicts (the labels belong to another manager).
  admitted node-1 no "taking over another node's model ConfigMap" "$(model_cm reflex-model-nr-3 node-1)" -- \
    apply --server-side --force-conflicts --field-manager=reflex-agent -f -
  K -n "$NS" delete configmap reflex-model-nr-3 --wait=false >/dev/null
else
  bad "ValidatingAdmissionPolicy reflex-node-agent-node-restriction missing (agent.nodeRestriction=true)"
fi

step "API Priority and Fairness: the agents' heartbeat Leases on the leader-election priority level"
if fs_uid=$(K get flowschema "$RELEASE-leases" -o jsonpath='{.metadata.uid}' 2>/dev/null) && [ -n "$fs_uid" ]; then
  dangling=$(K get flowschema "$RELEASE-leases" -o jsonpath='{.status.conditions[?(@.type=="Dangling")].status}')
  [ "$dangling" = False ] && ok "FlowSchema $RELEASE-leases points at an existing priority level (leader-election)" \
    || bad "FlowSchema $RELEASE-leases: Dangling=$dangling"
  # Which FlowSchema the API server classified a request into: its response header (kubectl -v=8 prints it).
  classified() { kubectl --kubeconfig "$(as_agent node-1)" -v=8 "$@" --dry-run=server 2>&1 <<<"$(lease reflex-agent-node-1)" \
    | sed -n 's/.*X-Kubernetes-Pf-Flowschema-Uid: *\([^ ]*\).*/\1/Ip' | tail -1; }
  got=$(classified apply --server-side --field-manager=reflex-agent -f -)
  [ "$got" = "$fs_uid" ] && ok "an agent's Lease renewal is classified into $RELEASE-leases" \
    || bad "an agent's Lease renewal went to FlowSchema UID '${got:-none}', not $RELEASE-leases ($fs_uid)"
else
  bad "FlowSchema $RELEASE-leases missing (leasePriority=true)"
fi

step "helm upgrade and uninstall"
expect_ok "helm upgrade (2 replicas: leader election on, RollingUpdate)" \
  "$HELM" upgrade "$RELEASE" "$chart" -n "$NS" -f "$chart/ci/e2e-values.yaml" --set operator.replicas=2
le=$(K -n "$NS" get deployment/reflex-operator \
  -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="REFLEX_OPERATOR_LEADER_ELECTION_ENABLED")].value}')
if [ "$le" = true ]; then ok "upgraded operator has leader election on"; else bad "leader election after upgrade: '$le'"; fi
expect_ok "helm uninstall" "$HELM" uninstall "$RELEASE" -n "$NS"
left=$(K get all,serviceaccounts,roles,rolebindings,configmaps,poddisruptionbudgets -n "$NS" \
  -l app.kubernetes.io/instance=$RELEASE -o name 2>/dev/null; \
  K get clusterroles,clusterrolebindings -l app.kubernetes.io/instance=$RELEASE -o name 2>/dev/null)
if [ -z "$left" ]; then ok "nothing of the release left"; else bad "left after uninstall: $left"; fi
if K get crd flashtenants.reflex.io flashdevices.reflex.io >/dev/null 2>&1; then ok "CRDs kept (helm never deletes CRDs)"
else bad "CRDs gone after uninstall"; fi

printf '\n%d passed, %d failed\n' "$passes" "$fails"
[ "$fails" = 0 ]

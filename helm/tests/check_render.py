#!/usr/bin/env python3
"""Assertions on one rendering of the chart (helm/test.sh): check_render.py CASE RENDERED.yaml CHART_DIR [OUT_DIR]

CASE is default, e2e, full, dpdk or dpdk-vdev (the values matrix). Prints one line per failed assertion and exits 1 if any failed.
With OUT_DIR, also writes there: core.yaml (the kinds a plain API server knows: everything but monitoring.coreos.com),
rules.yaml (the PrometheusRule's spec, for promtool) and pods.yaml (each workload's pod template as a Pod, for the
Pod Security admission check).
"""
import json
import os
import re
import sys

import yaml

case, rendered, chart = sys.argv[1:4]
out = sys.argv[4] if len(sys.argv) > 4 else None
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def kinds(kind):
    return [d for d in docs if d["kind"] == kind]


def one(kind, name_part=""):
    found = [d for d in kinds(kind) if name_part in d["metadata"]["name"]]
    check(len(found) == 1, f"expected one {kind} *{name_part}*, found {[d['metadata']['name'] for d in found]}")
    return found[0] if found else {}


def env(container):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def container(pod_spec, name):
    return next(c for c in pod_spec.get("containers", []) + pod_spec.get("initContainers", []) if c["name"] == name)


MONITORING = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
HOST_PATHS = {"default": [], "e2e": ["/var/lib/reflex/e2e"], "full": ["/mnt/scratch", "/var/lib/reflex/files"], "dpdk": [],
              "dpdk-vdev": ["/var/lib/reflex/files"]}[case]
# Rows whose agents run without privilege, and each row's hugepages (agent.hugepages.size, pagesPerNumaNode).
UNPRIVILEGED = case in ("e2e", "dpdk-vdev")
HUGEPAGES = {"full": ("512Mi", 256), "dpdk": ("1Gi", 512)}.get(case)
# The DPDK port per agent set (by its node, "" for the default set): the flags it must carry, or None (kernel TCP).
DPDK = {
    "dpdk": {"node-a": ["--net=dpdk", "--mtu=9000", "--dpdk-address=10.0.9.1/24", "--dpdk-nic=0000:3b:00.1,claim=IfUnused"],
             "node-b": ["--net=dpdk", "--mtu=9000", "--dpdk-address=10.0.9.2/24", "--dpdk-nic=0000:3b:00.1,claim=IfUnused"]},
    "dpdk-vdev": {"": ["--net=dpdk", "--mtu=9000", "--dpdk-address=192.168.50.7/24",
                       "--dpdk-args=--no-huge --no-shconf -m 512 --no-telemetry "
                       "--vdev net_af_packet0,iface=eth1,qpairs=1,framesz=9216,blocksz=36864,framecnt=512"]},
}.get(case, {})
expected = {
    "default": {"ServiceAccount": 2, "ClusterRole": 2, "ClusterRoleBinding": 2, "Role": 2, "RoleBinding": 2,
                "Service": 1, "Deployment": 1, "PodDisruptionBudget": 1, "DaemonSet": 1},
    "e2e": {"ServiceAccount": 2, "ClusterRole": 2, "ClusterRoleBinding": 2, "Role": 2, "RoleBinding": 2,
            "Service": 1, "Deployment": 1, "PodDisruptionBudget": 1, "DaemonSet": 1, "ConfigMap": 1},
    "full": {"ServiceAccount": 2, "ClusterRole": 2, "ClusterRoleBinding": 2, "Role": 2, "RoleBinding": 2,
             "Service": 1, "Deployment": 1, "PodDisruptionBudget": 1, "DaemonSet": 3, "ConfigMap": 1,
             "NetworkPolicy": 2, "ServiceMonitor": 1, "PodMonitor": 1, "PrometheusRule": 1},
    "dpdk": {"ServiceAccount": 2, "ClusterRole": 2, "ClusterRoleBinding": 2, "Role": 2, "RoleBinding": 2,
             "Service": 1, "Deployment": 1, "PodDisruptionBudget": 1, "DaemonSet": 3, "NetworkPolicy": 2},
    "dpdk-vdev": {"ServiceAccount": 2, "ClusterRole": 2, "ClusterRoleBinding": 2, "Role": 2, "RoleBinding": 2,
                  "Service": 1, "Deployment": 1, "PodDisruptionBudget": 1, "DaemonSet": 1},
}[case]
have = {}
for d in docs:
    have[d["kind"]] = have.get(d["kind"], 0) + 1
check(have == expected, f"kinds: expected {expected}, rendered {have}")

# ---- every object: labels, namespace ---------------------------------------------------------------------------
for d in docs:
    labels = d["metadata"].get("labels", {})
    check(labels.get("app.kubernetes.io/instance") and labels.get("helm.sh/chart"),
          f"{d['kind']}/{d['metadata']['name']}: standard labels missing")

# ---- operator ------------------------------------------------------------------------------------------------------
dep = one("Deployment", "operator")
spec = dep["spec"]["template"]["spec"]
op = container(spec, "operator")
e = env(op)
replicas = dep["spec"]["replicas"]
check(e["REFLEX_OPERATOR_LEADER_ELECTION_ENABLED"] == ("true" if replicas > 1 else "false"),
      f"leader election {e['REFLEX_OPERATOR_LEADER_ELECTION_ENABLED']} with {replicas} replicas")
check((dep["spec"].get("strategy", {}).get("type") == "Recreate") == (replicas == 1),
      "one replica without leader election must use the Recreate strategy (never two placing)")
check(e["REFLEX_OPERATOR_LEADER_ELECTION_LEASE_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}},
      "lease namespace from the downward API")
check(op["livenessProbe"]["httpGet"]["path"] == "/q/health/live" and op["readinessProbe"]["httpGet"]["path"] == "/q/health/ready",
      "operator probes on /q/health/live and /q/health/ready")
check(op["ports"][0]["containerPort"] == 8080, "operator port 8080")
check(op["securityContext"].get("readOnlyRootFilesystem") and spec["securityContext"].get("runAsNonRoot")
      and op["securityContext"].get("allowPrivilegeEscalation") is False, "operator: non-root, read-only root fs")
check(op["resources"].get("requests") and op["resources"].get("limits"), "operator resources")
check("--enable-native-access" not in e.get("JDK_JAVA_OPTIONS", ""), "operator needs no FFM flags")
if replicas > 1:
    check("podAntiAffinity" in spec.get("affinity", {}), "replicas spread over nodes")
role = one("Role", "operator-leases")
check(any(r.get("resourceNames") == ["reflex-operator"] and set(r["verbs"]) == {"get", "update", "patch"} for r in role["rules"]),
      "lease rule limited to the operator's Lease")
check(all(r.get("resourceNames") or set(r["verbs"]) <= {"create", "list", "watch"} for r in role["rules"]),
      "operator: writes only its own Lease (reads the agents' heartbeats)")
agent_role = one("Role", "node-agent-leases")
check([(r["resources"], sorted(r["verbs"])) for r in agent_role["rules"]]
      == [(["leases"], ["create", "patch"]), (["configmaps"], ["create", "get", "list", "patch", "update", "watch"])],
      "agent: heartbeat Leases (create, patch) and its calibrated models' ConfigMaps (no delete)")

# ---- agents --------------------------------------------------------------------------------------------------------
sets = kinds("DaemonSet")
selectors = [json.dumps(d["spec"]["selector"], sort_keys=True) for d in sets]
check(len(set(selectors)) == len(selectors), "DaemonSet selectors must not overlap")
for ds in sets:
    name = ds["metadata"]["name"]
    ps = ds["spec"]["template"]["spec"]
    ag = container(ps, "agent")
    e = env(ag)
    check(ps.get("hostNetwork") and ps.get("hostPID") and ps.get("dnsPolicy") == "ClusterFirstWithHostNet",
          f"{name}: hostNetwork, hostPID, ClusterFirstWithHostNet")
    node = ds["metadata"].get("annotations", {}).get("reflex.io/node", "")
    dpdk = DPDK.get(node)
    if UNPRIVILEGED:  # no capabilities, but a DPDK vdev (net_af_packet) needs its raw socket and interface flags
        sc = ag["securityContext"]
        caps = {"drop": ["ALL"], "add": ["NET_ADMIN", "NET_RAW"]} if dpdk else {"drop": ["ALL"]}
        check(sc.get("privileged") is False and sc.get("capabilities") == caps
              and sc.get("allowPrivilegeEscalation") is False and sc.get("seccompProfile") == {"type": "RuntimeDefault"},
              f"{name}: unprivileged agent has capabilities {caps} only: {sc}")
    else:
        check(ag["securityContext"].get("privileged") is True, f"{name}: privileged")
    check(e["REFLEX_NODE_NAME"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}, f"{name}: node name from spec.nodeName")
    check(e["REFLEX_NODE_ADDRESS"] == {"fieldRef": {"fieldPath": "status.hostIP"}}, f"{name}: address from status.hostIP")
    check(e["REFLEX_STATE_DIR"] == "/var/lib/reflex/agent/$(REFLEX_NODE_NAME)", f"{name}: state dir")
    check("--nbd-port=10809" in ag["args"], f"{name}: NBD front-ends from port 10809: {ag['args']}")
    check("--calibration-plan=standard" in ag["args"], f"{name}: calibration plan standard: {ag['args']}")
    # agent.connections: the dataplanes' connection limits, as flags (full-values.yaml sets its own).
    conn = {"default": ["--idle-timeout=0", "--request-timeout=30", "--tcp-keepalive=60", "--max-connection-buffers=16Mi",
                        "--max-connect-rate=200", "--connect-burst=200", "--max-tenant-connections=1024"],
            "full": ["--idle-timeout=600", "--request-timeout=5", "--tcp-keepalive=30", "--max-connection-buffers=4Mi",
                     "--max-connect-rate=0.5", "--connect-burst=1000000", "--max-tenant-connections=0"]}
    want = conn.get(case, conn["default"])  # every other values file keeps the chart's defaults
    got = [a for a in ag["args"] if a.split("=")[0] in {c.split("=")[0] for c in want}]
    check(got == want, f"{name}: connection limits {got}, expected {want}")
    check(e["REFLEX_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}},
          f"{name}: namespace of its model ConfigMaps from the downward API")
    for flag in ("--enable-native-access=ALL-UNNAMED", "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED",
                 "--add-opens java.base/sun.nio.ch=ALL-UNNAMED"):
        check(flag in e["JDK_JAVA_OPTIONS"], f"{name}: JDK_JAVA_OPTIONS lacks {flag}")
    paths = {v["name"]: v.get("hostPath", {}).get("path") for v in ps["volumes"]}
    for p in ("/dev", "/sys", "/run/udev", "/var/lib/reflex/agent"):
        check(p in paths.values(), f"{name}: hostPath {p}")
    mounts = {m["mountPath"] for m in ag["volumeMounts"]}
    check({"/dev", "/sys", "/run/udev", "/var/lib/reflex/agent", "/tmp"} <= mounts, f"{name}: mounts {mounts}")
    check(ag["livenessProbe"]["httpGet"] == {"path": "/q/health/live", "port": "http"}
          and ag["readinessProbe"]["httpGet"] == {"path": "/q/health/ready", "port": "http"}
          and ag["ports"][0]["containerPort"] == 9500, f"{name}: probes on :9500 /q/health/*")
    huge = "hugepages-2Mi" in ag["resources"].get("requests", {})
    check(huge == bool(HUGEPAGES), f"{name}: hugepages-2Mi requests only when enabled")
    check(any(v.get("emptyDir", {}).get("medium") == "HugePages-2Mi" for v in ps["volumes"]) == bool(HUGEPAGES)
          and ("/hugepages" in mounts) == bool(HUGEPAGES), f"{name}: HugePages-2Mi volume at /hugepages only when enabled")
    if huge:
        check(ag["resources"]["limits"].get("hugepages-2Mi") == ag["resources"]["requests"]["hugepages-2Mi"] == HUGEPAGES[0],
              f"{name}: hugepages requests == limits == {HUGEPAGES[0]}: {ag['resources']}")
        check(f"--hugepages-2m={HUGEPAGES[1]}" in ag["args"], f"{name}: --hugepages-2m={HUGEPAGES[1]}")
    # The DPDK port: its flags, the EAL's runtime directory (read-only root filesystem); none of it on TCP agents.
    dpdk_args = [a for a in ag["args"] if a.startswith(("--net", "--mtu", "--dpdk-"))]
    check(dpdk_args == (dpdk or []), f"{name}: DPDK flags {dpdk_args}, expected {dpdk}")
    run = [v for v in ps["volumes"] if v["name"] == "dpdk-run"]
    check(bool(run) == bool(dpdk) and ("/var/run/dpdk" in mounts) == bool(dpdk),
          f"{name}: /var/run/dpdk emptyDir only on a DPDK agent")
    if run:
        check(run[0].get("emptyDir", {}).get("medium") == "Memory", f"{name}: /var/run/dpdk in memory")
    strategy = ds["spec"]["updateStrategy"]["type"]
    check(strategy == ("RollingUpdate" if case == "full" else "OnDelete"), f"{name}: update strategy {strategy}")
    check(not ps.get("initContainers"), f"{name}: no init container (the agent creates create=SIZE files itself)")
    if case == "default":
        check("REFLEX_DEVICES" not in e, f"{name}: no devices by default")
    # agent.hostPaths: each a DirectoryOrCreate hostPath, mounted at the same path; nothing else of the node.
    host = {v["name"]: v["hostPath"] for v in ps["volumes"] if "hostPath" in v}
    extra = {n: h for n, h in host.items() if n not in ("dev", "sys", "udev", "state")}
    check(sorted(h["path"] for h in extra.values()) == HOST_PATHS, f"{name}: hostPaths {extra}, expected {HOST_PATHS}")
    for n, h in extra.items():
        check(h.get("type") == "DirectoryOrCreate", f"{name}: hostPath {h['path']} DirectoryOrCreate")
        check({"name": n, "mountPath": h["path"]} in ag["volumeMounts"], f"{name}: {h['path']} mounted at the same path")

check(sorted(d["metadata"].get("annotations", {}).get("reflex.io/node", "") for d in sets
             if any(a == "--net=dpdk" for a in container(d["spec"]["template"]["spec"], "agent")["args"])) == sorted(DPDK),
      f"DPDK agents on exactly {sorted(DPDK)}")

if case == "dpdk":
    egress = next(d for d in kinds("NetworkPolicy") if d["metadata"]["namespace"] == "app")["spec"]["egress"]
    udp = [r for r in egress if any(p.get("protocol") == "UDP" and p.get("port") == 20000 for p in r.get("ports", []))]
    check(len(udp) == 1 and udp[0]["to"] == [{"ipBlock": {"cidr": "10.0.9.1/32"}}, {"ipBlock": {"cidr": "10.0.9.2/32"}}]
          and udp[0]["ports"] == [{"protocol": "UDP", "port": 20000, "endPort": 29999}],
          f"tenant egress to the DPDK ports' addresses over UDP: {egress}")

if case == "e2e":
    ds = sets[0]
    ps = ds["spec"]["template"]["spec"]
    check(env(container(ps, "agent"))["REFLEX_DEVICES"]
          == "/var/lib/reflex/e2e/device.img,create=2Gi,model=virtio-vm-dataplane", "e2e device spec (create=2Gi)")
    check(all("mkfile" not in d["metadata"]["name"] for d in kinds("ConfigMap")), "no mkfile ConfigMap")

if case == "full":
    default = next(d for d in sets if d["metadata"]["labels"]["reflex.io/agent-set"] == "default")
    terms = default["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    check(len(terms) == 1 and {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": ["node-a.example.com", "node-b"]}
          in terms[0]["matchExpressions"] and {"key": "reflex.io/storage", "operator": "In", "values": ["true"]}
          in terms[0]["matchExpressions"], f"default set keeps off pinned nodes and keeps the user's affinity: {terms}")
    check(env(container(default["spec"]["template"]["spec"], "agent"))["REFLEX_DEVICES"]
          == "/dev/nvme*n1,claim=IfUnused;/var/lib/reflex/files/a.img,create=4Gi,model=sample", "default devices ';'-joined")
    pinned = {d["metadata"]["annotations"]["reflex.io/node"]: d for d in sets if "annotations" in d["metadata"]}
    check(set(pinned) == {"node-a.example.com", "node-b"}, f"one set per nodeDevices entry: {set(pinned)}")
    for node, d in pinned.items():
        ps = d["spec"]["template"]["spec"]
        check(ps.get("nodeSelector", {}).get("kubernetes.io/hostname") == node, f"{node}: pinned by hostname")
        check(len(d["metadata"]["name"]) <= 63, f"{node}: name too long")
    check(env(container(pinned["node-b"]["spec"]["template"]["spec"], "agent"))["REFLEX_DEVICES"]
          == "/var/lib/reflex/files/a.img,engine=file,capacity=1Gi;/mnt/scratch/b.img,create=1073741824", "node-b's own list")
    dash = [d for d in kinds("ConfigMap") if "dashboard" in d["metadata"]["name"]][0]
    check(dash["metadata"]["labels"].get("grafana_dashboard") == "1", "dashboard label grafana_dashboard=1")
    for k, v in dash["data"].items():
        json.loads(v)
    nps = {d["metadata"]["namespace"]: d for d in kinds("NetworkPolicy")}
    egress = nps.get("app", {}).get("spec", {}).get("egress", [{}])[0]
    check(egress.get("ports") == [{"protocol": "TCP", "port": 20000, "endPort": 29999},
                                  {"protocol": "TCP", "port": 10809, "endPort": 10824}]
          and egress.get("to") == [{"ipBlock": {"cidr": "10.0.0.0/8"}}], f"tenant egress policy: {egress}")
    pm = one("PodMonitor")
    check(pm["spec"]["podMetricsEndpoints"][0]["path"] == "/metrics", "PodMonitor path")
    sm = one("ServiceMonitor")
    check(sm["spec"]["endpoints"][0]["path"] == "/q/metrics", "ServiceMonitor path")
    alerts = {r["alert"] for g in one("PrometheusRule")["spec"]["groups"] for r in g["rules"]}
    check(alerts == {"ReflexTenantLatencyOverSLO", "ReflexTenantReservationNotMet", "ReflexDeviceOverBudget",
                     "ReflexAgentNotReady"}, f"alerts: {alerts}")

if out:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "core.yaml"), "w") as f:
        yaml.safe_dump_all([d for d in docs if d["kind"] not in MONITORING], f, sort_keys=False)
    rules = kinds("PrometheusRule")
    if rules:
        with open(os.path.join(out, "rules.yaml"), "w") as f:
            yaml.safe_dump(rules[0]["spec"], f, sort_keys=False, allow_unicode=True)
    pods = []
    for d in kinds("Deployment") + kinds("DaemonSet"):
        t = d["spec"]["template"]
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": d["metadata"]["name"] + "-pod", "labels": t["metadata"].get("labels", {})},
                     "spec": t["spec"]})
    with open(os.path.join(out, "pods.yaml"), "w") as f:
        yaml.safe_dump_all(pods, f, sort_keys=False)

for f in failures:
    print(f"  FAIL [{case}] {f}")
sys.exit(1 if failures else 0)

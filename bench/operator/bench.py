#!/usr/bin/env python3
"""Helper of bench/operator/run.sh (stdlib only): generate objects, poll progress, verify, summarise.

  bench.py gen OUT DEVICES TENANTS NAMESPACES CHUNK SEED   devices.yaml, devices-status.yaml, tenants/NNNN.yaml
  bench.py create OUT PAR [PACE]                           POST every tenants/*.yaml object, PAR connections
                                                           (PACE s: spread the creates evenly over PACE seconds)
  bench.py poll OUT TENANTS T0_FILE                        until every tenant has a phase: timeline.jsonl, done.json
  bench.py scrape URL                                      one /q/metrics scrape as JSON (sums per name)
  bench.py verify OUT [--strict]                           tenants/devices from the API server: phases, overcommit
                                                           (--strict: also every tenant decided with a reason, its
                                                           Service on its port, device status agrees)
  bench.py settled                                         exit 0 once every tenant is decided for its generation
                                                           and every device's status counts its tenants
  bench.py summary OUT                                     summary.md + summary.json from the files above
  bench.py create-nodes OUT PAR / nodes-ready N            kwok mode: POST nodes.json; exit 0 once N are Ready
  bench.py probe-watch OUT TIMEOUT                         when the probe tenant is created, Placed, Exposed
  bench.py capture OUT                                     replay.json: what the operator wrote (for the floor)
  bench.py floor OUT PAR THREADS WATCH [REPLAY]            the operator's requests replayed without it: floor.json

Talks to kube-apiserver directly over HTTPS with the control plane's admin certificate (REFLEX_CP_DIR/pki) so
that progress polls can ask for server-side Tables (phase column only, no object bodies).
"""
import json
import os
import random
import re
import ssl
import sys
import time
import urllib.request

GI = 1 << 30
# The device model of every benchmark device (same as crds/examples/flashdevice-memory.yaml).
READ_COST, WRITE_COST = 100, 1000
LIMITS = [(500, 36_000_000, 85_000_000), (1000, 50_000_000, 95_000_000)]  # p95 µs, mixed, read-only tokens/s
DEVICE_CAPACITY = 1024 * GI
DEVICES_PER_NODE = 2


# ---- API access ---------------------------------------------------------------------------------------------------
def _ctx(identity=None):
    """TLS context with a client certificate of REFLEX_CP_DIR/pki: `admin` (system:masters, what kubectl and the
    operator use) unless BENCH_IDENTITY names another one that run.sh issued (`bench`: the benchmark's own creates,
    polls and watches, counted apart from the operator's requests by its own API Priority and Fairness FlowSchema)."""
    d = os.environ["REFLEX_CP_DIR"]
    who = identity or os.environ.get("BENCH_IDENTITY") or "admin"
    if not os.path.exists(f"{d}/pki/{who}.crt"):
        who = "admin"
    c = ssl.create_default_context(cafile=f"{d}/pki/ca.crt")
    c.load_cert_chain(f"{d}/pki/{who}.crt", f"{d}/pki/{who}.key")
    return c


def _port():
    return int(open(os.path.join(os.environ["REFLEX_CP_DIR"], "apiserver.port")).read().strip())


_CTX = None


def api(path, accept="application/json", timeout=120):
    global _CTX
    if _CTX is None:
        _CTX = _ctx()
    req = urllib.request.Request(f"https://127.0.0.1:{_port()}{path}", headers={"Accept": accept})
    with urllib.request.urlopen(req, context=_CTX, timeout=timeout) as r:
        return json.loads(r.read())


def scrape(url):
    """Prometheus text -> {name: sum over series, 'name{k=v}': value for a few interesting labelled series}."""
    out = {}
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
    except Exception as e:  # the operator may be busy; a missed sample is fine
        return {"error": str(e)}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)', line)
        if not m:
            continue
        name, labels, v = m.group(1), m.group(2) or "", float(m.group(3))
        if not name.startswith(("reflex_operator", "jvm_memory_used_bytes", "jvm_gc_pause_seconds", "process_cpu",
                                "jvm_threads_live", "operator_sdk")):
            continue
        out[name] = out.get(name, 0) + v
        if name == "jvm_memory_used_bytes":
            if 'area="heap"' in labels:
                out["heap_used_bytes"] = out.get("heap_used_bytes", 0) + v
        elif name.startswith("reflex_operator_reconcile_seconds_count") or name.startswith(
                "reflex_operator_reconcile_seconds_sum"):
            c = re.search(r'controller="([^"]+)"', labels)
            k = f"{name}:{c.group(1) if c else '?'}"
            out[k] = out.get(k, 0) + v
        elif name.startswith("reflex_operator_placements") or name.startswith("reflex_operator_rejections"):
            k = f"{name}{labels}"
            out[k] = out.get(k, 0) + v
    return out


def apiserver_requests():
    """kube-apiserver's apiserver_request_total summed by verb+resource (how many writes the run cost)."""
    global _CTX
    if _CTX is None:
        _CTX = _ctx()
    port = open(os.path.join(os.environ["REFLEX_CP_DIR"], "apiserver.port")).read().strip()
    req = urllib.request.Request(f"https://127.0.0.1:{port}/metrics")
    with urllib.request.urlopen(req, context=_CTX, timeout=60) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            k = f'{labels.get("verb")} {labels.get("resource")}{"/" + labels["subresource"] if labels.get("subresource") else ""}'
            out[k] = out.get(k, 0) + float(line.rsplit(" ", 1)[1])
        elif line.startswith(("apiserver_flowcontrol_dispatched_requests_total{",
                              "apiserver_flowcontrol_request_execution_seconds_sum{")):
            # Per client: run.sh gives kwok and the benchmark's own client FlowSchemas of their own (priority level
            # exempt, as system:masters has), so the operator's requests are those of FlowSchema "exempt".
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            pre = "fs " if line.startswith("apiserver_flowcontrol_dispatched") else "fs_exec_s "
            k = pre + labels.get("flow_schema", "?")
            out[k] = out.get(k, 0) + float(line.rsplit(" ", 1)[1])
    out["_t"] = time.time()
    return out


# ---- gen ----------------------------------------------------------------------------------------------------------
def tenant_spec(rng):
    x = rng.random()
    if x < 0.02:  # deliberately impossible: ~70M tokens/s > any device's budget -> always refused (NoFit)
        return {"class": "LC", "iops": 300000, "readPercent": 80, "p95LatencyMicros": 1000, "capacity": "10Gi"}
    if x < 0.60:
        return {"class": "LC", "iops": rng.choice([2000, 5000, 10000, 20000, 40000]),
                "readPercent": rng.choice([70, 80, 90, 100]), "p95LatencyMicros": rng.choice([500, 1000, 2000]),
                "capacity": f"{rng.choice([10, 20, 50, 100])}Gi"}
    return {"class": "BE", "capacity": f"{rng.choice([50, 100, 200, 300])}Gi"}


def node_address(node, template):
    """The address of a node: 198.18.0.0/15 (RFC 2544 benchmarking range, never routed) by default; nothing connects
    to it. Loopback (the README's 127.0.0.1) is refused by EndpointSlice validation: NODE_ADDRESS=127.0.0.1 shows it.
    Without kwok it is the devices' reflex.io/node-address annotation; with kwok the Nodes' InternalIP."""
    return template or f"198.18.{node // 250}.{node % 250 + 1}"


KWOK_ANNOTATION = "kwok.x-k8s.io/node"
PROBE = {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant",
         "metadata": {"name": "probe", "namespace": "bench-0"},
         "spec": {"class": "LC", "iops": 2000, "readPercent": 90, "p95LatencyMicros": 1000, "capacity": "10Gi"}}


def gen(out, devices, tenants, namespaces, chunk, seed, address_template=""):
    """BENCH_KWOK=1: also nodes.json, one Node per DEVICES_PER_NODE devices for kwok to run (InternalIP in
    198.18.0.0/15, kwok's annotation), and devices without the node-address annotation (the operator takes the
    Node's InternalIP). BENCH_DEVICES_PER_NODE (default 2). Always writes probe.json (the probe tenant)."""
    rng = random.Random(seed)
    kwok = os.environ.get("BENCH_KWOK") == "1"
    per_node = int(os.environ.get("BENCH_DEVICES_PER_NODE") or DEVICES_PER_NODE)
    os.makedirs(f"{out}/tenants", exist_ok=True)
    dev_docs, status_docs, nodes = [], [], []
    for i in range(devices):
        name = f"fd-{i:04d}"
        node = i // per_node
        meta = {"name": name}
        if not kwok:
            meta["annotations"] = {"reflex.io/node-address": node_address(node, address_template)}
        dev_docs.append({"apiVersion": "reflex.io/v1alpha1", "kind": "FlashDevice", "metadata": meta,
                         "spec": {"nodeName": f"node-{node:04d}", "engine": "memory",
                                  "capacity": "1Ti",
                                  "deviceModel": {"inline": {"readCost4k": READ_COST, "writeCost4k": WRITE_COST,
                                                             "tokenLimits": [{"p95Micros": p, "mixedTokensPerSec": m,
                                                                              "readOnlyTokensPerSec": r}
                                                                             for p, m, r in LIMITS]}}}})
        status_docs.append({"apiVersion": "reflex.io/v1alpha1", "kind": "FlashDevice", "metadata": {"name": name},
                            "status": {"phase": "Ready", "capacityBytes": DEVICE_CAPACITY}})
    if kwok:
        for n in range((devices + per_node - 1) // per_node):
            name = f"node-{n:04d}"
            res = {"cpu": "32", "memory": "256Gi", "pods": "110"}
            nodes.append({"apiVersion": "v1", "kind": "Node",
                          "metadata": {"name": name, "annotations": {KWOK_ANNOTATION: "fake"},
                                       "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                                                  "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
                          "spec": {"taints": [{"key": KWOK_ANNOTATION, "value": "fake", "effect": "NoSchedule"}]},
                          # Nodes take their status on create: kwok keeps these addresses (its node stages copy
                          # .status.addresses) and adds the conditions, nodeInfo and heartbeats.
                          "status": {"addresses": [{"type": "InternalIP", "address": node_address(n, address_template)},
                                                   {"type": "Hostname", "address": name}],
                                     "capacity": res, "allocatable": res}})
        with open(f"{out}/nodes.json", "w") as f:
            f.write("\n".join(json.dumps(n) for n in nodes) + "\n")
    for fn, docs in (("devices.yaml", dev_docs), ("devices-status.yaml", status_docs)):
        with open(f"{out}/{fn}", "w") as f:
            f.write("\n---\n".join(json.dumps(d) for d in docs) + "\n")
    for c in range(0, tenants, chunk):
        with open(f"{out}/tenants/{c // chunk:04d}.yaml", "w") as f:
            docs = []
            for i in range(c, min(c + chunk, tenants)):
                docs.append(json.dumps({"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant",
                                        "metadata": {"name": f"t-{i:05d}", "namespace": f"bench-{i % namespaces}"},
                                        "spec": tenant_spec(rng)}))
            f.write("\n---\n".join(docs) + "\n")
    json.dump(PROBE, open(f"{out}/probe.json", "w"))


# ---- create -------------------------------------------------------------------------------------------------------
def tenant_docs(out):
    docs = []
    for fn in sorted(os.listdir(f"{out}/tenants")):
        docs += [d.strip() for d in open(f"{out}/tenants/{fn}").read().split("\n---\n") if d.strip()]
    return docs


def collection_path(obj):
    """The collection URL of an object (the kinds this benchmark writes)."""
    ns = obj["metadata"].get("namespace")
    kind = obj["kind"]
    if kind == "FlashTenant":
        return f"/apis/reflex.io/v1alpha1/namespaces/{ns}/flashtenants"
    if kind == "Node":
        return "/api/v1/nodes"
    if kind == "Service":
        return f"/api/v1/namespaces/{ns}/services"
    if kind == "Secret":
        return f"/api/v1/namespaces/{ns}/secrets"
    if kind == "EndpointSlice":
        return f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"
    raise ValueError(kind)


class Conn:
    """One persistent HTTPS connection to kube-apiserver; request() retries on 429/5xx and broken connections."""

    def __init__(self, identity=None):
        import http.client
        self.hc = http.client
        self.ctx = _ctx(identity)
        self.port = _port()
        self.c = None

    def request(self, method, path, body=None, ctype="application/json", ok=(200, 201), tries=5):
        """(status, body bytes, seconds): the first answer in `ok` or 409, or the last one."""
        last = (0, b"", 0.0)
        for attempt in range(tries):
            t = time.time()
            try:
                if self.c is None:
                    self.c = self.hc.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=120)
                self.c.request(method, path, body=body, headers={"Content-Type": ctype, "Accept": "application/json"})
                r = self.c.getresponse()
                data = r.read()
                last = (r.status, data, time.time() - t)
                if r.status in ok or r.status == 409 or (r.status != 429 and r.status < 500):
                    return last
            except (OSError, self.hc.HTTPException) as e:
                last = (0, str(e).encode(), time.time() - t)
                if self.c is not None:
                    self.c.close()
                self.c = None
            time.sleep(0.2 * (attempt + 1))
        return last

    def close(self):
        if self.c is not None:
            self.c.close()


def post_docs(docs, par, pace=0.0, on_created=None, probe=None, probe_at=None, identity=None):
    """POSTs every JSON doc (plain creates, no server-side apply) over PAR persistent HTTPS connections, one thread
    each, in order. on_created(i, response object) after each 201 (i = -1: the probe). probe (a JSON doc) is sent by
    the connection that takes doc probe_at, just before it; its send and response times are returned. PACE > 0: the
    i-th create is not sent before t0 + i * PACE / count. Returns (errors, seconds, probe timing)."""
    import threading
    lock, errors, nxt, probe_t = threading.Lock(), [], [0], {}

    def send(conn, body, i):
        path = collection_path(json.loads(body)) + "?fieldManager=reflex-bench"
        t = time.time()
        st, data, _ = conn.request("POST", path, body)
        if st == 201 and on_created is not None:
            on_created(i, json.loads(data))
        if st not in (201, 409):
            with lock:
                errors.append(f"{st} {body[:80]} {data[:200]!r}")
        return t, time.time(), st

    def worker():
        conn = Conn(identity)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(docs):
                break
            if pace > 0:
                time.sleep(max(0.0, t0 + i * pace / len(docs) - time.time()))
            if probe is not None and i == probe_at:
                ts, tr, st = send(conn, probe, -1)
                probe_t.update({"sent": ts, "created": tr, "status": st, "after_creates": i})
            send(conn, docs[i], i)
        conn.close()

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(par)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, time.time() - t0, probe_t


def create(out, par, pace=0.0):
    """Creates every FlashTenant of tenants/*.yaml with plain POSTs (JSON, no server-side apply) over PAR persistent
    HTTPS connections, one thread each. Prints the count, failures and seconds; exits 1 on any failure. PACE > 0:
    the i-th create is not sent before t0 + i * PACE / count (a steady trickle, e.g. while faults are injected).
    BENCH_PROBE_AT=K: the probe tenant (probe.json) is created right after the first K creates were taken; its send
    and response times go to probe-create.json (bench.py probe-watch records when it is Placed and Exposed)."""
    docs = tenant_docs(out)
    probe_at = os.environ.get("BENCH_PROBE_AT")
    probe = open(f"{out}/probe.json").read() if probe_at and os.path.exists(f"{out}/probe.json") else None
    errors, secs, probe_t = post_docs(docs, par, pace, probe=probe, probe_at=int(probe_at) if probe else None)
    if probe_t:
        json.dump(probe_t, open(f"{out}/probe-create.json", "w"))
    print(json.dumps({"created": len(docs) - len(errors), "errors": errors[:10], "seconds": round(secs, 2)}))
    return 1 if errors else 0


def create_nodes(out, par):
    """POSTs nodes.json (the kwok Nodes, status included)."""
    docs = [l for l in open(f"{out}/nodes.json").read().splitlines() if l.strip()]
    errors, secs, _ = post_docs(docs, par)
    print(json.dumps({"nodes": len(docs) - len(errors), "errors": errors[:5], "seconds": round(secs, 2)}))
    return 1 if errors else 0


def nodes_ready(expected):
    """Exit 0 once `expected` kwok Nodes are Ready and have a Lease in kube-node-lease (kwok renews them)."""
    ns = api("/api/v1/nodes?labelSelector=type%3Dkwok")["items"]
    ready = sum(1 for n in ns if any(c["type"] == "Ready" and c["status"] == "True"
                                     for c in (n.get("status") or {}).get("conditions") or []))
    addr = sum(1 for n in ns if any(a["type"] == "InternalIP" for a in (n.get("status") or {}).get("addresses") or []))
    leases = len(api("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")["items"])
    print(json.dumps({"nodes": len(ns), "ready": ready, "with_internal_ip": addr, "leases": leases}))
    return 0 if ready >= expected and leases >= expected and addr >= expected else 1


# ---- probe --------------------------------------------------------------------------------------------------------
def probe_watch(out, timeout):
    """Watches the probe tenant (probe.json) from before its create: client time of its ADDED event, of the first
    event with phase Placed (or Serving), with condition Exposed=True, and with phase Serving (needs a node agent:
    never with kwok). Writes probe.json's results to probe-watch.json when Exposed (or Serving) is seen or on timeout."""
    p = json.load(open(f"{out}/probe.json"))
    ns, name = p["metadata"]["namespace"], p["metadata"]["name"]
    import http.client
    res, t_end = {}, time.time() + timeout
    rv = ""
    while time.time() < t_end and "exposed" not in res:
        c = http.client.HTTPSConnection("127.0.0.1", _port(), context=_ctx(), timeout=max(5, t_end - time.time()))
        try:
            q = (f"/apis/reflex.io/v1alpha1/namespaces/{ns}/flashtenants?watch=1&fieldSelector=metadata.name%3D{name}"
                 f"&allowWatchBookmarks=false&timeoutSeconds={int(max(5, t_end - time.time()))}")
            if rv:
                q += f"&resourceVersion={rv}"
            c.request("GET", q, headers={"Accept": "application/json"})
            r = c.getresponse()
            while True:
                line = r.readline()
                if not line:
                    break
                now = time.time()
                ev = json.loads(line)
                o = ev.get("object") or {}
                rv = (o.get("metadata") or {}).get("resourceVersion", rv)
                st = o.get("status") or {}
                if ev.get("type") == "ADDED":
                    res.setdefault("added", now)
                ph = st.get("phase")
                if ph in ("Placed", "Serving"):
                    res.setdefault("placed", now)
                if ph == "Serving":
                    res.setdefault("serving", now)
                if ph in ("Pending", "Rejected"):
                    res.setdefault("refused", now)
                if any(x.get("type") == "Exposed" and x.get("status") == "True" for x in st.get("conditions") or []):
                    res.setdefault("exposed", now)
                    res["status"] = st
                    break
        except (OSError, http.client.HTTPException, ValueError):
            time.sleep(0.2)
        finally:
            c.close()
    json.dump(res, open(f"{out}/probe-watch.json", "w"), indent=1)
    return 0 if "exposed" in res else 1


# ---- floor: the operator's requests without the operator -----------------------------------------------------------
MANAGED_BY = {"app.kubernetes.io/managed-by": "reflex-operator"}
OPERATOR_STATUS_KEYS = ("phase", "observedGeneration", "placement", "endpoint", "secretName", "tokenHash", "conditions")
OPERATOR_CONDITIONS = ("Admitted", "DeviceReady", "Exposed")
DEFAULT_FLOOR_VERBS = "status=apply,service=apply,endpointslice=apply,secret=create"


def to_yaml(o, ind=""):
    """Block YAML as Fabric8 sends server-side-apply bodies (strings double-quoted: JSON escapes are YAML's)."""
    if isinstance(o, dict):
        if not o:
            return " {}"
        out = []
        for k, v in o.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"\n{ind}{k}:{to_yaml(v, ind + '  ')}")
            else:
                out.append(f"\n{ind}{k}:{to_yaml(v, ind)}")
        return "".join(out)
    if isinstance(o, list):
        if not o:
            return " []"
        out = []
        for v in o:
            body = to_yaml(v, ind + "  ")
            out.append(f"\n{ind}-" + (" " + body.lstrip() if isinstance(v, dict) and v else body))
        return "".join(out)
    return " " + json.dumps(o)


def owner(name, uid="__UID__"):
    return {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant", "name": name, "uid": uid,
            "controller": True, "blockOwnerDeletion": False}


def exposure_bodies(svc, eps, sec):
    """The Service, EndpointSlice and Secret as the operator sends them (io.reflex.operator.tenant.Exposure), from the
    objects as the API server has them: the fields it sets, the owner's uid left as __UID__."""
    def meta(o):
        m = o["metadata"]
        return {"name": m["name"], "namespace": m["namespace"], "labels": m.get("labels") or {},
                "ownerReferences": [owner(m["ownerReferences"][0]["name"])] if m.get("ownerReferences") else []}
    out = {}
    if svc:
        out["service"] = {"apiVersion": "v1", "kind": "Service", "metadata": meta(svc),
                          "spec": {"clusterIP": "None", "ports": [
                              {k: p[k] for k in ("name", "protocol", "port", "targetPort") if k in p}
                              for p in svc["spec"].get("ports") or []]}}
    if eps:
        out["endpointslice"] = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta(eps),
                                "addressType": eps["addressType"],
                                "ports": [{k: p[k] for k in ("name", "protocol", "port") if k in p} for p in eps.get("ports") or []],
                                "endpoints": [{"addresses": e["addresses"], "nodeName": e.get("nodeName"),
                                               "conditions": {"ready": (e.get("conditions") or {}).get("ready")}}
                                              for e in eps.get("endpoints") or []]}
    if sec:
        out["secret"] = {"apiVersion": "v1", "kind": "Secret", "metadata": meta(sec), "type": sec.get("type", "Opaque"),
                         "data": sec.get("data") or {}}
    return out


def capture(out):
    """After the operator run: what the operator wrote, for the floor run to replay (replay.json). Per tenant its
    status (the operator's fields and conditions) and, if placed, its Service/EndpointSlice/Secret; every device's
    final status; and the verbs the operator used (from kube-apiserver's request counts during the run: e.g. status
    by server-side apply or merge patch, Service created or applied, a finalizer or a label patch or not)."""
    a0, a1 = json.load(open(f"{out}/apiserver-before.json")), json.load(open(f"{out}/apiserver-after.json"))
    d = {k: a1[k] - a0.get(k, 0) for k in a1}
    ts = api("/apis/reflex.io/v1alpha1/flashtenants")["items"]
    sel = "?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dreflex-operator"
    svcs = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in api("/api/v1/services" + sel)["items"]}
    epss = {(o["metadata"]["namespace"], o["metadata"]["name"]): o
            for o in api("/apis/discovery.k8s.io/v1/endpointslices" + sel)["items"]}
    secs = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in api("/api/v1/secrets" + sel)["items"]}
    tenants, placed = {}, 0
    for t in ts:
        ns, name = t["metadata"]["namespace"], t["metadata"]["name"]
        st = t.get("status") or {}
        s = {k: st[k] for k in OPERATOR_STATUS_KEYS if k in st}
        s["conditions"] = [c for c in s.get("conditions") or [] if c.get("type") in OPERATOR_CONDITIONS]
        rec = {"status": s, "device": (st.get("placement") or {}).get("device")}
        if st.get("placement"):
            placed += 1
            rec.update(exposure_bodies(svcs.get((ns, name)), epss.get((ns, name + "-reflex")),
                                       secs.get((ns, st.get("secretName") or name + "-reflex"))))
        tenants[f"{ns}/{name}"] = rec
    n = max(1, len(ts))
    one = lambda apply, create: ("apply" if d.get(apply, 0) >= d.get(create, 0) else "create") \
        if d.get(apply, 0) + d.get(create, 0) >= 0.5 * placed else None
    verbs = {"finalizer": d.get("APPLY flashtenants", 0) >= 0.5 * n,
             "label": d.get("PATCH flashtenants", 0) >= 0.5 * placed,
             "status": "apply" if d.get("APPLY flashtenants/status", 0) >= d.get("PATCH flashtenants/status", 0) else "merge",
             "service": one("APPLY services", "POST services"),
             "endpointslice": one("APPLY endpointslices", "POST endpointslices"),
             "secret": one("APPLY secrets", "POST secrets")}
    devs = {o["metadata"]["name"]: o.get("status") or {} for o in api("/apis/reflex.io/v1alpha1/flashdevices")["items"]}
    rep = {"source": out, "verbs": verbs, "tenants": tenants, "devices": devs,
           "device_status_writes": int(d.get("APPLY flashdevices/status", 0) + d.get("PATCH flashdevices/status", 0))}
    json.dump(rep, open(f"{out}/replay.json", "w"))
    print(json.dumps({"tenants": len(tenants), "placed": placed, "verbs": verbs,
                      "device_status_writes": rep["device_status_writes"]}))


def synthetic_replay(out):
    """Without an operator run to copy (FLOOR=only and no REPLAY): every tenant placed round-robin on the devices
    (devices.yaml), with bodies shaped like the operator's (as captured from a small run). Verbs: FLOOR_VERBS."""
    devs = [json.loads(d) for d in open(f"{out}/devices.yaml").read().split("\n---\n") if d.strip()]
    docs = [json.loads(d) for d in tenant_docs(out)] + [json.load(open(f"{out}/probe.json"))]
    verbs = {"finalizer": False, "label": False}
    for kv in (os.environ.get("FLOOR_VERBS") or DEFAULT_FLOOR_VERBS).split(","):
        k, v = kv.split("=")
        verbs[k.strip()] = {"true": True, "false": False, "none": None}.get(v.strip(), v.strip())
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    offsets, ports, tenants = {}, {}, {}
    for i, t in enumerate(docs):
        ns, name = t["metadata"]["namespace"], t["metadata"]["name"]
        d = devs[i % len(devs)]
        dev, node = d["metadata"]["name"], d["spec"]["nodeName"]
        size = qty_bytes(t["spec"]["capacity"])
        off = offsets.get(dev, 0)
        offsets[dev] = off + size
        port = ports.get(node, 20000)
        ports[node] = port + 1
        s = t["spec"]
        tokens = round(s["iops"] * (s.get("readPercent", 100) / 100 * READ_COST + (1 - s.get("readPercent", 100) / 100)
                                    * WRITE_COST)) if s["class"] == "LC" else 0
        addr = node_address(int(node.split("-")[1]), os.environ.get("NODE_ADDRESS", ""))
        cond = lambda typ, reason, msg: {"type": typ, "status": "True", "reason": reason, "message": msg,
                                         "lastTransitionTime": now, "observedGeneration": 1}
        status = {"phase": "Placed", "observedGeneration": 1,
                  "placement": {"device": dev, "node": node, "port": port, "lbaOffset": off // 512,
                                "lbaCount": size // 512, "tokens": tokens},
                  "endpoint": f"{name}.{ns}.svc:{port}", "secretName": f"{name}-reflex",
                  "tokenHash": "sha256:" + "0" * 64,
                  "conditions": [cond("Admitted", "Placed", f"placed on {dev}"),
                                 cond("DeviceReady", "DeviceReady", f"FlashDevice {dev} on node {node} is Ready"),
                                 cond("Exposed", "EndpointReady", f"Service {name} -> {addr}:{port}")]}
        labels = {"app.kubernetes.io/managed-by": "reflex-operator", "reflex.io/tenant": name}
        m = lambda n_, extra=None: {"name": n_, "namespace": ns, "labels": {**labels, **(extra or {})},
                                    "ownerReferences": [owner(name)]}
        b64 = lambda v: __import__("base64").b64encode(str(v).encode()).decode()
        tok = __import__("base64").urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        tenants[f"{ns}/{name}"] = {
            "status": status, "device": dev,
            "service": {"apiVersion": "v1", "kind": "Service", "metadata": m(name),
                        "spec": {"clusterIP": "None", "ports": [{"name": "reflex", "protocol": "TCP", "port": port,
                                                                 "targetPort": port}]}},
            "endpointslice": {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                              "metadata": m(f"{name}-reflex", {"kubernetes.io/service-name": name,
                                                               "endpointslice.kubernetes.io/managed-by": "reflex.io-operator"}),
                              "addressType": "IPv4", "ports": [{"name": "reflex", "protocol": "TCP", "port": port}],
                              "endpoints": [{"addresses": [addr], "nodeName": node, "conditions": {"ready": True}}]},
            "secret": {"apiVersion": "v1", "kind": "Secret", "metadata": m(f"{name}-reflex"), "type": "Opaque",
                       "data": {"endpoint": b64(f"{name}.{ns}.svc:{port}"), "host": b64(f"{name}.{ns}.svc"),
                                "port": b64(port), "lbaCount": b64(size // 512), "capacityBytes": b64(size),
                                "token": b64(tok)}}}
    return {"source": "synthetic", "verbs": verbs, "tenants": tenants, "devices": {}, "device_status_writes": 0}


def floor(out, par, threads, watch, replay_file=""):
    """The API server's floor for the operator's requests: creates the same tenants as the operator run (PAR
    connections, probe included), and for each created tenant replays what the operator wrote for it, from
    replay.json (bench.py capture of an operator run; else synthetic_replay), with THREADS writers (the operator's
    reconciler threads) on persistent connections as the admin user (the operator's identity), in the operator's
    order: [finalizer], Service, EndpointSlice, Secret, status, [label] (an unplaced tenant: [finalizer], status).
    The device status writes the operator made are interleaved evenly. WATCH=1: the operator's watches are open
    meanwhile (tenants, devices, nodes, and the three exposure kinds by label), read and discarded, so every write
    is also delivered to one watcher as it is with the operator. Writes floor.json."""
    import queue
    import threading
    rep = json.load(open(replay_file)) if replay_file else synthetic_replay(out)
    verbs, tenants = rep["verbs"], rep["tenants"]
    docs = tenant_docs(out)
    probe = open(f"{out}/probe.json").read() if os.path.exists(f"{out}/probe.json") else None
    probe_at = int(os.environ["BENCH_PROBE_AT"]) if probe and os.environ.get("BENCH_PROBE_AT") else None
    probe_key = "{namespace}/{name}".format(**json.loads(probe)["metadata"]) if probe else None
    n_total = len(docs) + (1 if probe_at is not None else 0)
    dev_writes = rep.get("device_status_writes") or 0
    stop = threading.Event()

    def watcher(path):
        import http.client
        while not stop.is_set():
            c = http.client.HTTPSConnection("127.0.0.1", _port(), context=_ctx("admin"), timeout=30)
            try:
                c.request("GET", path + ("&" if "?" in path else "?") + "watch=1&allowWatchBookmarks=true&timeoutSeconds=3600")
                r = c.getresponse()
                while not stop.is_set() and r.read1(65536):
                    pass
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
            finally:
                c.close()

    sel = "?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dreflex-operator"
    if watch:
        for path in ("/apis/reflex.io/v1alpha1/flashtenants", "/apis/reflex.io/v1alpha1/flashdevices", "/api/v1/nodes",
                     "/api/v1/services" + sel, "/apis/discovery.k8s.io/v1/endpointslices" + sel, "/api/v1/secrets" + sel):
            threading.Thread(target=watcher, args=(path,), daemon=True).start()
        time.sleep(1)

    q = queue.Queue()
    lock = threading.Lock()
    stats = {"writes": {}, "errors": [], "done": 0, "last_write": 0.0, "device_writes": 0}
    probe_t = {}

    def on_created(i, obj):
        m = obj["metadata"]
        q.put((f'{m["namespace"]}/{m["name"]}', m["uid"], m["name"], m["namespace"]))

    def body_for(o, uid):
        return json.loads(json.dumps(o).replace("__UID__", uid))

    def writer():
        c = Conn("admin")
        fm = "fieldManager=reflex-operator"
        while True:
            item = q.get()
            if item is None:
                break
            key, uid, name, ns = item
            rec = tenants.get(key)
            if rec is None:
                with lock:
                    stats["errors"].append(f"{key}: not in the replay")
                continue
            steps = []
            tpath = f"/apis/reflex.io/v1alpha1/namespaces/{ns}/flashtenants/{name}"
            if verbs.get("finalizer"):
                b = {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant",
                     "metadata": {"name": name, "namespace": ns, "finalizers": ["reflex.io/placement"]}}
                steps.append(("finalizer", "PATCH", tpath + "?fieldManager=flashtenant&force=true",
                              "---" + to_yaml(b) + "\n", "application/apply-patch+yaml"))
            for kind in ("service", "endpointslice", "secret"):
                o = rec.get(kind)
                v = verbs.get(kind)
                if o is None or v is None:
                    continue
                o = body_for(o, uid)
                coll = collection_path(o)
                if v == "apply":
                    steps.append((kind, "PATCH", f'{coll}/{o["metadata"]["name"]}?{fm}&force=true',
                                  "---" + to_yaml(o) + "\n", "application/apply-patch+yaml"))
                else:
                    steps.append((kind, "POST", coll, json.dumps(o), "application/json"))
            st = {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashTenant", "metadata": {"name": name, "namespace": ns},
                  "status": rec["status"]}
            if verbs.get("status") == "merge":
                steps.append(("status", "PATCH", tpath + f"/status?{fm}", json.dumps({"status": rec["status"]}),
                              "application/merge-patch+json"))
            else:
                steps.append(("status", "PATCH", tpath + f"/status?{fm}&force=true", "---" + to_yaml(st) + "\n",
                              "application/apply-patch+yaml"))
            if verbs.get("label") and rec.get("device"):
                steps.append(("label", "PATCH", tpath, json.dumps({"metadata": {"labels": {"reflex.io/device": rec["device"]}}}),
                              "application/merge-patch+json"))
            for what, method, path, body, ctype in steps:
                code, data, _ = c.request(method, path, body, ctype)
                with lock:
                    stats["writes"][what] = stats["writes"].get(what, 0) + 1
                    if code not in (200, 201):
                        stats["errors"].append(f"{what} {key}: {code} {data[:160]!r}")
                if key == probe_key and what == "status":
                    probe_t["status_written"] = time.time()
            with lock:
                stats["done"] += 1
                k = stats["done"]
                stats["last_write"] = time.time()
                dev_due = dev_writes and (k * dev_writes) // n_total > ((k - 1) * dev_writes) // n_total
            if dev_due and rec.get("device") and rep["devices"].get(rec["device"]):
                dn = rec["device"]
                b = {"apiVersion": "reflex.io/v1alpha1", "kind": "FlashDevice", "metadata": {"name": dn},
                     "status": rep["devices"][dn]}
                code, data, _ = c.request("PATCH", f"/apis/reflex.io/v1alpha1/flashdevices/{dn}/status?{fm}&force=true",
                                          "---" + to_yaml(b) + "\n", "application/apply-patch+yaml")
                with lock:
                    stats["device_writes"] += 1
                    stats["last_write"] = time.time()
        c.close()

    ws = [threading.Thread(target=writer) for _ in range(threads)]
    for w in ws:
        w.start()
    t0 = time.time()
    open(f"{out}/t0", "w").write(repr(t0))
    errors, create_s, pt = post_docs(docs, par, on_created=on_created, probe=probe, probe_at=probe_at,
                                     identity=os.environ.get("BENCH_IDENTITY"))
    if pt:
        json.dump(pt, open(f"{out}/probe-create.json", "w"))
    for _ in ws:
        q.put(None)
    for w in ws:
        w.join()
    stop.set()
    res = {"verbs": verbs, "replay": rep.get("source"), "threads": threads, "par": par, "watch": bool(watch),
           "tenants": n_total, "create_seconds": create_s, "create_errors": errors[:10],
           "first_create_to_last_write_s": stats["last_write"] - t0 if stats["done"] else None,
           "replayed_tenants": stats["done"], "writes": stats["writes"], "device_status_writes": stats["device_writes"],
           "errors": stats["errors"][:20], "error_count": len(stats["errors"])}
    if probe_t and pt:
        res["probe_create_to_status_s"] = probe_t["status_written"] - pt["sent"]
    json.dump(res, open(f"{out}/floor.json", "w"), indent=1)
    print(json.dumps(res))
    return 0 if not stats["errors"] and not errors else 1


# ---- poll ---------------------------------------------------------------------------------------------------------
def phases_table():
    """Phase counts from a server-side Table of all FlashTenants (printer columns only)."""
    t = api("/apis/reflex.io/v1alpha1/flashtenants?includeObject=None",
            accept="application/json;as=Table;v=v1;g=meta.k8s.io")
    col = [c["name"] for c in t["columnDefinitions"]].index("Phase")
    counts = {}
    for r in t["rows"]:
        p = r["cells"][col] or "<none>"
        counts[p] = counts.get(p, 0) + 1
    return counts


def poll(out, tenants, t0_file, metrics_url, interval, timeout):
    while not os.path.exists(t0_file):
        time.sleep(0.05)
    t0 = float(open(t0_file).read())
    first_all_created = None
    with open(f"{out}/timeline.jsonl", "w") as tl:
        while True:
            ts = time.time()
            try:
                counts = phases_table()
            except Exception as e:
                counts = {"error": str(e)}
            lat = time.time() - ts
            m = scrape(metrics_url)
            total = sum(v for k, v in counts.items() if k != "error")
            unphased = counts.get("<none>", 0) + (tenants - total)
            rec = {"t": round(time.time() - t0, 3), "list_s": round(lat, 3), "phases": counts, "created": total,
                   "heap_mb": round(m.get("heap_used_bytes", 0) / 2**20, 1),
                   "reconciles_tenant": m.get("reflex_operator_reconcile_seconds_count:flashtenant"),
                   "reconciles_device": m.get("reflex_operator_reconcile_seconds_count:flashdevice"),
                   "ledger_tenants": m.get("reflex_operator_ledger_tenants"),
                   "load1": float(open("/proc/loadavg").read().split()[0])}
            tl.write(json.dumps(rec) + "\n")
            tl.flush()
            print(f"  t={rec['t']:7.1f}s created={total} phases={counts} heap={rec['heap_mb']}MB "
                  f"reconciles(ft/fd)={rec['reconciles_tenant']}/{rec['reconciles_device']}", flush=True)
            if total >= tenants and first_all_created is None:
                first_all_created = rec["t"]
            if "error" not in counts and total >= tenants and unphased == 0:
                # The list reflects the server's state at some point during [ts, ts+lat]: count the end, conservative.
                json.dump({"done": True, "seconds": rec["t"], "phases": counts}, open(f"{out}/done.json", "w"))
                return 0
            if time.time() - t0 > timeout:
                json.dump({"done": False, "seconds": rec["t"], "phases": counts}, open(f"{out}/done.json", "w"))
                return 1
            time.sleep(max(0, interval - (time.time() - ts)))


# ---- verify -------------------------------------------------------------------------------------------------------
def qty_bytes(q):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti)?", str(q))
    return int(m.group(1)) * {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}[m.group(2)]


def rate_at(p95, read_only):
    """DeviceModel.tokenRateAt: linear between points, none stricter than the first, the last's beyond it."""
    pick = (lambda l: l[2]) if read_only else (lambda l: l[1])
    if p95 < LIMITS[0][0]:
        return 0
    for lo, hi in zip(LIMITS, LIMITS[1:]):
        if p95 <= hi[0]:
            return pick(lo) + (pick(hi) - pick(lo)) * (p95 - lo[0]) / (hi[0] - lo[0])
    return pick(LIMITS[-1])


def ts_epoch(s):
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone if s else None


DECIDED = ("Placed", "Serving", "Pending", "Rejected")


def undecided(t):
    """Why a tenant is not decided for its current spec (None when it is): a phase, an Admitted condition with a
    reason (and a message when refused), status.observedGeneration = metadata.generation, a placement if placed."""
    st = t.get("status") or {}
    ph = st.get("phase")
    if ph not in DECIDED:
        return f"phase {ph!r}"
    if st.get("observedGeneration") != t["metadata"].get("generation"):
        return f"observedGeneration {st.get('observedGeneration')} != generation {t['metadata'].get('generation')}"
    adm = [c for c in st.get("conditions") or [] if c["type"] == "Admitted"]
    if not adm or not adm[0].get("reason"):
        return f"{ph} without an Admitted reason"
    if ph in ("Pending", "Rejected") and (adm[0]["status"] != "False" or not adm[0].get("message")):
        return f"{ph} but Admitted={adm[0]['status']} ({adm[0].get('message')!r})"
    if ph in ("Placed", "Serving") and not st.get("placement"):
        return f"{ph} without a placement"
    return None


def settled():
    """Exit 0 once every tenant is decided (see undecided) and every FlashDevice's tenantCount is the number of
    tenants placed there; prints what is still open."""
    ts = api("/apis/reflex.io/v1alpha1/flashtenants")["items"]
    ds = api("/apis/reflex.io/v1alpha1/flashdevices")["items"]
    open_ = [f'{t["metadata"]["namespace"]}/{t["metadata"]["name"]}: {undecided(t)}' for t in ts if undecided(t)]
    on = {}
    for t in ts:
        p = (t.get("status") or {}).get("placement")
        if (t.get("status") or {}).get("phase") in ("Placed", "Serving") and p:
            on[p["device"]] = on.get(p["device"], 0) + 1
    counts = [f'{d["metadata"]["name"]}: tenantCount {(d.get("status") or {}).get("tenantCount")} != {on.get(d["metadata"]["name"], 0)}'
              for d in ds if ((d.get("status") or {}).get("tenantCount") or 0) != on.get(d["metadata"]["name"], 0)]
    print(json.dumps({"tenants": len(ts), "undecided": len(open_), "device_count_mismatches": len(counts),
                      "first": (open_ + counts)[:3]}))
    return 0 if not open_ and not counts else 1


def verify(out, strict=False):
    ts = api("/apis/reflex.io/v1alpha1/flashtenants")["items"]
    ds = api("/apis/reflex.io/v1alpha1/flashdevices")["items"]
    phases, reasons, per_dev, per_node_ports = {}, {}, {}, {}
    created, decided = [], []
    for t in ts:
        st = t.get("status") or {}
        ph = st.get("phase") or "<none>"
        phases[ph] = phases.get(ph, 0) + 1
        created.append(ts_epoch(t["metadata"]["creationTimestamp"]))
        adm = [c for c in st.get("conditions") or [] if c["type"] == "Admitted"]
        if adm:
            reasons[f'{ph}/{adm[0]["reason"]}'] = reasons.get(f'{ph}/{adm[0]["reason"]}', 0) + 1
            decided.append(ts_epoch(adm[0].get("lastTransitionTime")))
        p = st.get("placement")
        if ph in ("Placed", "Serving") and p:
            per_dev.setdefault(p["device"], []).append((t, p))
            per_node_ports.setdefault(p["node"], []).append(p["port"])
    devs = {d["metadata"]["name"]: d for d in ds}
    violations, status_mismatch, max_util = [], 0, 0.0
    for name, items in per_dev.items():
        d = devs.get(name)
        if d is None:
            violations.append(f"{name}: tenants placed on a device that does not exist")
            continue
        cap = (d.get("status") or {}).get("capacityBytes") or qty_bytes(d["spec"]["capacity"])
        lc = [(t["spec"], p) for t, p in items if t["spec"]["class"] == "LC"]
        be = [t for t, p in items if t["spec"]["class"] != "LC"]
        reserved = sum(s["iops"] * (s.get("readPercent", 100) / 100 * READ_COST
                                    + (1 - s.get("readPercent", 100) / 100) * WRITE_COST) for s, _ in lc)
        reserved_status = sum(p.get("tokens") or 0 for _, p in lc)
        if lc:
            strictest = min(s.get("p95LatencyMicros", 1000) for s, _ in lc)
            read_only = not be and all(s.get("readPercent", 100) == 100 for s, _ in lc)
            budget = rate_at(strictest, read_only)
        else:
            budget = rate_at(10**12, False)
        max_util = max(max_util, reserved / budget)
        if reserved > budget * (1 + 1e-9):
            violations.append(f"{name}: LC reservations {reserved:.0f} > budget {budget:.0f} tokens/s")
        if abs(reserved - reserved_status) > len(lc):  # tokens are rounded per tenant
            violations.append(f"{name}: placement.tokens sum {reserved_status} != spec-derived {reserved:.0f}")
        used = sum(qty_bytes(t["spec"]["capacity"]) for t, _ in items)
        if used > cap:
            violations.append(f"{name}: {used} bytes allocated > capacity {cap}")
        ext = sorted((p["lbaOffset"], p["lbaOffset"] + p["lbaCount"]) for _, p in items)
        if any(a[1] > b[0] for a, b in zip(ext, ext[1:])):
            violations.append(f"{name}: overlapping extents")
        ds_ = d.get("status") or {}
        if ds_.get("reservedTokens") is not None and abs(ds_["reservedTokens"] - reserved) > len(lc) + 1:
            status_mismatch += 1
        if ds_.get("tenantCount") is not None and ds_["tenantCount"] != len(items):
            status_mismatch += 1
    for node, ports in per_node_ports.items():
        if len(ports) != len(set(ports)):
            violations.append(f"{node}: duplicate node ports")
    if strict:
        # Every tenant decided with a reason; every placed tenant's Service on its placement's port; every device's
        # status counts exactly the tenants placed there (the operator reports it after the tenant's status write).
        for t in ts:
            why = undecided(t)
            if why:
                violations.append(f'{t["metadata"]["namespace"]}/{t["metadata"]["name"]}: not decided: {why}')
        services = {}
        for ns in sorted({t["metadata"]["namespace"] for t in ts}):
            for s_ in api(f"/api/v1/namespaces/{ns}/services")["items"]:
                services[(ns, s_["metadata"]["name"])] = [p["port"] for p in s_["spec"].get("ports") or []]
        for items in per_dev.values():
            for t, p in items:
                got = services.get((t["metadata"]["namespace"], t["metadata"]["name"]))
                if not got or got[0] != p["port"]:
                    violations.append(f'{t["metadata"]["namespace"]}/{t["metadata"]["name"]}: Service ports {got} '
                                      f'!= placement port {p["port"]}')
        for name, d in devs.items():
            n = len(per_dev.get(name, []))
            if ((d.get("status") or {}).get("tenantCount") or 0) != n:
                violations.append(f"{name}: status.tenantCount {(d.get('status') or {}).get('tenantCount')} != {n} placed")
    created = [c for c in created if c]
    decided = [c for c in decided if c]
    res = {"tenants": len(ts), "devices": len(ds), "phases": phases, "reasons": reasons,
           "devices_used": len(per_dev), "violations": violations[:50], "violation_count": len(violations),
           "device_status_mismatches": status_mismatch, "max_lc_token_utilisation": round(max_util, 4),
           "server_first_create_to_last_admitted_s": (max(decided) - min(created)) if created and decided else None}
    json.dump(res, open(f"{out}/verify.json", "w"), indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != "violations"}))
    for v in violations[:10]:
        print("  VIOLATION", v)
    return 0 if not violations else 2


# ---- summary ------------------------------------------------------------------------------------------------------
GOALS = {"operator_cpu_ms_per_tenant": 5, "requests_per_tenant": 5, "heap_mib": 512, "ratio_to_floor": 1.3}
KWOK_FS, BENCH_FS = "reflex-bench-kwok", "reflex-bench-bench"
# The operator's requests: its own ServiceAccount's FlowSchema (run.sh gives it a token, as in a pod); older runs,
# and the floor's replaying writers, use the admin certificate (system:masters, FlowSchema "exempt").
OPERATOR_SA_FS, ADMIN_FS = "reflex-bench-operator", "exempt"


def _j(d, f):
    return json.load(open(f"{d}/{f}")) if os.path.exists(f"{d}/{f}") else {}


def _delta(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if not k.startswith("_") and b[k] - a.get(k, 0) >= 0.5}


def requests_split(d, tenants):
    """Requests during the measured window of run dir d, by client (APF FlowSchema) and by verb/resource, with the
    background rate of the idle baseline window (the API server's own and idle clients') taken out of the operator's."""
    a0, a1 = _j(d, "apiserver-before.json"), _j(d, "apiserver-after.json")
    if not a1:
        return {}
    win = (a1.get("_t") or 0) - (a0.get("_t") or 0)
    b0, b1 = _j(d, "baseline-before.json"), _j(d, "baseline-after.json")
    bwin = (b1.get("_t") or 0) - (b0.get("_t") or 0)
    dd = _delta(a0, a1)
    bd = _delta(b0, b1) if b1 else {}
    rate = lambda k: bd.get(k, 0) / bwin if bwin > 0 else 0
    fs = {k[3:]: v for k, v in dd.items() if k.startswith("fs ")}
    OPERATOR_FS = OPERATOR_SA_FS if OPERATOR_SA_FS in fs else ADMIN_FS
    verbs = {k: int(v) for k, v in sorted(dd.items(), key=lambda kv: -kv[1]) if not k.startswith("fs")}
    # The API server's own requests (FlowSchema exempt, like the operator's) at the idle baseline's rate; requests on
    # the operator's kinds in the baseline (late device reconciles) are the operator's, not background.
    ours = ("flashtenants", "flashdevices", "services", "endpointslices", "secrets")
    bg_op = sum(v for k, v in bd.items() if not k.startswith("fs") and " " in k and k.split(" ")[1].split("/")[0] in ours)
    exempt_bg = max(0.0, bd.get(f"fs {OPERATOR_FS}", 0) - bg_op) / bwin * win if bwin > 0 else 0
    creates = verbs.get("POST flashtenants", 0)
    op = max(0.0, fs.get(OPERATOR_FS, 0) - exempt_bg)
    res = {"window_s": round(win, 1), "by_flowschema": {k: int(v) for k, v in fs.items()}, "by_verb_resource": verbs,
           "operator_requests": round(op), "background_in_exempt": round(exempt_bg, 1),
           "bench_creates": creates, "bench_requests": int(fs.get(BENCH_FS, 0)), "kwok_requests": int(fs.get(KWOK_FS, 0)),
           "kwok_per_s": round(fs.get(KWOK_FS, 0) / win, 1) if win else None,
           "kwok_baseline_per_s": round(rate(f"fs {KWOK_FS}"), 1) if bwin else None,
           "kwok_by_verb_resource_baseline_per_s": {k: round(v / bwin, 2) for k, v in bd.items()
                                                    if not k.startswith("fs") and k.split(" ")[1].split("/")[0]
                                                    in ("nodes", "leases", "pods", "events")} if bwin else {}}
    if tenants:
        res["per_tenant"] = round((op + creates) / tenants, 2)
        res["operator_per_tenant"] = round(op / tenants, 2)
    return res


def cpu_split(d):
    c0, c1 = _j(d, "cpu-before.json"), _j(d, "cpu-after.json")
    if not c1:
        return _j(d, "cpu.json"), {}, 0
    win = c1["t"] - c0["t"]
    cpu = {k: round(c1[k] - c0.get(k, 0), 2) for k in c1 if k != "t"}
    b0, b1 = _j(d, "baseline-cpu-before.json"), _j(d, "baseline-cpu-after.json")
    bg = {}
    if b1:
        bw = b1["t"] - b0["t"]
        bg = {k: round((b1[k] - b0.get(k, 0)) / bw, 4) for k in b1 if k != "t"}
    return cpu, bg, win


def threads_split(d, tenants):
    t0, t1 = _j(d, "operator-threads-before.json"), _j(d, "operator-threads-after.json")
    if not t1 or not tenants:
        return "-"
    delta = {k: v - t0.get(k, 0) for k, v in t1.items()}
    top = sorted(((v, k) for k, v in delta.items() if v > 0), reverse=True)
    return ", ".join(f"{k} {1000 * v / tenants:.2f}" for v, k in top[:8])


def probe_times(d):
    pc, pw = _j(d, "probe-create.json"), _j(d, "probe-watch.json")
    if not pc or "sent" not in pc:
        return {}
    r = {"created_after": pc.get("after_creates"), "create_s": round(pc["created"] - pc["sent"], 3)}
    for k in ("placed", "exposed", "serving", "refused"):
        if k in pw:
            r[f"to_{k}_s"] = round(pw[k] - pc["sent"], 3)
    return r


def summary(out):
    meta, done, ver = _j(out, "meta.json"), _j(out, "done.json"), _j(out, "verify.json")
    m0, m1 = _j(out, "metrics-before.json"), _j(out, "metrics-after.json")
    fdir = f"{out}/floor"
    fl, fdone = _j(fdir, "floor.json"), _j(fdir, "done.json")
    tl = [json.loads(l) for l in open(f"{out}/timeline.jsonl")] if os.path.exists(f"{out}/timeline.jsonl") else []
    ntenants = (meta.get("tenants") or fl.get("tenants") or 0) + (1 if meta.get("probe") else 0)
    if fl and not meta:
        ntenants = fl.get("tenants") or 0
    secs = done.get("seconds")
    d = lambda k: (m1.get(k) or 0) - (m0.get(k) or 0)
    rec_t, rec_d = d("reflex_operator_reconcile_seconds_count:flashtenant"), d("reflex_operator_reconcile_seconds_count:flashdevice")
    busy_t = d("reflex_operator_reconcile_seconds_sum:flashtenant")
    heap_max = max([r.get("heap_mb") or 0 for r in tl] + [0])
    req = requests_split(out, ntenants) if meta else {}
    cpu, cpu_bg, cpu_win = cpu_split(out) if meta else ({}, {}, 0)
    probe = probe_times(out)
    freq, fcpu_all = requests_split(fdir, ntenants) if fl else {}, cpu_split(fdir) if fl else ({}, {}, 0)
    fcpu, fcpu_bg, fcpu_win = fcpu_all
    fprobe = probe_times(fdir) if fl else {}
    placed = sum(v for k, v in (ver.get("phases") or {}).items() if k in ("Placed", "Serving"))
    create_s = meta.get("create_seconds")
    ms = lambda sec: f"{1000 * sec / ntenants:.1f}" if ntenants and sec is not None else "?"
    ratio = round(secs / fdone["seconds"], 2) if secs and fdone.get("seconds") else None
    ratio_w = round(secs / fl["first_create_to_last_write_s"], 2) if secs and fl.get("first_create_to_last_write_s") else None
    op_cpu_ms = 1000 * cpu.get("operator", 0) / ntenants if ntenants and cpu else None
    # Contention-proof companion of the time ratio: CPU seconds of everything the benchmark runs (operator, API
    # server, etcd, kwok, clients), operator run / floor run -- the time ratio on a machine that had nothing else to do
    # and were CPU-bound in both runs.
    tot = lambda c: sum(c.get(k, 0) for k in ("operator", "kube-apiserver", "etcd", "kwok", "bench"))
    cpu_ratio = round(tot(cpu) / tot(fcpu), 2) if cpu and fcpu and tot(fcpu) else None
    md = []
    if meta:
        rows = [
            ("devices / nodes / tenants", f'{meta.get("devices")} / {meta.get("nodes")} {"kwok Nodes" if meta.get("kwok") else "node names (no Node objects: node-address annotations)"} / {meta.get("tenants")}' + (" (+1 probe)" if meta.get("probe") else "")),
            ("tenant create (plain POSTs, %s connections)" % meta.get("par"),
             f"{create_s:.1f} s ({meta.get('tenants') / create_s:.0f} creates/s)" if create_s else "?"),
            ("**first create -> every tenant has a phase** (client poll every %s s)" % (meta.get("poll") or "POLL"),
             f"**{secs:.1f} s**" + ("" if done.get("done") else " (TIMEOUT, not finished)") if secs is not None else "?"),
            ("same, server timestamps (first creationTimestamp -> last Admitted transition, 1 s resolution)",
             f'{ver.get("server_first_create_to_last_admitted_s")} s'),
            ("outcome (phase/reason)", ", ".join(f"{k}: {v}" for k, v in sorted((ver.get("reasons") or {}).items()))),
            ("placed", f'{placed} of {ver.get("tenants")} on {ver.get("devices_used")} devices'),
            ("probe tenant (created after %s creates): create -> Placed / -> Exposed=True" % probe.get("created_after"),
             f'{probe.get("to_placed_s")} s / {probe.get("to_exposed_s")} s (Serving is reported by a node agent: none runs here)' if probe else "-"),
            ("tenant reconciles (total, per s over the run)",
             f"{rec_t:.0f}, {rec_t / secs:.0f}/s ({rec_t / max(1, ntenants):.2f} per tenant)" if secs else f"{rec_t:.0f}"),
            ("tenant reconcile time (mean; busy threads = sum / wall)",
             f"{1000 * busy_t / rec_t:.1f} ms; {busy_t / secs:.2f}" if rec_t and secs else "?"),
            ("device reconciles (total, per s)", f"{rec_d:.0f}, {rec_d / secs:.0f}/s" if secs else f"{rec_d:.0f}"),
            ("placements / rejection counters (delta)",
             f'{d("reflex_operator_placements_total"):.0f} / {d("reflex_operator_rejections_total"):.0f}'),
            ("**operator heap used** (max sampled / after run)",
             f'**{heap_max:.0f} MiB** / {(m1.get("heap_used_bytes") or 0) / 2**20:.0f} MiB (-Xmx: {meta.get("xmx")})'),
            ("CPU seconds during the run (operator / kube-apiserver / etcd / kwok / bench clients)",
             " / ".join(f'{cpu.get(k, 0):.1f}' for k in ("operator", "kube-apiserver", "etcd", "kwok", "bench"))),
            ("CPU of everything else on the machine during the run (other work; of %.0f core-seconds) / steal" % ((os.cpu_count() or 2) * cpu_win),
             f'{cpu.get("machine", 0) - sum(cpu.get(k, 0) for k in ("operator", "kube-apiserver", "etcd", "kwok", "bench")):.0f} s / {cpu.get("steal", 0):.0f} s' if "machine" in cpu else "-"),
            ("**CPU per tenant, ms** (operator / kube-apiserver / etcd)",
             "**" + " / ".join(ms(cpu.get(k)) for k in ("operator", "kube-apiserver", "etcd")) + "**"),
            ("operator CPU per tenant by thread group, ms (JIT compilers, GC, vert.x event loops, reconcilers, ...)",
             threads_split(out, ntenants)),
            ("idle background CPU (baseline window, % of a core: operator / kube-apiserver / etcd / kwok)",
             " / ".join(f'{100 * cpu_bg.get(k, 0):.1f}' for k in ("operator", "kube-apiserver", "etcd", "kwok")) if cpu_bg else "-"),
            ("**API requests per tenant** (tenant create + operator; kwok and the benchmark's polls excluded)",
             f'**{req.get("per_tenant")}** ({req.get("bench_creates")} creates + {req.get("operator_requests")} by the operator; '
             f'{req.get("background_in_exempt")} background requests of the API server itself taken out)' if req else "?"),
            (f"kwok's requests ({meta.get('nodes')} simulated kubelets: Leases, node status), not counted above",
             f'{req.get("kwok_requests")} ({req.get("kwok_per_s")}/s; idle baseline {req.get("kwok_baseline_per_s")}/s)'
             if req and meta.get("kwok") else "- (no kwok)"),
            ("benchmark client's requests (creates, phase polls, probe watch)", f'{req.get("bench_requests")}' if req else "?"),
            ("overcommit check (LC tokens <= budget, bytes <= capacity, extents, ports)",
             "OK, no violation" if ver.get("violation_count") == 0 else f'{ver.get("violation_count")} VIOLATIONS'),
            ("max LC token utilisation of a device", f'{ver.get("max_lc_token_utilisation")}'),
            ("FlashDevice status vs tenants (reservedTokens/tenantCount mismatches, after %s s settling)" % meta.get("settle_seconds"),
             f'{ver.get("device_status_mismatches")}'),
            ("operator reconcile errors logged (JOSDK 'Uncaught error during event processing')", f'{meta.get("reconcile_errors")}'),
        ]
        md += [f"## Operator scale benchmark {meta.get('date')} ({meta.get('devices')} devices, {meta.get('tenants')} tenants)", "",
               "| what | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    if fl:
        frows = [
            ("replayed", f'{fl.get("replayed_tenants")} tenants from {os.path.basename(str(fl.get("replay")))}; verbs {fl.get("verbs")}; '
                         f'{fl.get("threads")} writers, {fl.get("par")} create connections, watches {"open" if fl.get("watch") else "closed"}'),
            ("writes per step (+ device status writes)", f'{fl.get("writes")} + {fl.get("device_status_writes")}'),
            ("tenant create", f'{fl.get("create_seconds", 0):.1f} s'),
            ("**first create -> every tenant has a phase** (same poll as the operator run)",
             f'**{fdone.get("seconds")} s**' if fdone else "?"),
            ("first create -> last write (writers' own clock)", f'{fl.get("first_create_to_last_write_s", 0):.1f} s'),
            ("probe: create -> status written (writer) / -> Exposed=True (watch)",
             f'{round(fl.get("probe_create_to_status_s") or 0, 3)} s / {fprobe.get("to_exposed_s")} s'),
            ("CPU seconds (kube-apiserver / etcd / kwok / floor clients)",
             " / ".join(f'{fcpu.get(k, 0):.1f}' for k in ("kube-apiserver", "etcd", "kwok", "bench"))),
            ("CPU per tenant, ms (kube-apiserver / etcd)", " / ".join(ms(fcpu.get(k)) for k in ("kube-apiserver", "etcd"))),
            ("CPU of everything else on the machine (of %.0f core-seconds) / steal" % ((os.cpu_count() or 2) * fcpu_win),
             f'{fcpu.get("machine", 0) - sum(fcpu.get(k, 0) for k in ("kube-apiserver", "etcd", "kwok", "bench")):.0f} s / {fcpu.get("steal", 0):.0f} s' if "machine" in fcpu else "-"),
            ("API requests per tenant (creates + replayed writes)", f'{freq.get("per_tenant")}' if freq else "?"),
            ("kwok's requests", f'{freq.get("kwok_requests")} ({freq.get("kwok_per_s")}/s)' if freq else "?"),
            ("errors", f'{fl.get("error_count")} {fl.get("errors", [])[:3]}'),
        ]
        md += ["", "### The API server's floor (the operator's requests replayed without it, fresh control plane)", "",
               "| what | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in frows]
    goals = []
    if meta:
        goals.append(("operator CPU per tenant", f'{op_cpu_ms:.1f} ms' if op_cpu_ms is not None else "?",
                      f'<= {GOALS["operator_cpu_ms_per_tenant"]} ms', op_cpu_ms is not None and op_cpu_ms <= GOALS["operator_cpu_ms_per_tenant"]))
        goals.append(("API requests per tenant", f'{req.get("per_tenant")}', f'<= {GOALS["requests_per_tenant"]}',
                      req.get("per_tenant") is not None and req["per_tenant"] <= GOALS["requests_per_tenant"]))
        goals.append(("operator heap (max sampled)", f"{heap_max:.0f} MiB", f'<= {GOALS["heap_mib"]} MiB',
                      0 < heap_max <= GOALS["heap_mib"]))
    if meta and fl:
        goals.append(("time to place all / the API server's floor", f"{ratio} ({secs:.1f} s / {fdone.get('seconds')} s; "
                      f"vs the writers' last write: {ratio_w})", f'<= {GOALS["ratio_to_floor"]}',
                      ratio is not None and ratio <= GOALS["ratio_to_floor"]))
    if meta and fl:
        goals.append(("same in CPU: all the benchmark's CPU seconds, operator run / floor (contention-proof)",
                      f"{cpu_ratio} ({tot(cpu):.0f} s / {tot(fcpu):.0f} s)", "-", None))
    if meta and probe:
        goals.append(("probe tenant create -> Placed / Exposed, during the burst",
                      f'{probe.get("to_placed_s")} / {probe.get("to_exposed_s")} s', "report", None))
    if goals:
        md += ["", "### Goals (issue 15)", "", "| | measured | goal | met |", "|---|---|---|---|"] + \
              [f"| {a} | {b} | {c} | {'-' if m is None else ('yes' if m else '**no**')} |" for a, b, c, m in goals]
    for title, r in (("operator run", req), ("floor", freq)):
        if r:
            md += ["", f"API requests by verb/resource, {title} ({r.get('window_s')} s window, all clients; "
                       f"by client (FlowSchema): {r.get('by_flowschema')})", "",
                   "| verb resource | requests | per tenant |", "|---|---|---|"] + \
                  [f"| {k} | {v} | {v / ntenants:.2f} |" for k, v in list(r["by_verb_resource"].items())[:25]]
    if meta:
        tlr = [r for r in tl if r.get("load1") is not None]
        loads = [r["load1"] for r in tlr]
        load_run = f"; 1-min load average during the run (polls): mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f}" if loads else ""
        md += ["", f"Machine: {meta.get('machine')}; load average at start {meta.get('load_start')}, end {meta.get('load_end')}{load_run}",
               f"Commit: {meta.get('commit')} (operator/src dirty: {meta.get('operator_dirty')}); operator jar built {meta.get('jar_mtime')}",
               "", "Command:", "", "```", meta.get("command", ""), "```",
               "", "Operator:", "", "```", meta.get("operator_cmd", ""), "```"]
    open(f"{out}/summary.md", "w").write("\n".join(md) + "\n")
    json.dump({"meta": meta, "done": done, "verify": ver, "tenant_reconciles": rec_t, "device_reconciles": rec_d,
               "heap_max_mb": heap_max, "requests": req, "cpu": cpu, "cpu_baseline_per_s": cpu_bg, "cpu_window_s": cpu_win,
               "probe": probe, "floor": {"floor": fl, "done": fdone, "requests": freq, "cpu": fcpu,
                                         "cpu_baseline_per_s": fcpu_bg, "probe": fprobe} if fl else None,
               "ratio_to_floor": ratio, "ratio_to_floor_last_write": ratio_w, "cpu_ratio_to_floor": cpu_ratio,
               "goals": [{"what": a, "measured": b, "goal": c, "met": m} for a, b, c, m in goals]},
              open(f"{out}/summary.json", "w"), indent=1)
    print("\n".join(md))


def profile(jfr_text_file):
    """Aggregates `jfr print --events jdk.ExecutionSample` text: top frames, top packages, first io.reflex frame."""
    stacks, cur = [], None
    for line in open(jfr_text_file):
        line = line.strip()
        if line.startswith("stackTrace = ["):
            cur = []
        elif cur is not None:
            if line.startswith("]") or line == "...":
                stacks.append(cur)
                cur = None
            else:
                cur.append(re.sub(r"\s+line:.*", "", line))
    n = max(1, len(stacks))
    def top(key, k=15):
        c = {}
        for st in stacks:
            v = key(st)
            if v:
                c[v] = c.get(v, 0) + 1
        return [f"{v:6d} {100 * v / n:5.1f}%  {k_}" for k_, v in sorted(c.items(), key=lambda kv: -kv[1])[:k]]
    pkg = lambda st: ".".join(st[0].split("(")[0].split(".")[:3]) if st else None
    ours = lambda st: next((f for f in st if f.startswith("io.reflex")), "(no io.reflex frame)")
    out = [f"{len(stacks)} CPU samples", "", "top frames:"] + top(lambda st: st[0] if st else None) \
        + ["", "top frame's package:"] + top(pkg, 12) + ["", "innermost io.reflex frame on the stack:"] + top(ours, 12)
    print("\n".join(out))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "gen":
        gen(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6] if len(a) > 6 else "")
    elif cmd == "create":
        sys.exit(create(a[0], int(a[1]), float(a[2]) if len(a) > 2 else 0.0))
    elif cmd == "create-nodes":
        sys.exit(create_nodes(a[0], int(a[1])))
    elif cmd == "nodes-ready":
        sys.exit(nodes_ready(int(a[0])))
    elif cmd == "probe-watch":
        sys.exit(probe_watch(a[0], float(a[1])))
    elif cmd == "capture":
        capture(a[0])
    elif cmd == "floor":
        sys.exit(floor(a[0], int(a[1]), int(a[2]), a[3] == "1", a[4] if len(a) > 4 else ""))
    elif cmd == "poll":
        sys.exit(poll(a[0], int(a[1]), a[2], a[3], float(a[4]), float(a[5])))
    elif cmd == "scrape":
        print(json.dumps(scrape(a[0])))
    elif cmd == "apireq":
        print(json.dumps(apiserver_requests()))
    elif cmd == "verify":
        sys.exit(verify(a[0], "--strict" in a[1:]))
    elif cmd == "settled":
        sys.exit(settled())
    elif cmd == "profile":
        profile(a[0])
    elif cmd == "summary":
        summary(a[0])
    else:
        sys.exit(f"unknown command {cmd}")

#!/usr/bin/env bash
# NBD peers: our NBD front-end vs nbdkit and qemu-nbd, with fio's nbd engine as the one client (see dataplane/PROTOCOL.md).
#
#   bench/peers/run.sh
#
# Rows (same 4 GiB file written with real data, bench/lib/common.sh ensure_device; loopback only):
#   reflex-uring   bin/reflex-dataplane --engine uring --nbd        (O_DIRECT, io_uring)
#   nbdkit-file    nbdkit file cache=none fadvise=random            (nbdkit 1.32 has no O_DIRECT: page cache, evicted)
#   qemu-nbd       qemu-nbd --aio=io_uring --cache=none             (O_DIRECT, io_uring)
#   fio-local      fio --ioengine=io_uring --direct=1 on the file   (the floor: no network, no server)
#   reflex-memory  bin/reflex-dataplane --engine memory --size 4Gi --nbd
#   nbdkit-memory  nbdkit memory 4G
# Workloads: 4 KiB randread QD1, randread QD32, randwrite QD32 (time based, --norandommap).
# Server pinned to vCPU SERVER_CPU, fio to vCPU CLIENT_CPU. Each measured run is preceded by an unmeasured warm-up run.
# Server CPU per request = utime+stime delta of the server process (/proc/PID/stat) over the measured run / fio's
# completed requests (fio-local: fio's own usr+sys CPU).
#
# Environment (defaults): REPS=3 DURATION=10 WARMUP=2 SERVER_CPU=1 CLIENT_CPU=0 POLL=block (our loops' idle mode;
#   block = no spinning, comparable CPU with the blocking peers; POLL=auto: the server picks) NET= (our
#   --net: empty = auto, i.e. io_uring networking where available; NET=epoll for the fallback) SYNC_WRITES=false (peers acknowledge writes once the
#   device completed them, without forcing them out of its volatile cache; ours with --sync-writes true adds RWF_DSYNC)
#   DEV=/var/tmp/reflex-bench/dev4g.img MAX_LOAD= (wait for the load average to drop below it first)
#   TARGETS="reflex-uring nbdkit-file qemu-nbd fio-local reflex-memory nbdkit-memory" WORKLOADS="randread-qd1 randread-qd32 randwrite-qd32"
#   (subsets, e.g. TARGETS="reflex-uring fio-local" WORKLOADS=randread-qd1 POLL=busy)
# Results: bench/results/peers-<date>/{runs.jsonl,summary.md,*.json,*.log}
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

REPS=${REPS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
POLL=${POLL:-block}
SYNC_WRITES=${SYNC_WRITES:-false}
NBD_PORT=${NBD_PORT:-11809}
REFLEX_PORT=${REFLEX_PORT:-11244}
ADMIN=${ADMIN_PORT:-19419}

for t in fio nbdkit qemu-nbd nbdinfo taskset curl python3; do command -v "$t" >/dev/null || die "$t is not installed (Debian: fio nbdkit qemu-utils libnbd-bin util-linux curl)"; done
fio --enghelp 2>/dev/null | grep -qw nbd || die "this fio has no nbd engine"

OUT=$REPO/bench/results/peers-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
RUNS=$OUT/runs.jsonl
: > "$RUNS"

declare -a _PEER_PIDS=()
peer_cleanup() {
  local p
  for p in "${_PEER_PIDS[@]}"; do stop_dataplane "$p"; done
  cleanup
}
trap peer_cleanup EXIT

ensure_device
ensure_jars
if [ -n "${MAX_LOAD:-}" ]; then
  declare -F wait_quiet >/dev/null || die "MAX_LOAD needs wait_quiet from bench/lib/common.sh"
  wait_quiet "$MAX_LOAD" "${WAIT_MAX:-600}"
fi
log "results -> $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"
cat > "$OUT/meta.json" <<EOF2
{"date": "$(date -Is)", "machine": "$(nproc) vCPU $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)",
 "commit": "$(git -C "$REFLEX_HOME" rev-parse --short HEAD 2>/dev/null || echo unknown)", "device": "$DEV",
 "reps": $REPS, "duration": $DURATION, "poll": "$POLL", "sync_writes": "$SYNC_WRITES",
 "nbdkit": "$(nbdkit --version | head -1)", "qemu_nbd": "$(qemu-nbd --version | head -1)", "fio": "$(fio --version)",
 "load_start": "$(cut -d' ' -f1-3 /proc/loadavg)"}
EOF2

wait_nbd() { # port pid log
  local i
  for i in $(seq 1 300); do
    nbdinfo --size "nbd://127.0.0.1:$1/default" >/dev/null 2>&1 && return 0
    nbdinfo --size "nbd://127.0.0.1:$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "NBD server exited at start"; }
    sleep 0.1
  done
  cat "$3" >&2; die "NBD server on port $1 not ready after 30 s"
}

# start_server NAME LOG -> SERVER_PID, URI
start_server() {
  local name=$1 logf=$2 pin_cmd="taskset -c $SERVER_CPU"
  case $name in
    reflex-uring|reflex-memory)
      local engine=(--device "$DEV" --engine uring); [ "$name" = reflex-memory ] && engine=(--engine memory --size 4Gi)
      # POLL=auto: the server picks its own (its log's "layout:" line says what and why)
      # shellcheck disable=SC2086
      start_dataplane "$logf" "$SERVER_CPU" $REFLEX_PORT $ADMIN "${engine[@]}" ${POLL:+--poll $POLL} --sync-writes "$SYNC_WRITES" \
        --nbd 127.0.0.1:$NBD_PORT ${NET:+--net $NET}
      URI=nbd://127.0.0.1:$NBD_PORT/default ;;
    nbdkit-file|nbdkit-memory)
      local plugin=(file "file=$DEV" cache=none fadvise=random); [ "$name" = nbdkit-memory ] && plugin=(memory 4G)
      echo "$pin_cmd nbdkit -f --exit-with-parent -i 127.0.0.1 -p $NBD_PORT ${plugin[*]}" > "$logf.cmd"
      $pin_cmd nbdkit -f --exit-with-parent -i 127.0.0.1 -p $NBD_PORT "${plugin[@]}" > "$logf" 2>&1 &
      SERVER_PID=$!; _PEER_PIDS+=("$SERVER_PID")
      URI=nbd://127.0.0.1:$NBD_PORT/ ;;
    qemu-nbd)
      echo "$pin_cmd qemu-nbd -f raw --aio=io_uring --cache=none -b 127.0.0.1 -p $NBD_PORT -x default -t -e 16 $DEV" > "$logf.cmd"
      $pin_cmd qemu-nbd -f raw --aio=io_uring --cache=none -b 127.0.0.1 -p $NBD_PORT -x default -t -e 16 "$DEV" > "$logf" 2>&1 &
      SERVER_PID=$!; _PEER_PIDS+=("$SERVER_PID")
      URI=nbd://127.0.0.1:$NBD_PORT/default ;;
    *) die "unknown server $name" ;;
  esac
  wait_nbd $NBD_PORT "$SERVER_PID" "$logf"
}

proc_ticks() { awk '{sub(/.*\) /,""); print $12+$13}' "/proc/$1/stat"; }

# fio_run TARGET WORKLOAD REP [URI]  (no URI: local io_uring on the file)
fio_run() {
  local target=$1 w=$2 rep=$3 uri=${4:-} rw qd
  case $w in randread-qd1) rw=randread qd=1;; randread-qd32) rw=randread qd=32;; randwrite-qd32) rw=randwrite qd=32;; esac
  local io=(--ioengine=nbd "--uri=$uri")
  [ -z "$uri" ] && io=(--ioengine=io_uring "--filename=$DEV" --direct=1)
  local common=(--name="$w" --rw=$rw --bs=4k --iodepth=$qd --norandommap --randrepeat=0 --time_based --lat_percentiles=1)
  taskset -c "$CLIENT_CPU" fio "${common[@]}" "${io[@]}" --runtime="$WARMUP" --output-format=terse > /dev/null
  local f=$OUT/$target-$w-$rep.json t0 t1
  [ -n "${SERVER_PID:-}" ] && [ -n "$uri" ] && t0=$(proc_ticks "$SERVER_PID")
  taskset -c "$CLIENT_CPU" fio "${common[@]}" "${io[@]}" --runtime="$DURATION" --output-format=json > "$f"
  [ -n "${SERVER_PID:-}" ] && [ -n "$uri" ] && t1=$(proc_ticks "$SERVER_PID")
  python3 - "$f" "$RUNS" "$target" "$w" "$rep" "${t0:-}" "${t1:-}" "$(getconf CLK_TCK)" <<'PY'
import json, sys
f, runs, target, w, rep, t0, t1, hz = sys.argv[1:]
text = open(f).read()
j = json.loads(text[text.index("{"):])["jobs"][0]  # fio's nbd engine prints "fio: connected to NBD server" first
d = j["write" if "randwrite" in w else "read"]
ios = d["total_ios"]
pct = d["lat_ns"]["percentile"]
if t0:
    cpu_us = (int(t1) - int(t0)) / int(hz) * 1e6 / max(1, ios)
else:  # fio-local: fio's own CPU
    cpu_us = (j["usr_cpu"] + j["sys_cpu"]) / 100 * j["job_runtime"] / 1000 * 1e6 / max(1, ios)
row = {"target": target, "workload": w, "rep": int(rep), "iops": d["iops"], "p50_us": pct["50.000000"] / 1000,
       "p99_us": pct["99.000000"] / 1000, "cpu_us_per_req": cpu_us, "ios": ios}
open(runs, "a").write(json.dumps(row) + "\n")
print(f"{target:14} {w:15} rep {rep}: {row['iops']:9.0f} IOPS  p50 {row['p50_us']:7.1f} µs  p99 {row['p99_us']:7.1f} µs  {cpu_us:6.1f} µs CPU/req", file=sys.stderr)
PY
}

read -r -a WORKLOADS <<< "${WORKLOADS:-randread-qd1 randread-qd32 randwrite-qd32}"
read -r -a TARGETS <<< "${TARGETS:-reflex-uring nbdkit-file qemu-nbd fio-local reflex-memory nbdkit-memory}"
for w in "${WORKLOADS[@]}"; do case $w in randread-qd1|randread-qd32|randwrite-qd32) ;; *) die "unknown workload $w";; esac; done
for t in "${TARGETS[@]}"; do case $t in reflex-uring|nbdkit-file|qemu-nbd|fio-local|reflex-memory|nbdkit-memory) ;; *) die "unknown target $t";; esac; done
for rep in $(seq 1 "$REPS"); do
  for target in "${TARGETS[@]}"; do
    if [ "$target" = fio-local ]; then
      SERVER_PID=""
      for w in "${WORKLOADS[@]}"; do fio_run fio-local "$w" "$rep"; done
      continue
    fi
    start_server "$target" "$OUT/server-$target-$rep.log"
    for w in "${WORKLOADS[@]}"; do fio_run "$target" "$w" "$rep" "$URI"; done
    stop_dataplane "$SERVER_PID"
    SERVER_PID=""
  done
done

python3 - "$RUNS" "$OUT/meta.json" > "$OUT/summary.md" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
meta = json.load(open(sys.argv[2]))
med = {}
for key in {(r["target"], r["workload"]) for r in rows}:
    rs = [r for r in rows if (r["target"], r["workload"]) == key]
    med[key] = {k: statistics.median(r[k] for r in rs) for k in ("iops", "p50_us", "p99_us", "cpu_us_per_req")}
order = ["reflex-uring", "nbdkit-file", "qemu-nbd", "fio-local", "reflex-memory", "nbdkit-memory"]
peers = {"reflex-uring": ["nbdkit-file", "qemu-nbd", "fio-local"], "reflex-memory": ["nbdkit-memory"]}
print(f"# NBD peers ({meta['date']}, {meta['machine']}, commit {meta['commit']})\n")
print(f"fio nbd engine, 4 KiB, {meta['duration']} s per run, median of {meta['reps']}; our --poll {meta['poll']}, "
      f"--sync-writes {meta['sync_writes']}; {meta['nbdkit']}; {meta['qemu_nbd']}; load at start {meta['load_start']}\n")
print("| workload | server | IOPS | p50 µs | p99 µs | server CPU µs/req |")
print("|---|---|---:|---:|---:|---:|")
for w in ["randread-qd1", "randread-qd32", "randwrite-qd32"]:
    for t in order:
        m = med.get((t, w))
        if m: print(f"| {w} | {t} | {m['iops']:.0f} | {m['p50_us']:.1f} | {m['p99_us']:.1f} | {m['cpu_us_per_req']:.1f}{' (fio itself)' if t == 'fio-local' else ''} |")
print("\nRatios (ours / peer): IOPS (>1 better), p99 (<1 better), CPU per request (<1 better)\n")
print("| workload | ours | peer | IOPS | p99 | CPU/req |")
print("|---|---|---|---:|---:|---:|")
for w in ["randread-qd1", "randread-qd32", "randwrite-qd32"]:
    for ours, ps in peers.items():
        for p in ps:
            a, b = med.get((ours, w)), med.get((p, w))
            if a and b:
                print(f"| {w} | {ours} | {p} | {a['iops'] / b['iops']:.2f} | {a['p99_us'] / b['p99_us']:.2f} | "
                      f"{a['cpu_us_per_req'] / b['cpu_us_per_req']:.2f} |")
PY
cat "$OUT/summary.md"

#!/usr/bin/env bash
# Hostile clients vs well-behaved tenants (bench/hostile/README.md).
#
#   bench/hostile/run.sh [PHASE...]     (default: baseline slowloris noread idle storm baseline)
#
# One dataplane serves three tenants: lc (LC, open loop at LC_IOPS 4 KiB reads, p95 SLO 1 ms), be (BE, closed loop
# QD16, 70% reads) and evil (BE, the attackers' target). Each phase runs the lc and be loads for DURATION seconds
# (plus 1 s warm-up) while one hostile pattern (bench/hostile/attack.py) hits evil. Layout as bench/run-dataplane.sh's
# QoS runs (QOS_LAYOUT=vcpu1): server and lc client on vCPU 1, both --poll yield; be client (--poll block) and the
# attackers (nice 19) on vCPU 0. The table shows lc/be IOPS and p95, and the server's RSS, heap, open fds and connections
# sampled mid-phase, and what it closed and why.
#
# Environment (defaults):
#   DURATION=8        measured seconds per phase
#   ENGINE=memory     memory | file | uring (file/uring use DEV, a 4 GiB file written on first use)
#   LC_IOPS=5000      the lc tenant's reservation and offered open-loop rate
#   SLOW=200 NOREAD=20 IDLE=5000 STORM=2     attackers: slowloris connections, never-reading connections, idle
#                     connections, storm processes
#   SERVER_FLAGS="--request-timeout 5"      extra dataplane flags (defaults otherwise: idle timeout off, keepalive
#                     60 s, 16 MiB buffers per connection, per tenant 200 new connections/s (burst 200) and 1,024
#                     open); 5 s so slowloris/no-read closes show within a phase. With the default cap the idle phase
#                     holds 1,024 connections; for 5,000 add "--max-tenant-connections 0 --max-connect-rate 0"
#   REFLEX_HOME=<this checkout>   whose launchers to run (e.g. a snapshot of an older commit: SERVER_FLAGS="" there)
#   MAX_LOAD=, WAIT_MAX=600        if MAX_LOAD is set, wait (at most WAIT_MAX s) for the load average to drop below it
# Results: bench/results/hostile-<date>/{summary.md,phases.jsonl,*.json,*.log,commands.txt}
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$REPO/bin/lib/java-home.sh"
trap 'cleanup; [ -n "${ATTACK_PID:-}" ] && kill "$ATTACK_PID" 2>/dev/null; true' EXIT

DURATION=${DURATION:-8}
ENGINE=${ENGINE:-memory}
LC_IOPS=${LC_IOPS:-5000}
SLOW=${SLOW:-200}; NOREAD=${NOREAD:-20}; IDLE=${IDLE:-5000}; STORM=${STORM:-2}
SERVER_FLAGS=${SERVER_FLAGS---request-timeout 5}
PHASES=("$@")
[ ${#PHASES[@]} -gt 0 ] || PHASES=(baseline slowloris noread idle storm baseline)
for p in "${PHASES[@]}"; do case $p in baseline|slowloris|noread|idle|storm) ;; *) die "unknown phase '$p'";; esac; done

OUT=$REPO/bench/results/hostile-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
PORT=12300; ADMIN=12309; P_LC=12301; P_BE=12302; P_EVIL=12303
BENCH=$REFLEX_HOME/bin/reflex-bench
ATTACK="nice -n 19 taskset -c 0 python3 $BENCH_DIR/hostile/attack.py"
# every attacker is also bounded by timeout(1) (a server that stops accepting must not hang the run)
[ "$(ulimit -n)" -ge $((IDLE + 1000)) ] || ulimit -n $((IDLE + 1000)) 2>/dev/null || die "need ulimit -n >= $((IDLE + 1000)) for IDLE=$IDLE"

case $ENGINE in
  memory) SECTORS=$((256 * 1024 * 1024 / 512)); DEVARGS="--engine memory --size 256Mi" ;;
  file|uring) ensure_device; SECTORS=$DEV_SECTORS; DEVARGS="--engine $ENGINE --device $DEV" ;;
  *) die "ENGINE must be memory, file or uring" ;;
esac
THIRD=$((SECTORS / 3))
cat > "$OUT/slo-table.yaml" <<YAML
tenants:
  - { name: lc,   port: $P_LC,   class: LC, iops: $LC_IOPS, readPercent: 100, p95Micros: 1000, lbaBase: 0, lbaCount: $THIRD }
  - { name: be,   port: $P_BE,   class: BE, lbaBase: $THIRD, lbaCount: $THIRD }
  - { name: evil, port: $P_EVIL, class: BE, lbaBase: $((2 * THIRD)), lbaCount: $THIRD }
YAML

ensure_jars
[ -n "${MAX_LOAD:-}" ] && wait_quiet "$MAX_LOAD" "${WAIT_MAX:-600}"
# shellcheck disable=SC2086
start_dataplane "$OUT/server.log" 1 $PORT $ADMIN $DEVARGS --poll yield --model sample --slo-table "$OUT/slo-table.yaml" $SERVER_FLAGS
grep -q REJECTED "$OUT/server.log" && { cat "$OUT/server.log" >&2; die "tenant rejected"; }
SERVER_CMD=$(cat "$OUT/server.log.cmd")
JPID=$(pgrep -P "$SERVER_PID" java || echo "$SERVER_PID") # the launcher execs java: usually the same pid
{ echo "# $(date -Is) load $(cut -d' ' -f1-3 /proc/loadavg)"; echo "server: $SERVER_CMD"; } > "$OUT/commands.txt"
log "results -> $OUT; server pid $JPID; load average $(cut -d' ' -f1-3 /proc/loadavg)"

metric() { # NAME-regex: sum of matching series
  curl -fs "http://127.0.0.1:$ADMIN/metrics" | awk -v re="^$1" '$0 ~ re {s += $NF} END {printf "%d\n", s}'
}
heap_used_kib() {
  "$JAVA_HOME/bin/jcmd" "$JPID" GC.heap_info 2>/dev/null | awk '/total [0-9]+K, used [0-9]+K/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub(/K,?/, "", v); s += v}} END {print s + 0}'
}
sample() { # [gc] -> one JSON object on stdout; gc: a full GC first (only when no load runs), so heap is live data
  local rss fds
  [ "${1:-}" = gc ] && "$JAVA_HOME/bin/jcmd" "$JPID" GC.run > /dev/null 2>&1
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$JPID/status")
  fds=$(ls "/proc/$JPID/fd" | wc -l)
  printf '{"rss_kib": %s, "heap_used_kib": %s, "fds": %s, "connections": %s, "send_blocked": %s, "socket_buffer_bytes": %s, "io_buffer_bytes": %s, "requests_in_use": %s}\n' \
    "$rss" "$(heap_used_kib)" "$fds" "$(metric 'reflex_loop_connections[{]')" "$(metric 'reflex_loop_send_blocked_connections')" \
    "$(metric 'reflex_loop_socket_buffer_bytes')" "$(metric 'reflex_loop_io_buffer_bytes')" "$(metric 'reflex_loop_requests_in_use')"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$JPID/stat"; } # the server's utime + stime
CLK_TCK=$(getconf CLK_TCK)
closed_counts() { curl -fs "http://127.0.0.1:$ADMIN/metrics" | awk -F'[{}"]' '/^reflex_connections_closed_total/ {split($0, a, " "); printf "%s=%d ", $3, a[2]}'; }

load_cmds() { # phase [seconds]
  local d=${2:-$DURATION}
  LC_CMD="taskset -c 1 $BENCH --server 127.0.0.1:$P_LC --iops $LC_IOPS --read-pct 100 --duration $d --warmup 1 --lba-range $THIRD --poll yield --json $OUT/$1-lc.json"
  BE_CMD="taskset -c 0 $BENCH --server 127.0.0.1:$P_BE --mode closed --qd 16 --read-pct 70 --duration $d --warmup 1 --lba-range $THIRD --poll block --json $OUT/$1-be.json"
}

# warm the JITs (server and clients) before the first measured phase
load_cmds warmup 3
$LC_CMD > "$OUT/warmup-lc.txt" 2>&1 & warm_pid=$!
$BE_CMD > "$OUT/warmup-be.txt" 2>&1 || log "warm-up be load exit $?"
wait $warm_pid || log "warm-up lc load exit $?"

n=0
for phase in "${PHASES[@]}"; do
  n=$((n + 1)); name="$n-$phase"
  ATTACK_PID=""; attack_cmd=""
  span=$((DURATION + 4))
  case $phase in
    slowloris) attack_cmd="$ATTACK slowloris $SLOW --port $P_EVIL --duration $((span + 2))" ;;
    noread) attack_cmd="$ATTACK noread $NOREAD --port $P_EVIL --duration $((span + 2))" ;;
    idle) attack_cmd="$ATTACK idle $IDLE --port $P_EVIL --duration $((span + 30))" ;;
    storm) attack_cmd="$ATTACK storm $STORM --port $P_EVIL --duration $((span + 1))" ;;
  esac
  before=$(sample gc); closed_before=$(closed_counts)
  if [ -n "$attack_cmd" ]; then
    # shellcheck disable=SC2086
    timeout -k 5 $((span + 40)) $attack_cmd > "$OUT/$name-attack.json" 2> "$OUT/$name-attack.log" & ATTACK_PID=$!
    if [ "$phase" = idle ]; then
      for i in $(seq 1 300); do [ "$(metric 'reflex_tenant_connections[{].*tenant="evil"')" -ge "$IDLE" ] && break; sleep 0.1; done
    else
      sleep 2
    fi
  fi
  log "phase $name: ${attack_cmd:-no attack}"
  load_cmds "$name"
  t0=$(date +%s.%N); cpu0=$(cpu_ticks); acc0=$(metric 'reflex_tenant_connections_accepted_total[{].*tenant="evil"')
  pauses0=$(metric 'reflex_tenant_accept_pauses_total[{].*tenant="evil"')
  $LC_CMD > "$OUT/$name-lc.txt" 2>&1 & lc_pid=$!
  $BE_CMD > "$OUT/$name-be.txt" 2>&1 & be_pid=$!
  sleep $((1 + DURATION / 2)); mid=$(sample)
  wait $lc_pid || log "lc load exit $? ($OUT/$name-lc.txt)"
  wait $be_pid || log "be load exit $? ($OUT/$name-be.txt)"
  t1=$(date +%s.%N); cpu1=$(cpu_ticks); acc1=$(metric 'reflex_tenant_connections_accepted_total[{].*tenant="evil"')
  pauses1=$(metric 'reflex_tenant_accept_pauses_total[{].*tenant="evil"')
  window=$(python3 -c "import sys; t0, t1, c0, c1, a0, a1, p0, p1, hz = map(float, sys.argv[1:]); d = t1 - t0
print('{\"seconds\": %.2f, \"server_cpu_pct\": %.1f, \"evil_accepted_per_s\": %.1f, \"evil_accept_pauses\": %d}' % (d, (c1 - c0) / hz / d * 100, (a1 - a0) / d, p1 - p0))" \
    "$t0" "$t1" "$cpu0" "$cpu1" "$acc0" "$acc1" "$pauses0" "$pauses1" "$CLK_TCK")
  held=$mid
  if [ "$phase" = idle ]; then held=$(sample gc); fi # the idle connections are still open; no load runs
  if [ -n "$ATTACK_PID" ]; then
    if [ "$phase" = idle ]; then pkill -TERM -P "$ATTACK_PID" 2>/dev/null || true; fi # the attacker under timeout(1)
    wait "$ATTACK_PID" || true; ATTACK_PID=""
  fi
  for i in $(seq 1 50); do [ "$(metric 'reflex_tenant_connections[{].*tenant="evil"')" -eq 0 ] && break; sleep 0.2; done
  sleep 1.2 # one sweep: gauges and spare socket buffers settle
  after=$(sample gc); closed_after=$(closed_counts)
  {
    echo "phase $name"; echo "  lc: $LC_CMD"; echo "  be: $BE_CMD"; [ -n "$attack_cmd" ] && echo "  attack: $attack_cmd"
  } >> "$OUT/commands.txt"
  python3 - "$OUT" "$name" "$phase" "$before" "$mid" "$held" "$after" "$closed_before" "$closed_after" "$attack_cmd" "$window" >> "$OUT/phases.jsonl" <<'PY'
import json, sys
out, name, phase, before, mid, held, after, cb, ca, attack, window = sys.argv[1:]
def row(f):
    try:
        r = json.load(open(f))["rows"][0]; return {"iops": r["iops"], "p95_us": r["p95_us"], "p99_us": r["p99_us"], "errors": r["errors"]}
    except Exception as e:
        return {"error": str(e)}
def counts(s): return {k: int(v) for k, v in (x.split("=") for x in s.split())}
b, a = counts(cb), counts(ca)
attack_out = {}
try: attack_out = json.loads(open(f"{out}/{name}-attack.json").read().strip().splitlines()[-1])
except Exception: pass
print(json.dumps({"phase": phase, "name": name, "lc": row(f"{out}/{name}-lc.json"), "be": row(f"{out}/{name}-be.json"),
                  "server_before": json.loads(before), "server_mid": json.loads(mid), "server_held": json.loads(held),
                  "server_after": json.loads(after),
                  "closed": {k: a[k] - b.get(k, 0) for k in a if a[k] - b.get(k, 0)}, "attack": attack_out, "attack_cmd": attack,
                  "window": json.loads(window)}))
PY
done

python3 - "$OUT" "$SERVER_CMD" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY' | tee "$OUT/summary.md"
import json, sys
out, server_cmd, load = sys.argv[1:]
rows = [json.loads(l) for l in open(f"{out}/phases.jsonl")]
print(f"server: `{server_cmd}`  (load average at the end: {load})\n")
print("| phase | lc IOPS | lc p95 µs | be IOPS | be p95 µs | server CPU % | evil accepted/s | evil accept pauses | server RSS MiB | heap MiB | fds | conns | send-blocked | sock buf MiB | I/O buf MiB | closed (reason=count) | after: RSS MiB / fds / conns |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
for r in rows:
    m, a = r["server_mid"], r["server_after"]
    lc, be = r["lc"], r["be"]
    closed = " ".join(f"{k}={v}" for k, v in sorted(r["closed"].items())) or "—"
    w = r.get("window", {})
    print(f"| {r['name']} | {lc.get('iops', 0):,.0f} | {lc.get('p95_us', '?')} | {be.get('iops', 0):,.0f} | {be.get('p95_us', '?')} "
          f"| {w.get('server_cpu_pct', 0):.0f} | {w.get('evil_accepted_per_s', 0):,.0f} | {w.get('evil_accept_pauses', 0):,} "
          f"| {m['rss_kib'] / 1024:.0f} | {m['heap_used_kib'] / 1024:.0f} | {m['fds']} | {m['connections']} | {m['send_blocked']} "
          f"| {m['socket_buffer_bytes'] / 2**20:.1f} | {m['io_buffer_bytes'] / 2**20:.0f} | {closed} | {a['rss_kib'] / 1024:.0f} / {a['fds']} / {a['connections']} |")
for r in rows:
    if r["attack"]: print(f"\n{r['name']}: attacker {json.dumps(r['attack'])}")
    if r["phase"] == "idle":
        b, m = r["server_before"], r["server_held"]  # both after a full GC, no load running
        n = max(1, m["fds"] - b["fds"])  # one descriptor per connection (works for builds without the gauges too)
        print(f"  per idle connection ({n} open, after a full GC, no load): server RSS {(m['rss_kib'] - b['rss_kib']) * 1024 / n:,.0f} B,"
              f" live heap {(m['heap_used_kib'] - b['heap_used_kib']) * 1024 / n:,.0f} B, socket buffers "
              f"{(m['socket_buffer_bytes'] - b['socket_buffer_bytes']) / n:,.0f} B")
PY
log "commands: $OUT/commands.txt"

#!/usr/bin/env bash
# DPDK/UDP vs kernel TCP on the same veth pair between two network namespaces (root; issue 14's benchmark).
#
#   bench/dpdk/run.sh [memory|uring ...]     default: memory uring
#
# Per engine and transport: 4 KiB random reads, QD1 (p50) and QD32 (IOPS), 10 s each after 2 s of warm-up
# (DURATION=, WARMUP=), the server's CPU time per request (utime+stime of its process over the measured window / requests)
# and the whole machine's busy CPU per request (/proc/stat: includes the kernel's veth and socket work on either side).
# Server pinned to CPU 1, client to CPU 0 (a 2-vCPU VM); the run holds flock /tmp/reflex-bench.lock and each row
# prints the 1-minute load average. Needs the jars: ./mvnw -B -ntp -pl dataplane,client -am package -DskipTests
set -euo pipefail
# one measurement at a time on this machine: the whole run (~3 min) holds the shared benchmark lock
if [ -z "${REFLEX_BENCH_LOCKED:-}" ]; then REFLEX_BENCH_LOCKED=1 exec flock /tmp/reflex-bench.lock "$0" "$@"; fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/bin/lib/java-home.sh"
cd "$ROOT"
ENGINES=${*:-memory uring}
DUR=${DURATION:-10}
WARM=${WARMUP:-2}
ID=${NETNS_ID:-240}
S=rfxdp${ID}s; C=rfxdp${ID}c; SIP=10.77.${ID}.1
DP="$ROOT/dataplane/target"; CL="$ROOT/client/target"
JAVA="$JAVA_HOME/bin/java"
OUT=${OUT:-/var/tmp/reflex-dpdk-bench}   # logs, JSON per row, the uring device file (1 GiB sparse)
mkdir -p "$OUT"
DEV=$OUT/device.img
[ -f "$DP/reflex-dataplane.jar" ] && [ -f "$CL/reflex-client.jar" ] || { echo "build first: ./mvnw -B -ntp -pl dataplane,client -am package -DskipTests" >&2; exit 2; }

SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  "$ROOT/bench/dpdk/netns.sh" down "$ID"
}
trap cleanup EXIT

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }                       # utime + stime of a process
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }   # user nice system irq softirq steal
HZ=$(getconf CLK_TCK)

start_server() { # transport engine
  local transport=$1 engine=$2 dev=()
  if [ "$engine" = uring ]; then
    [ -f "$DEV" ] || truncate -s 1G "$DEV"
    dev=(--device "$DEV")
  else
    dev=(--size 1Gi)
  fi
  if [ "$transport" = tcp ]; then
    "$ROOT/bench/dpdk/netns.sh" up "$ID" kernel
    ip netns exec "$S" taskset -c 1 "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$DP/reflex-dataplane.jar" \
      --engine "$engine" "${dev[@]}" --listen "$SIP:5000" --admin none --poll busy >"$OUT/server.log" 2>&1 &
  else
    "$ROOT/bench/dpdk/netns.sh" up "$ID"
    ip netns exec "$S" taskset -c 1 "$JAVA" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp "$DP/reflex-dataplane.jar:$DP/lib/*" \
      io.reflex.dataplane.dpdk.DpdkMain --engine "$engine" "${dev[@]}" --listen "$SIP:5000" --address "$SIP/24" --poll busy \
      --dpdk-args "--no-huge --no-pci --no-shconf -m 256 --no-telemetry --lcores 0@1 --vdev net_af_packet0,iface=$S,qpairs=1,framesz=9216,blocksz=36864,framecnt=512" \
      >"$OUT/server.log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q "serving\|tenant default" "$OUT/server.log" 2>/dev/null && break; sleep 0.2; done
  sleep 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  "$ROOT/bench/dpdk/netns.sh" down "$ID"
}

measure() { # transport engine qd
  local transport=$1 engine=$2 qd=$3 json="$OUT/$1-$2-qd$3.json"
  local args=(--server "$SIP:5000" --mode closed --qd "$qd" --duration "$DUR" --warmup "$WARM" --read-pct 100 --size 4096
              --lba-range 2097152 --poll busy --json "$json")
  [ "$transport" = udp ] && args+=(--transport udp)
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  ip netns exec "$C" taskset -c 0 "$JAVA" -jar "$CL/reflex-client.jar" "${args[@]}" >"$OUT/client.log" 2>&1 &
  local cpid=$!
  sleep "$WARM"; sleep 0.3
  local s0 b0 t0; s0=$(ticks "$SERVER_PID"); b0=$(busy); t0=$(date +%s.%N)
  sleep "$DUR"
  local s1 b1 t1; s1=$(ticks "$SERVER_PID"); b1=$(busy); t1=$(date +%s.%N)
  wait "$cpid" || { echo "client failed:"; cat "$OUT/client.log"; return 1; }
  python3 - "$json" "$s0" "$s1" "$b0" "$b1" "$t0" "$t1" "$HZ" "$transport" "$engine" "$qd" "$load" <<'PY'
import json, sys
j, s0, s1, b0, b1, t0, t1, hz = sys.argv[1], *map(float, sys.argv[2:9])
transport, engine, qd, load = sys.argv[9:13]
row = json.load(open(j))["rows"][0]
req = row["iops"] * (t1 - t0)
srv = (s1 - s0) / hz / req * 1e6 if req else float("nan")
tot = (b1 - b0) / hz / req * 1e6 if req else float("nan")
print(f"{engine:7s} {transport:9s} qd{qd:<3s} {row['iops']:>9.0f} IOPS  p50 {row['p50_us']:>7.1f} us  p99 {row['p99_us']:>8.1f} us"
      f"  server CPU {srv:5.2f} us/req  machine CPU {tot:5.2f} us/req  errors {row['errors']}  load {load}")
PY
  grep -h "udp retransmits" "$OUT/client.log" | sed 's/^reflex-bench: /    /' || true
}

echo "# bench/dpdk/run.sh $ENGINES  (DURATION=$DUR WARMUP=$WARM) $(date -u +%FT%TZ) $(nproc) vCPUs"
for engine in $ENGINES; do
  for transport in tcp udp; do
    label=$transport; [ "$transport" = udp ] && label="dpdk/udp" || label="kernel/tcp"
    start_server "$transport" "$engine"
    for qd in 1 32; do
      measure "$transport" "$engine" "$qd" | sed "s#$transport #$label #"
    done
    stop_server
    if [ "$transport" = udp ]; then grep -E "^dpdk" "$OUT/server.log" | sed 's/^/    /' || true; fi
  done
done

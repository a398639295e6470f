#!/usr/bin/env bash
# DPDK/UDP vs kernel TCP on the same veth pair between two network namespaces (root; issue 14's benchmark).
#
#   bench/dpdk/run.sh [memory|uring ...]     default: memory uring
#
# With the memory engine, a third row: c-floor/udp, bench/dpdk/floor/floor-dpdk.c (built here with gcc and Debian's
# libdpdk-dev into $OUT/bin; FLOOR=0 skips it), the least any DPDK/UDP ReFlex server can do on the same EAL arguments,
# net_af_packet port and veth, answering GETs from a static buffer: what this VM's virtual NIC path allows a DPDK server.
#
# Per engine and transport: 4 KiB random reads, QD1 (p50) and QD32 (IOPS), 10 s each after 2 s of warm-up
# (DURATION=, WARMUP=), the server's CPU time per request (utime+stime of its process over the measured window / requests,
# and its user/kernel split)
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
FLOOR=${FLOOR:-1}
# The DPDK port on the server's veth end, for the Java engine and the C floor alike.
EAL="--no-huge --no-pci --no-shconf -m 256 --no-telemetry --lcores 0@1 --vdev net_af_packet0,iface=$S,qpairs=1,framesz=9216,blocksz=36864,framecnt=512"
[ -f "$DP/reflex-dataplane.jar" ] && [ -f "$CL/reflex-client.jar" ] || { echo "build first: ./mvnw -B -ntp -pl dataplane,client -am package -DskipTests" >&2; exit 2; }

SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  "$ROOT/bench/dpdk/netns.sh" down "$ID"
}
trap cleanup EXIT

if [ "$FLOOR" = 1 ] && [[ " $ENGINES " == *" memory "* ]]; then # built at run time, never committed
  pkg-config --exists libdpdk || { echo "the C floor needs gcc and libdpdk-dev (pkg-config libdpdk); FLOOR=0 skips it" >&2; exit 2; }
  mkdir -p "$OUT/bin"
  gcc -O2 -DALLOW_EXPERIMENTAL_API -o "$OUT/bin/floor-dpdk" "$ROOT/bench/dpdk/floor/floor-dpdk.c" $(pkg-config --cflags --libs libdpdk)
fi

ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }                        # utime stime of a process
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
  if [ "$transport" = floor ]; then
    "$ROOT/bench/dpdk/netns.sh" up "$ID"
    ip netns exec "$S" taskset -c 1 "$OUT/bin/floor-dpdk" $EAL -- "$SIP" 5000 >"$OUT/server.log" 2>&1 &
  elif [ "$transport" = tcp ]; then
    "$ROOT/bench/dpdk/netns.sh" up "$ID" kernel
    ip netns exec "$S" taskset -c 1 "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$DP/reflex-dataplane.jar" \
      --engine "$engine" "${dev[@]}" --listen "$SIP:5000" --admin none --poll busy >"$OUT/server.log" 2>&1 &
  else
    "$ROOT/bench/dpdk/netns.sh" up "$ID"
    ip netns exec "$S" taskset -c 1 "$JAVA" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp "$DP/reflex-dataplane.jar:$DP/lib/*" \
      io.reflex.dataplane.dpdk.DpdkMain --engine "$engine" "${dev[@]}" --listen "$SIP:5000" --address "$SIP/24" --poll busy \
      --dpdk-args "$EAL" \
      >"$OUT/server.log" 2>&1 &
  fi
  SERVER_PID=$!
  # up to 60 s: a JVM on a loaded 2-vCPU VM can take 20 s to say so
  local up=0
  for _ in $(seq 300); do grep -q "serving\|tenant default" "$OUT/server.log" 2>/dev/null && { up=1; break; }; sleep 0.2; done
  [ "$up" = 1 ] || { echo "$transport server did not start within 60 s:" >&2; cat "$OUT/server.log" >&2; return 1; }
  sleep 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  "$ROOT/bench/dpdk/netns.sh" down "$ID"
}

measure() { # transport engine qd label
  local transport=$1 engine=$2 qd=$3 label=$4 json="$OUT/$1-$2-qd$3.json"
  local args=(--server "$SIP:5000" --mode closed --qd "$qd" --duration "$DUR" --warmup "$WARM" --read-pct 100 --size 4096
              --lba-range 2097152 --poll busy --json "$json")
  [ "$transport" = tcp ] || args+=(--transport udp)
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  ip netns exec "$C" taskset -c 0 "$JAVA" -jar "$CL/reflex-client.jar" "${args[@]}" >"$OUT/client.log" 2>&1 &
  local cpid=$!
  sleep "$WARM"; sleep 0.3
  local s0 b0 t0; s0=$(ticks "$SERVER_PID"); b0=$(busy); t0=$(date +%s.%N)
  [ "$transport" = floor ] && kill -USR1 "$SERVER_PID"   # the floor's own counters: a window starts
  sleep "$DUR"
  local s1 b1 t1; s1=$(ticks "$SERVER_PID"); b1=$(busy); t1=$(date +%s.%N)
  [ "$transport" = floor ] && kill -USR1 "$SERVER_PID"
  wait "$cpid" || { echo "client failed:"; cat "$OUT/client.log"; return 1; }
  local window=""   # the floor's own counters over the window (its busy share: iterations that moved frames)
  [ "$transport" = floor ] && { sleep 0.1; window=$(grep "floor-dpdk window" "$OUT/server.log" | tail -1); }
  python3 - "$json" $s0 $s1 "$b0" "$b1" "$t0" "$t1" "$HZ" "$label" "$engine" "$qd" "$load" "$window" <<'PY'
import json, sys
j, u0, k0, u1, k1, b0, b1, t0, t1, hz = sys.argv[1], *map(float, sys.argv[2:11])
transport, engine, qd, load, window = sys.argv[11:16]
row = json.load(open(j))["rows"][0]
req = row["iops"] * (t1 - t0)
per = lambda ticks: ticks / hz / req * 1e6 if req else float("nan")
if transport == "c-floor/udp": engine = "static"  # no storage engine: a static buffer
print(f"{engine:7s} {transport:11s} qd{qd:<3s} {row['iops']:>9.0f} IOPS  p50 {row['p50_us']:>7.1f} us  p99 {row['p99_us']:>8.1f} us"
      f"  server CPU {per(u1 - u0 + k1 - k0):5.2f} us/req (user {per(u1 - u0):.2f} + kernel {per(k1 - k0):.2f})"
      f"  machine CPU {per(b1 - b0):5.2f} us/req  errors {row['errors']}  load {load}")
if window:  # the floor's own cost per frame received (= per request), from its iterations that moved frames
    print(f"    {window}")
PY
  grep -h "udp retransmits" "$OUT/client.log" | sed 's/^reflex-bench: /    /' || true
}

echo "# bench/dpdk/run.sh $ENGINES  (DURATION=$DUR WARMUP=$WARM) $(date -u +%FT%TZ) $(nproc) vCPUs"
for engine in $ENGINES; do
  transports="tcp udp"; [ "$FLOOR" = 1 ] && [ "$engine" = memory ] && transports="tcp udp floor"
  for transport in $transports; do
    case $transport in tcp) label=kernel/tcp ;; udp) label=dpdk/udp ;; floor) label=c-floor/udp ;; esac
    start_server "$transport" "$engine"
    for qd in 1 32; do
      measure "$transport" "$engine" "$qd" "$label"
    done
    stop_server
    if [ "$transport" = udp ]; then grep -E "^dpdk" "$OUT/server.log" | sed 's/^/    /' || true; fi
  done
done

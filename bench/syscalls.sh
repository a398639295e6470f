#!/usr/bin/env bash
# System calls per request of the dataplane's loop thread, epoll vs io_uring network path (see bench/README.md).
#
#   bench/syscalls.sh            (run it under: flock /tmp/reflex-bench.lock bench/syscalls.sh)
#
# For each network path (NETS="epoll uring") and queue depth (QDS="1 32"): reflex-dataplane --engine uring on the
# bench file (ENGINE=memory for the memory engine) with SERVER_FLAGS (default --poll block: an idle loop then waits in
# one system call instead of spinning through sched_yield, so the count is the work per request; SERVER_FLAGS= for
# the server's own layout); reflex-bench closed loop, one connection, unflagged. Counted on the loop thread (reflex-dp-0) only, so JVM housekeeping threads do not blur it:
#   perf stat -e raw_syscalls:sys_enter -t TID   total system calls during a DURATION-second run (low overhead);
#   strace -c -p TID                             which calls, during a second, shorter run (ptrace slows the server,
#                                                so its per-request count is read from perf, not from here).
# Requests = the server's reflex_tenant_requests_total delta over the same run.
# Results: bench/results/syscalls-<date>/{summary.md,*.txt}
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
trap cleanup EXIT

DURATION=${DURATION:-5}
NETS=(${NETS:-epoll uring})
QDS=(${QDS:-1 32})
ENGINE=${ENGINE:-uring}
SERVER_FLAGS=${SERVER_FLAGS---poll block}
OUT=$REPO/bench/results/syscalls-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
BENCH=$REFLEX_HOME/bin/reflex-bench
PORT=11234
ADMIN=19400
ensure_device
ensure_jars
log "results -> $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"

loop_tid() { # pid -> tid of reflex-dp-0
  local t
  for t in /proc/"$1"/task/*; do
    if [ "$(cat "$t/comm" 2>/dev/null)" = reflex-dp-0 ]; then basename "$t"; return 0; fi
  done
  return 1
}

{
  echo "| network path | QD | requests | loop-thread syscalls (perf) | syscalls / request | top calls (strace -c, separate run) | load avg |"
  echo "|---|---:|---:|---:|---:|---|---|"
} > "$OUT/summary.md"

for net in "${NETS[@]}"; do
  dev_args="--device $DEV --engine uring"; [ "$ENGINE" = memory ] && dev_args="--engine memory --size 4Gi"
  # shellcheck disable=SC2086
  start_dataplane "$OUT/server-$net.log" "" $PORT $ADMIN $dev_args $SERVER_FLAGS --net "$net"
  pid=$SERVER_PID
  tid=$(loop_tid "$pid")
  "$BENCH" --server 127.0.0.1:$PORT --mode closed --qd 8 --duration 2 --warmup 0 --lba-range $DEV_SECTORS > /dev/null 2>&1
  for qd in "${QDS[@]}"; do
    cmd="$BENCH --server 127.0.0.1:$PORT --mode closed --qd $qd --duration $DURATION --warmup 0 --lba-range $DEV_SECTORS"
    r0=$(server_requests $ADMIN)
    # shellcheck disable=SC2086
    perf stat -e raw_syscalls:sys_enter -t "$tid" -x, -o "$OUT/perf-$net-qd$qd.txt" -- $cmd > "$OUT/bench-$net-qd$qd.txt" 2>&1
    r1=$(server_requests $ADMIN)
    n=$((r1 - r0))
    calls=$(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$OUT/perf-$net-qd$qd.txt")
    strace -c -p "$tid" -o "$OUT/strace-$net-qd$qd.txt" & spid=$!
    sleep 0.5
    # shellcheck disable=SC2086
    $BENCH --server 127.0.0.1:$PORT --mode closed --qd $qd --duration 2 --warmup 0 --lba-range $DEV_SECTORS > /dev/null 2>&1
    kill -INT $spid; wait $spid || true
    top=$(awk 'NR > 2 && $1 ~ /^[0-9.]+$/ && NF >= 5 {print $NF ":" $4}' "$OUT/strace-$net-qd$qd.txt" | grep -v '^total' | head -5 | paste -sd' ')
    per=$(python3 -c "print(f'{$calls / max(1, $n):.2f}')")
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "| $net ($(grep -m1 'network:' "$OUT/server-$net.log" | sed 's/^ *network: //')) | $qd | $n | $calls | $per | $top | $load |" >> "$OUT/summary.md"
    log "$net QD$qd: $n requests, $calls syscalls on the loop thread = $per per request (load $load)"
  done
  stop_dataplane "$pid"
done
echo >> "$OUT/summary.md"
echo "Commands: server \`bin/reflex-dataplane --listen 127.0.0.1:$PORT --admin 127.0.0.1:$ADMIN ${dev_args} $SERVER_FLAGS --net NET\`; client \`bin/reflex-bench --server 127.0.0.1:$PORT --mode closed --qd QD --duration $DURATION --warmup 0 --lba-range $DEV_SECTORS\` under \`perf stat -e raw_syscalls:sys_enter -t TID\` (TID = reflex-dp-0)." >> "$OUT/summary.md"
cat "$OUT/summary.md"

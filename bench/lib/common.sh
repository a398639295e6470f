# Sourced by bench/*.sh: paths, the device file, starting/stopping servers, fio and reflex-bench runners.
# Every server started through start_dataplane is stopped on exit (trap in the caller: `trap cleanup EXIT`).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
# Which checkout's launchers to run (default: this one). Set REFLEX_HOME to a pinned snapshot to benchmark a
# fixed commit while others rebuild this tree.
REFLEX_HOME=${REFLEX_HOME:-$REPO}
DEV=${DEV:-/var/tmp/reflex-bench/dev4g.img}
DEV_BYTES=$((4 * 1024 * 1024 * 1024))
DEV_SECTORS=$((DEV_BYTES / 512))

declare -a _SERVER_PIDS=()

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

load1() { cut -d' ' -f1 /proc/loadavg; }

# wait_quiet MAX_LOAD MAX_SECONDS: wait until the 1-minute load average is below MAX_LOAD (other people's builds
# share this machine); gives up after MAX_SECONDS and carries on (the load is recorded with every number).
wait_quiet() {
  local max=$1 secs=$2 waited=0
  while awk -v l="$(load1)" -v m="$max" 'BEGIN {exit !(l >= m)}'; do
    [ "$waited" -ge "$secs" ] && { log "load average still $(load1) after ${secs}s; measuring anyway"; return 0; }
    [ $((waited % 60)) -eq 0 ] && log "waiting for load average < $max (now $(load1))"
    sleep 5; waited=$((waited + 5))
  done
}

# The 4 GiB test file, written with real data (a sparse/fallocated file reads holes as zeros without touching the
# disk). Reused when it exists, has the right size and carries our marker (written after a complete fill).
ensure_device() {
  local marker="$DEV.filled"
  if [ -f "$DEV" ] && [ "$(stat -c %s "$DEV")" = "$DEV_BYTES" ] && [ -f "$marker" ]; then
    log "reusing $DEV (filled $(cat "$marker"))"
    return
  fi
  mkdir -p "$(dirname "$DEV")"
  rm -f "$marker"
  log "writing $DEV: 4 GiB sequential 1 MiB O_DIRECT writes of fio's random buffers (~10-30 s)"
  fio --name=fill --filename="$DEV" --rw=write --bs=1M --size="$DEV_BYTES" --direct=1 --ioengine=io_uring \
      --iodepth=8 --end_fsync=1 --output-format=terse >/dev/null || die "fio fill of $DEV failed"
  [ "$(stat -c %s "$DEV")" = "$DEV_BYTES" ] || die "$DEV has the wrong size after the fill"
  date -Is > "$marker"
}

# Build both jars once up front so no build runs inside a measurement.
ensure_jars() {
  "$REFLEX_HOME/bin/reflex-dataplane" --version >/dev/null 2>&1 || die "reflex-dataplane does not start (see: $REFLEX_HOME/bin/reflex-dataplane --version)"
  "$REFLEX_HOME/bin/reflex-bench" --version >/dev/null 2>&1 || die "reflex-bench does not start"
}

# ensure_floor DIR: builds bench/floor's C reference server and client into DIR (sets FLOOR_SERVER, FLOOR_CLIENT)
ensure_floor() {
  local dir=$1
  command -v gcc >/dev/null && [ -f /usr/include/liburing.h ] \
    || die "the floor reference needs gcc and liburing-dev (apt-get install gcc liburing-dev), or run with FLOOR=0"
  mkdir -p "$dir"
  gcc -O2 -Wall -o "$dir/floor-server" "$BENCH_DIR/floor/floor-server.c" -luring || die "cannot build floor-server"
  gcc -O2 -Wall -o "$dir/floor-client" "$BENCH_DIR/floor/floor-client.c" || die "cannot build floor-client"
  FLOOR_SERVER=$dir/floor-server
  FLOOR_CLIENT=$dir/floor-client
}

# taskset prefix for a CPU list ("" = no pinning)
pin() { if [ -n "$1" ]; then echo "taskset -c $1"; fi; }

# start_dataplane LOGFILE CPUS PORT ADMINPORT ARGS... ; sets SERVER_PID. Waits until the admin endpoint answers.
start_dataplane() {
  local logf=$1 cpus=$2 port=$3 admin=$4; shift 4
  local cmd="$(pin "$cpus") $REFLEX_HOME/bin/reflex-dataplane --listen 127.0.0.1:$port --admin 127.0.0.1:$admin $*"
  echo "$cmd" > "$logf.cmd"
  # shellcheck disable=SC2086
  $cmd > "$logf" 2>&1 &
  SERVER_PID=$!
  _SERVER_PIDS+=("$SERVER_PID")
  local i
  for i in $(seq 1 600); do
    if curl -fs "http://127.0.0.1:$admin/health/ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$logf" >&2; die "dataplane exited at start: $cmd"; fi
    sleep 0.1
  done
  cat "$logf" >&2
  die "dataplane not ready after 60 s: $cmd"
}

stop_dataplane() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local p
  for p in "${_SERVER_PIDS[@]}"; do stop_dataplane "$p"; done
}

# utime+stime of a process (clock ticks) and of its threads whose name starts with reflex-dp- ("proc loop")
cpu_ticks() {
  local pid=$1 proc loop=0 t
  proc=$(awk '{sub(/.*\) /,""); print $12+$13}' "/proc/$pid/stat")
  for t in /proc/"$pid"/task/*; do
    if grep -q '^reflex-dp-' "$t/comm" 2>/dev/null; then
      loop=$((loop + $(awk '{sub(/.*\) /,""); print $12+$13}' "$t/stat")))
    fi
  done
  echo "$proc $loop"
}

# requests completed by the server (all tenants) from /metrics
server_requests() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk '/^reflex_tenant_requests_total[{ ]/ {s += $NF} END {printf "%d\n", s}'
}

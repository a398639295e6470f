#!/usr/bin/env bash
# Dataplane loop CPU per request (bench/hostile/README.md, A/B): memory engine, one connection, closed loop QD32,
# 4 KiB reads, 8 s after a 3 s warm-up; server on vCPU 1, client on vCPU 0. Prints IOPS, p50 and the loop thread's
# utime+stime per request completed (from the server's own counter).
#
#   bench/hostile/loop-cpu.sh [REFLEX_HOME]      (default: this checkout; e.g. /tmp/base for an older build)
set -euo pipefail
home=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$home/bin/lib/java-home.sh"
"$home/bin/reflex-dataplane" --version > /dev/null
"$home/bin/reflex-bench" --version > /dev/null
taskset -c 1 "$home/bin/reflex-dataplane" --engine memory --size 256Mi --listen 127.0.0.1:17101 --admin 127.0.0.1:17102 --poll adaptive > /dev/null 2>&1 &
launcher=$!
trap 'kill $launcher 2>/dev/null; wait $launcher 2>/dev/null || true' EXIT
for i in $(seq 100); do curl -fs 127.0.0.1:17102/health/ready > /dev/null && break; sleep 0.2; done
pid=$(pgrep -P $launcher java || echo $launcher)
bench=("$home/bin/reflex-bench" --server 127.0.0.1:17101 --mode closed --qd 32 --lba-range 500000 --read-pct 100)
taskset -c 0 "${bench[@]}" --duration 3 --warmup 1 > /dev/null 2>&1
ticks() { local t s=0; for t in /proc/$pid/task/*; do grep -q '^reflex-dp-' "$t/comm" 2>/dev/null && s=$((s + $(awk '{sub(/.*\) /,""); print $12+$13}' "$t/stat"))); done; echo $s; }
reqs() { curl -fs 127.0.0.1:17102/metrics | awk '/^reflex_tenant_requests_total[{ ]/ {s += $NF} END {printf "%d\n", s}'; }
t0=$(ticks); r0=$(reqs)
row=$(taskset -c 0 "${bench[@]}" --duration 8 --warmup 0 2> /dev/null | tail -1)
t1=$(ticks); r1=$(reqs)
echo "$home: iops $(awk '{print $2}' <<< "$row") p50_us $(awk '{print $8}' <<< "$row") loop_cpu_us_per_request $(python3 -c "print(round(($t1 - $t0) * 1e6 / $(getconf CLK_TCK) / ($r1 - $r0), 2))")"

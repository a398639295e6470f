#!/usr/bin/env bash
# Coverage-guided fuzzing of every target, one at a time (Jazzer: JAZZER_FUZZ=1 fuzzes one @FuzzTest per JVM), then a
# table: executions, coverage, corpus, crashes, time per target. bench/fuzz/README.md has the targets and results.
#
#   bench/fuzz/run.sh                      # long mode: up to 1,000,000 executions or 600 s per target
#   bench/fuzz/run.sh --short              # CI-sized: up to 20,000 executions or 30 s per target
#   bench/fuzz/run.sh --execs N --time S reflex nbd   # chosen targets and limits
#
# A finding stops its target and is written as crash-<sha1> into the target's inputs directory
# (<module>/src/test/resources/<package>/<Class>Inputs/<method>/), so plain `./mvnw verify` replays it from then on;
# rename it finding-<what> once fixed. The coverage-growing corpus stays in <module>/.cifuzz-corpus/ (not committed)
# and is picked up again by the next run. Logs: target/fuzz/<target>.log. Exit status: number of targets that failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=/dev/null
source bin/lib/java-home.sh

EXECS=1000000
TIME=600
KEEP_GOING=1
declare -a CHOSEN=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) EXECS=20000; TIME=30 ;;
    --execs) EXECS="$2"; shift ;;
    --time) TIME="$2"; shift ;;
    --keep-going) KEEP_GOING="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) CHOSEN+=("$1") ;;
  esac
  shift
done

# name  module  test class (one @FuzzTest each)  coverage beyond the project's classes ('-': none)
# (jazzer.instrument separates patterns with commas, jazzer.instrumentation_excludes with colons)
TARGETS="reflex dataplane ReflexStreamFuzzTest -
nbd dataplane NbdStreamFuzzTest -
slotable dataplane SloTableFuzzTest com.fasterxml.jackson.**,org.yaml.snakeyaml.**
rows node-agent TenantRowsFuzzTest -
translate operator TranslateFuzzTest io.fabric8.kubernetes.api.model.Quantity"

selected() {
  [ ${#CHOSEN[@]} -eq 0 ] && return 0
  local c; for c in "${CHOSEN[@]}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

MODULES=$(echo "$TARGETS" | while read -r name module _ _; do selected "$name" && echo "$module"; done | sort -u | paste -sd, -)
[ -n "$MODULES" ] || { echo "no such target: ${CHOSEN[*]} (reflex nbd slotable rows translate)" >&2; exit 2; }
mkdir -p target/fuzz
echo "compiling $MODULES and what they need..." >&2
./mvnw -B -ntp -q -pl "$MODULES" -am test-compile >target/fuzz/compile.log 2>&1 || { tail -40 target/fuzz/compile.log >&2; exit 2; }

failed=0
ROWS=""
while read -r name module class extra; do
  selected "$name" || continue
  instrument=()
  [ "$extra" = "-" ] || instrument=("-Djazzer.instrument=io.reflex.**,$extra") # the parser's own branches steer too
  log="target/fuzz/$name.log"
  echo "fuzzing $name ($module $class): up to $EXECS executions or ${TIME}s..." >&2
  start=$(date +%s)
  # Jazzer reads inputs from the class path copy: drop it so that renamed or deleted inputs are not replayed.
  find "$module/target/test-classes" -type d -name '*FuzzTestInputs' -prune -exec rm -rf {} + 2>/dev/null
  # test-compile (up to date: quick) keeps the reactor's own classes on the class path instead of ~/.m2 snapshots;
  # only the fuzz execution runs. The harness classes are left out of the coverage Jazzer steers by.
  JAZZER_FUZZ=1 ./mvnw -B -ntp -q -pl "$module" -am test-compile surefire:test@fuzz \
    -Dfuzz.test="$class" -Dsurefire.failIfNoSpecifiedTests=false \
    -Djazzer.max_executions="$EXECS" -Djazzer.max_duration="${TIME}s" -Djazzer.keep_going="$KEEP_GOING" "${instrument[@]}" \
    '-Djazzer.instrumentation_excludes=io.reflex.dataplane.fuzz.**:io.reflex.agent.fuzz.**:io.reflex.operator.fuzz.**' >"$log" 2>&1
  rc=$?
  wall=$(( $(date +%s) - start ))
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
  last_line=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1)
  line=${done_line:-$last_line}
  runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | grep -oE '[0-9]+' | head -1)
  secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | grep -oE '[0-9]+' | tail -1)
  cov=$(echo "$line" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
  ft=$(echo "$line" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+')
  corp=$(echo "$line" | grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' | cut -d' ' -f2)
  eps=$(echo "$line" | grep -oE 'exec/s: [0-9]+' | grep -oE '[0-9]+')
  crashes=$(grep -cE 'Test unit written to .*/(crash|timeout|oom|leak)-' "$log")
  slow=$(grep -cE 'Test unit written to .*/slow-unit-' "$log")
  [ -n "$runs" ] || runs=$(echo "$line" | grep -oE '^#[0-9]+' | tr -d '#')
  status=ok
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    status=FAILED
    failed=$((failed + 1))
    grep -E 'Test unit written to|FuzzTestFinding|Caused by' "$log" | head -5 >&2
  fi
  ROWS="$ROWS$(printf '%-10s %12s %8s %8s %14s %8s %8s %8s %s' "$name" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${eps:-?}" "${secs:-?}" "$wall" "$status (crashes: $crashes, slow units: $slow)")
"
  echo "$name: $status, ${runs:-?} executions in ${secs:-?} s (${eps:-?}/s), cov ${cov:-?} ft ${ft:-?}, corpus ${corp:-?}; log $log" >&2
done <<<"$TARGETS"

printf '%-10s %12s %8s %8s %14s %8s %8s %8s %s\n' target executions cov ft corpus exec/s fuzz_s wall_s result
printf '%s' "$ROWS"
exit "$failed"

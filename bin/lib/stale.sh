# Sourced by launchers: reflex_stale JAR MODULE... succeeds when JAR is missing or older than any source/pom of the
# modules it is built from (so a launcher never runs a jar that predates the checkout).
reflex_stale() {
  local jar=$1; shift
  [ -f "$jar" ] || return 0
  [ -n "${REFLEX_REBUILD:-}" ] && return 0
  local paths=("$root/pom.xml")
  for m in "$@"; do paths+=("$root/$m/pom.xml" "$root/$m/src/main"); done
  [ -n "$(find "${paths[@]}" -newer "$jar" -print -quit 2>/dev/null)" ]
}

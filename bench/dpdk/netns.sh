#!/usr/bin/env bash
# Two network namespaces joined by a veth pair, for the DPDK engine's tests and benchmarks (root only).
#
#   netns.sh up ID [kernel]   server ns rfxdp<ID>s holds veth end rfxdp<ID>s (no kernel address: DPDK's af_packet
#                             port owns it; with "kernel", 10.77.<ID>.1/24 for a kernel-TCP server instead),
#                             client ns rfxdp<ID>c holds rfxdp<ID>c = 10.77.<ID>.2/24. MTU 9000 on both ends.
#   netns.sh down ID          removes both namespaces (and so the pair).
#
# The client end sends with TX checksum offload off: over veth the kernel would otherwise leave UDP checksums
# partial (CHECKSUM_PARTIAL), which a packet socket (DPDK af_packet) sees as wrong checksums. A real NIC fills them.
# ID: 1-250.
set -euo pipefail
trap '[ "${cmd:-}" = up ] && [ $? -ne 0 ] && "$0" down "$id"' EXIT
cmd=${1:?up|down}; id=${2:?ID 1-250}; mode=${3:-dpdk}
s=rfxdp${id}s; c=rfxdp${id}c; net=10.77.${id}
case "$cmd" in
  up)
    ip netns add "$s"; ip netns add "$c"
    ip link add "$s" mtu 9000 type veth peer name "$c" mtu 9000
    # while both ends are still here: checksums in software on the client end (ethtool -K tx off, without ethtool)
    python3 - "$c" <<'PY'
import ctypes, fcntl, socket, struct, sys
value = ctypes.create_string_buffer(struct.pack('II', 0x17, 0), 8)          # ETHTOOL_STXCSUM, off
ifr = struct.pack('16sP', sys.argv[1].encode(), ctypes.addressof(value))
sock = socket.socket()                                                      # kept alive across the ioctl
fcntl.ioctl(sock.fileno(), 0x8946, ifr)                                     # SIOCETHTOOL
PY
    ip link set "$s" netns "$s"; ip link set "$c" netns "$c"
    for ns in "$s" "$c"; do
      ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
      ip -n "$ns" link set lo up
    done
    ip -n "$c" addr add "$net.2/24" dev "$c"
    [ "$mode" = kernel ] && ip -n "$s" addr add "$net.1/24" dev "$s"
    ip -n "$s" link set "$s" up; ip -n "$c" link set "$c" up
    ;;
  down)
    ip netns del "$s" 2>/dev/null || true
    ip netns del "$c" 2>/dev/null || true
    ip link del "$s" 2>/dev/null || true   # a pair left in this namespace by a failed "up"
    ;;
  *) echo "usage: $0 up|down ID [kernel]" >&2; exit 2 ;;
esac

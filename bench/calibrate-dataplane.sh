#!/usr/bin/env bash
# Calibrate a device model *through the dataplane* (network and dataplane costs included): bench/calibrate.sh with
# reflex-calibrate --through-dataplane, which starts a dataplane in-process (QoS off, one loop, 127.0.0.1) and loads
# it with the client library, open loop, CO-corrected.
#
#   bench/calibrate-dataplane.sh [NAME]      (default NAME: virtio-vm-dataplane) -> devmodels/models/NAME.yaml
#
# Why: on this VM the disk's tail depends on what the vCPUs do (bench/README.md "Calibrating through the
# dataplane"); measured as a tenant sees it, with server and client on CPU (default vCPU 1, as the QoS layout), the
# budget holds once a dataplane and its clients run. Environment as bench/calibrate.sh.
set -euo pipefail
CALIBRATE_KIND=calibrate-dataplane EXTRA="--through-dataplane ${EXTRA:-}" \
  exec "$(dirname "$0")/calibrate.sh" "${1:-virtio-vm-dataplane}"

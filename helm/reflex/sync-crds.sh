#!/usr/bin/env bash
# Copy the CRDs into the chart: crds/generated/ (generated from the Java model, see README "CRDs") is the one
# source of truth; helm/reflex/crds/ is a copy because helm installs only files inside the chart.
# helm/test.sh fails when the two differ. Run after regenerating the CRD YAML:
#   helm/reflex/sync-crds.sh
set -euo pipefail
chart=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$chart/../../crds/generated" && pwd)
rm -f "$chart"/crds/*.yml "$chart"/crds/*.yaml
cp "$src"/*.yml "$chart/crds/"
echo "sync-crds: copied $(ls "$src"/*.yml | wc -l) CRDs from crds/generated/ into helm/reflex/crds/"

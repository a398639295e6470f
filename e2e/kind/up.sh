#!/usr/bin/env bash
# ReFlex on Kind, for users with Docker (not exercised on the CI machine, which has no Docker engine):
# builds the images as tars with the Maven `images` profile (no daemon needed for that), creates the cluster from
# kind-config.yaml, loads the tars with `kind load image-archive`, and installs the chart with a file-backed device.
#   e2e/kind/up.sh            # create + install
#   kind delete cluster --name reflex
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "e2e/kind/up.sh: $tool is required" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "e2e/kind/up.sh: no Docker engine reachable" >&2; exit 1; }
source "$root/bin/lib/java-home.sh"
# 2 MiB hugepages on the host (the Kind node shares its kernel); only raise, never lower.
cur=$(cat /proc/sys/vm/nr_hugepages)
[ "$cur" -ge 256 ] || echo 256 | sudo tee /proc/sys/vm/nr_hugepages >/dev/null || echo "warning: could not set hugepages" >&2
(cd "$root" && ./mvnw -B -ntp -q -Pimages -pl operator,node-agent,client -am package -DskipTests)
kind get clusters | grep -qx reflex || kind create cluster --config "$root/e2e/kind/kind-config.yaml"
for tar in "$root"/operator/target/*-image.tar "$root"/node-agent/target/*-image.tar "$root"/client/target/*-image.tar; do
  kind load image-archive "$tar" --name reflex
done
helm upgrade --install reflex "$root/helm/reflex" --namespace reflex-system --create-namespace \
  -f "$root/helm/reflex/ci/e2e-values.yaml" --wait --timeout 5m
kubectl get fd -o wide
echo "next: kubectl apply -f $root/crds/examples/flashtenant-be.yaml, then read its Secret (see helm/reflex/README.md)"

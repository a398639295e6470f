{{/* Chart name. */}}
{{- define "reflex.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name prefix: the release name, plus the chart name unless the release name contains it. */}}
{{- define "reflex.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "reflex.operator.fullname" -}}
{{- printf "%s-operator" (include "reflex.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{- define "reflex.agent.fullname" -}}
{{- printf "%s-node-agent" (include "reflex.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "reflex.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "reflex.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: reflex
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "reflex.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reflex.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "reflex.agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reflex.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: node-agent
{{- end }}

{{- define "reflex.operator.serviceAccountName" -}}
{{- include "reflex.operator.fullname" . }}
{{- end }}

{{- define "reflex.agent.serviceAccountName" -}}
{{- include "reflex.agent.fullname" . }}
{{- end }}

{{/* image: repository:tag, tag defaulting to the chart's appVersion. Call with (dict "image" .Values.x.image "root" $). */}}
{{- define "reflex.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* Leader election: forced on with more than one replica. */}}
{{- define "reflex.operator.leaderElection" -}}
{{- if or .Values.operator.leaderElection.enabled (gt (int .Values.operator.replicas) 1) }}true{{ else }}false{{ end }}
{{- end }}

{{/* job label of the agents' series in Prometheus (the PodMonitor's default job is NAMESPACE/NAME). */}}
{{- define "reflex.agent.job" -}}
{{- default (printf "%s/%s" .Release.Namespace (include "reflex.agent.fullname" .)) .Values.monitoring.prometheusRule.agentJob }}
{{- end }}

{{/* Nodes with their own device list (nodeDevices keys), sorted. */}}
{{- define "reflex.agent.pinnedNodes" -}}
{{- keys .Values.agent.nodeDevices | sortAlpha | toJson }}
{{- end }}

{{/* Name of the DaemonSet pinned to one node. Call with (dict "root" $ "node" NODE). */}}
{{- define "reflex.agent.nodeSetName" -}}
{{- $base := include "reflex.agent.fullname" .root | trunc 40 | trimSuffix "-" }}
{{- $node := .node | lower | replace "." "-" | replace "_" "-" | trunc 14 | trimSuffix "-" }}
{{- printf "%s-%s-%s" $base $node (sha256sum .node | trunc 6) }}
{{- end }}

{{/* Checks the schema cannot express; rendered (as nothing) by 000-validate.yaml. */}}
{{- define "reflex.validate" -}}
{{- $p := .Values.operator.placement.ports }}
{{- if gt (int $p.min) (int $p.max) }}
{{- fail (printf "operator.placement.ports: min %v is above max %v" $p.min $p.max) }}
{{- end }}
{{- $a := .Values.agent }}
{{- $nbd := int $a.nbdPort }}
{{- if and (gt $nbd 0) (ge (add $nbd 15) (int $p.min)) (le $nbd (int $p.max)) }}
{{- fail (printf "agent.nbdPort %v (and the next 15, one per device) overlaps operator.placement.ports %v-%v, where tenants listen" $nbd $p.min $p.max) }}
{{- end }}
{{- if and (eq $a.network.engine "dpdk") (not $a.dpdk.address) (not $a.dpdk.nodeAddresses) }}
{{- fail "agent.network.engine dpdk: give the DPDK port an address, agent.dpdk.address or agent.dpdk.nodeAddresses {NODE: IP/PREFIX}" }}
{{- end }}
{{- if eq $a.network.engine "dpdk" }}
{{- $eal := regexSplit "\\s+" (trim $a.dpdk.args) -1 }}
{{- if and (not (has "--no-huge" $eal)) (not $a.hugepages.enabled) }}
{{- fail "agent.network.engine dpdk needs agent.hugepages.enabled: the EAL's memory (mbuf pools, about 64 2 MiB pages per loop at MTU 9000), unless agent.dpdk.args has --no-huge" }}
{{- end }}
{{- if and (has "--no-huge" $eal) (has "--in-memory" $eal) }}
{{- fail "agent.dpdk.args: the EAL refuses --in-memory together with --no-huge (use --no-shconf with --no-huge)" }}
{{- end }}
{{- if not $a.privileged }}
{{- /* Unprivileged: only a vdev on a kernel interface (net_af_packet: NET_RAW and NET_ADMIN, see the DaemonSet). */}}
{{- if or $a.dpdk.nic (not $a.dpdk.args) }}
{{- fail "agent.network.engine dpdk on a NIC (agent.dpdk.nic, or auto when agent.dpdk.args names no port) needs agent.privileged: the agent binds it to vfio-pci through sysfs and the EAL opens /dev/vfio; without privilege only a vdev works (agent.dpdk.args \"--no-huge --no-shconf --vdev net_af_packet0,iface=IF\")" }}
{{- end }}
{{- if regexMatch "net_af_xdp" $a.dpdk.args }}
{{- fail "agent.dpdk.args: net_af_xdp loads an XDP program (bpf, netlink) and needs agent.privileged; without privilege use net_af_packet" }}
{{- end }}
{{- end }}
{{- end }}
{{- $taken := list "/dev" "/sys" "/run/udev" "/tmp" "/hugepages" "/var/run/dpdk" $a.stateHostPath }}
{{- range $a.hostPaths }}
{{- if has . $taken }}
{{- fail (printf "agent.hostPaths: %s is already mounted into the agent" .) }}
{{- end }}
{{- end }}
{{- /* A create=SIZE device's file must land on the node: under one of agent.hostPaths. */}}
{{- $specs := $a.devices | default list }}
{{- range $node, $list := $a.nodeDevices }}
{{- $specs = concat $specs $list }}
{{- end }}
{{- range $spec := $specs }}
{{- $parts := splitList "," $spec }}
{{- $target := first $parts }}
{{- range rest $parts }}
{{- if hasPrefix "create=" . }}
{{- $under := false }}
{{- range $a.hostPaths }}
{{- if hasPrefix (printf "%s/" .) $target }}
{{- $under = true }}
{{- end }}
{{- end }}
{{- if not $under }}
{{- fail (printf "agent devices: %s has create= but %s is under none of agent.hostPaths %v: the agent would create it inside its container" $spec $target $a.hostPaths) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.agent.hugepages.enabled (not .Values.agent.privileged) (gt (int64 .Values.agent.hugepages.pagesPerNumaNode) 0) }}
{{- fail "agent.hugepages.pagesPerNumaNode > 0 needs agent.privileged (the agent writes /sys/devices/system/node/*/hugepages)" }}
{{- end }}
{{- end }}

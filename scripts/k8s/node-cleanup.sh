#!/usr/bin/env bash
# Removes everything a real node of the local cluster may leave behind once its processes are gone or going:
# containers (through runc's state under the node directory), containerd shims bound to the node's socket,
# mounts under the node directory (container root filesystems, network namespaces, pod volumes), the CNI
# bridge, kube-proxy's iptables rules and the NetworkPolicy agent's nftables table. Idempotent; safe to run when
# nothing is left.
#
# Called by the launcher on stop and on a failed start, and by the watchdog after the owner died (SIGKILL).
# Usage: node-cleanup.sh <node-dir> <bridge> [kube-proxy-binary]
set -uo pipefail
NODE_DIR="$1"
BRIDGE="$2"
KUBE_PROXY="${3:-}"
[[ -n "$NODE_DIR" && "$NODE_DIR" == /*/* ]] || { echo "node-cleanup: refusing node dir '$NODE_DIR'" >&2; exit 2; }
SOCK="$NODE_DIR/containerd.sock"

# 1. Containers. runc keeps their state under the node's own runc root (<node>/runc/<ns>/<ns>/<id>/state.json,
# containerd is configured so); kill and delete each, then kill whatever is still in their cgroups.
ids=()
if [[ -d "$NODE_DIR/runc" ]]; then
  while IFS= read -r state; do
    cdir="$(dirname "$state")"
    id="$(basename "$cdir")"
    root="$(dirname "$cdir")"
    ids+=("$id")
    if command -v runc >/dev/null 2>&1; then
      runc --root "$root" kill "$id" KILL >/dev/null 2>&1
      runc --root "$root" delete --force "$id" >/dev/null 2>&1
    fi
  done < <(find "$NODE_DIR/runc" -name state.json 2>/dev/null)
fi
for id in "${ids[@]}"; do
  for procs in /sys/fs/cgroup/*/k8s.io/"$id"/cgroup.procs /sys/fs/cgroup/k8s.io/"$id"/cgroup.procs; do
    [[ -f "$procs" ]] || continue
    while read -r pid; do kill -KILL "$pid" 2>/dev/null; done <"$procs"
  done
done
if ((${#ids[@]})); then
  sleep 0.3
  for id in "${ids[@]}"; do rmdir /sys/fs/cgroup/*/k8s.io/"$id" /sys/fs/cgroup/k8s.io/"$id" 2>/dev/null; done
  # The parent goes too when nothing else (another containerd) uses it; rmdir leaves non-empty ones alone.
  rmdir /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io 2>/dev/null
fi

# 2. Shims of this node's containerd (their command line names its socket); other containerds are not touched.
for p in /proc/[0-9]*; do
  cmd="$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" || continue
  case "$cmd" in
    containerd-shim*" -address $SOCK "* | *"/containerd-shim"*" -address $SOCK "*) kill -KILL "${p#/proc/}" 2>/dev/null ;;
  esac
done
# 3. Mounts under the node directory, deepest first (rootfs overlays, netns bind mounts, pod volumes, shm).
for _ in 1 2 3; do
  mapfile -t mounts < <(awk -v d="$NODE_DIR/" '{ m = $5; gsub(/\\040/, " ", m); if (index(m, d) == 1) print m }' /proc/self/mountinfo | sort -r)
  ((${#mounts[@]})) || break
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
done

# 4. The bridge (and with it the pods' veth ends).
if [[ -n "$BRIDGE" ]] && ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE" 2>/dev/null; fi

# 5. kube-proxy's chains (its own --cleanup knows every mode), then kubelet's (KUBE-FIREWALL, canaries, hints).
# These names are machine-wide: one real node per machine (the launcher's lock) and never on a Kubernetes node.
if [[ -n "$KUBE_PROXY" && -x "$KUBE_PROXY" ]]; then "$KUBE_PROXY" --cleanup >/dev/null 2>&1; fi
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null 2>&1 || continue
  for table in filter nat mangle; do
    rules="$("$ipt" -t "$table" -S 2>/dev/null)" || continue
    while read -r rule; do
      [[ -n "$rule" ]] || continue
      eval "$ipt -t $table -D ${rule#-A }" 2>/dev/null
    done < <(grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' <<<"$rules")
    chains="$(awk '/^-N KUBE-/ { print $2 }' <<<"$rules")"
    for c in $chains; do "$ipt" -t "$table" -F "$c" 2>/dev/null; done
    for c in $chains; do "$ipt" -t "$table" -X "$c" 2>/dev/null; done
  done
done

# 6. NetworkPolicy: the node's queueing chain (NETPOL_IPTABLES_CHAIN in real-node.ts, on kernels without nftables'
# queue expression) and the agent's own table (NETPOL_TABLE). The agent deletes its table when it stops; either left
# behind means a queue nobody reads, which drops new connections of pods.
if command -v iptables >/dev/null 2>&1 && iptables -t mangle -S STREAMSPACE-NETPOL >/dev/null 2>&1; then
  while iptables -w -t mangle -D POSTROUTING -j STREAMSPACE-NETPOL 2>/dev/null; do :; done
  iptables -w -t mangle -F STREAMSPACE-NETPOL 2>/dev/null
  iptables -w -t mangle -X STREAMSPACE-NETPOL 2>/dev/null
fi
if command -v nft >/dev/null 2>&1 && nft list table inet streamspace-netpol >/dev/null 2>&1; then
  nft delete table inet streamspace-netpol 2>/dev/null
fi

remaining="$(awk -v d="$NODE_DIR/" 'index($5, d) == 1' /proc/self/mountinfo | wc -l)"
if ((remaining > 0)); then
  echo "node-cleanup: $remaining mounts under $NODE_DIR could not be removed" >&2
  exit 1
fi
exit 0

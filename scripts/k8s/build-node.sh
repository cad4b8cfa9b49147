#!/usr/bin/env bash
# Builds the binaries of a real Kubernetes node from the Go module proxy: kubelet and kube-proxy of the same
# pinned k8s.io/kubernetes release as the control plane (scripts/k8s/build.sh), through the same kind of wrapper
# module. Kept in a cache directory of its own (node-<version>), so adding the node never invalidates the control
# plane's cache, and a machine that cannot run a node never pays for this build.
#
# Output: progress on stderr; the last line on stdout is the directory holding kubelet and kube-proxy.
#
# Environment:
#   STREAMSPACE_K8S_NODE_ASSETS  a directory with ready kubelet and kube-proxy; when set, nothing is built
#   STREAMSPACE_K8S_CACHE        cache root (default ~/.cache/streamspace/k8s)
#   STREAMSPACE_K8S_FORCE=1      rebuild even if the cache is complete
set -euo pipefail

# Must match K8S_VERSION in build.sh: a kubelet newer than its API server is unsupported.
K8S_VERSION="$(sed -n 's/^K8S_VERSION=\(v[0-9.]*\)$/\1/p' "$(dirname "$0")/build.sh")"
RECIPE=1
BINARIES=(kubelet kube-proxy)
MIN_GO_MINOR=24

LOG_TAG=k8s-node-build
# shellcheck source=scripts/k8s/lib.sh
source "$(dirname "$0")/lib.sh"
[[ -n "$K8S_VERSION" ]] || die "cannot read K8S_VERSION from build.sh"

ASSETS="${STREAMSPACE_K8S_NODE_ASSETS:-}"
if [[ -n "$ASSETS" ]]; then
  for b in "${BINARIES[@]}"; do [[ -x "$ASSETS/$b" ]] || die "asset directory '$ASSETS' lacks $b"; done
  log "using ready node binaries from $ASSETS"
  cd "$ASSETS" && pwd -P
  exit 0
fi

CACHE_ROOT="${STREAMSPACE_K8S_CACHE:-$HOME/.cache/streamspace/k8s}"
KEY="node-${K8S_VERSION}"
DEST="$CACHE_ROOT/$KEY"
STAMP_TEXT="k8s=$K8S_VERSION binaries=${BINARIES[*]} recipe=$RECIPE"
mkdir -p "$CACHE_ROOT"

cache_complete() {
  [[ -f "$DEST/stamp" && "$(cat "$DEST/stamp")" == "$STAMP_TEXT" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$DEST/bin/$b" ]] || return 1; done
}

cache_hit_exit "$DEST/bin"
require_go "$MIN_GO_MINOR" "; it builds kubelet and kube-proxy (or set STREAMSPACE_K8S_NODE_ASSETS)"
lock_cache_key "$DEST/bin"
begin_build

# The same wrapper module as build.sh: k8s.io/kubernetes with its staging modules replaced by their releases.
log "resolving k8s.io/kubernetes $K8S_VERSION"
CMDS=(k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
k8s_wrapper_module "$SRC" streamspace.local/k8s-node-build "$K8S_VERSION" "${CMDS[@]}"
LDFLAGS="$(k8s_ldflags "$K8S_VERSION")"
for cmd in "${CMDS[@]}"; do
  name="${cmd##*/}"
  t=$SECONDS
  log "building $name $K8S_VERSION ..."
  (cd "$SRC" && go build -trimpath -ldflags "$LDFLAGS" -o "$TMP/bin/$name" "$cmd")
  log "  done in $((SECONDS - t))s"
done

"$TMP/bin/kubelet" --version >&2
finish_build "$DEST/bin"

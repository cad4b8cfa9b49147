#!/usr/bin/env bash
# Builds the real node's NetworkPolicy agent: scripts/k8s/netpol-agent/main.go around the controller of
# sigs.k8s.io/kube-network-policies (SIG Network's CNI-agnostic enforcer, nftables + NFQUEUE), from the Go module
# proxy. Kept in a cache directory of its own keyed by the module's version and this recipe
# (netpol-kube-network-policies-<version>), so neither the control plane's nor the node's cache is touched.
#
# Output: progress on stderr; the last line on stdout is the path of the netpol-agent binary.
#
# Environment:
#   STREAMSPACE_K8S_NETPOL_AGENT  a ready netpol-agent binary; when set, nothing is built
#   STREAMSPACE_K8S_CACHE         cache root (default ~/.cache/streamspace/k8s)
#   STREAMSPACE_K8S_FORCE=1       rebuild even if the cache is complete
set -euo pipefail

KNP_VERSION=v0.8.0
HERE="$(cd "$(dirname "$0")" && pwd -P)"
MAIN="$HERE/netpol-agent/main.go"
# The agent's source hash and a recipe number (bump it when the build below changes) key the cache entry.
RECIPE="2-$(sha256sum <"$MAIN" | cut -c1-12)"
MIN_GO_MINOR=23

LOG_TAG=k8s-netpol-build
# shellcheck source=scripts/k8s/lib.sh
source "$HERE/lib.sh"

if [[ -n "${STREAMSPACE_K8S_NETPOL_AGENT:-}" ]]; then
  [[ -x "$STREAMSPACE_K8S_NETPOL_AGENT" ]] || die "STREAMSPACE_K8S_NETPOL_AGENT '$STREAMSPACE_K8S_NETPOL_AGENT' is not an executable"
  log "using the ready agent $STREAMSPACE_K8S_NETPOL_AGENT"
  echo "$STREAMSPACE_K8S_NETPOL_AGENT"
  exit 0
fi

CACHE_ROOT="${STREAMSPACE_K8S_CACHE:-$HOME/.cache/streamspace/k8s}"
KEY="netpol-kube-network-policies-${KNP_VERSION}"
DEST="$CACHE_ROOT/$KEY"
STAMP_TEXT="kube-network-policies=$KNP_VERSION recipe=$RECIPE"
mkdir -p "$CACHE_ROOT"

cache_complete() { [[ -f "$DEST/stamp" && "$(cat "$DEST/stamp")" == "$STAMP_TEXT" && -x "$DEST/bin/netpol-agent" ]]; }

cache_hit_exit "$DEST/bin/netpol-agent"
require_go "$MIN_GO_MINOR" "; it builds the NetworkPolicy agent (or set STREAMSPACE_K8S_NETPOL_AGENT)"
lock_cache_key "$DEST/bin/netpol-agent"
begin_build
rm -rf "$SRC"
mkdir -p "$SRC"

# A wrapper module: our main package, the controller package at the pinned version, and the versions of
# client-go and the rest that kube-network-policies itself requires (go get keeps them; nothing is upgraded).
cp "$MAIN" "$SRC/main.go"
printf 'module streamspace.local/netpol-agent\n\ngo 1.23.0\n' >"$SRC/go.mod"
log "resolving sigs.k8s.io/kube-network-policies $KNP_VERSION"
(cd "$SRC" && go get "sigs.k8s.io/kube-network-policies@$KNP_VERSION" >&2 && go mod tidy >&2) ||
  die "could not resolve sigs.k8s.io/kube-network-policies@$KNP_VERSION from the module proxy ($(go env GOPROXY))"
log "building netpol-agent (kube-network-policies $KNP_VERSION) ..."
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$TMP/bin/netpol-agent" .)
"$TMP/bin/netpol-agent" --help >/dev/null 2>&1 || [[ $? == 2 ]] || die "the built agent does not run"

finish_build "$DEST/bin/netpol-agent"

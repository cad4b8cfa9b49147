#!/usr/bin/env bash
# Builds the binaries of a real Kubernetes control plane from the Go module proxy:
# kube-apiserver, kube-controller-manager, kube-scheduler (one k8s.io/kubernetes release),
# etcd and kwok, plus kwok's stage files. No Docker and no release downloads are needed,
# only Go and a reachable module proxy.
#
# Output: progress on stderr; the last line on stdout is the directory holding the binaries.
#
# Environment:
#   KUBEBUILDER_ASSETS / STREAMSPACE_K8S_ASSETS  a directory of ready binaries; when set, nothing is built
#   STREAMSPACE_K8S_CACHE                        cache root (default ~/.cache/streamspace/k8s)
#   STREAMSPACE_K8S_FORCE=1                      rebuild even if the cache is complete
set -euo pipefail

# Pinned versions. The cache key below is derived from them, so changing one builds into a new directory.
K8S_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
# Bump when the recipe changes in a way that should invalidate existing caches (flags, layout).
RECIPE=1

BINARIES=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)
MIN_GO_MINOR=24

LOG_TAG=k8s-build
# shellcheck source=scripts/k8s/lib.sh
source "$(dirname "$0")/lib.sh"

# Ready-made binaries (envtest convention). They must include everything the launcher runs:
# envtest's own asset bundles only carry kube-apiserver, etcd and kubectl, so say what is missing.
ASSETS="${STREAMSPACE_K8S_ASSETS:-${KUBEBUILDER_ASSETS:-}}"
if [[ -n "$ASSETS" ]]; then
  [[ -d "$ASSETS" ]] || die "asset directory '$ASSETS' (from STREAMSPACE_K8S_ASSETS/KUBEBUILDER_ASSETS) does not exist"
  missing=()
  for b in "${BINARIES[@]}"; do [[ -x "$ASSETS/$b" ]] || missing+=("$b"); done
  if ((${#missing[@]})); then
    die "asset directory '$ASSETS' lacks: ${missing[*]} (it needs ${BINARIES[*]}; unset the variable to build them with Go)"
  fi
  # kwok does nothing without its stage files; accept them inside the directory or beside it, as the build lays them out.
  if [[ ! -d "$ASSETS/stage/pod" && ! -d "$ASSETS/../stage/pod" ]]; then
    die "asset directory '$ASSETS' has no kwok stage files: copy kustomize/stage from the sigs.k8s.io/kwok module to '$ASSETS/stage'"
  fi
  log "using ready binaries from $ASSETS"
  cd "$ASSETS" && pwd -P
  exit 0
fi

CACHE_ROOT="${STREAMSPACE_K8S_CACHE:-$HOME/.cache/streamspace/k8s}"
KEY="${K8S_VERSION}-etcd${ETCD_VERSION}-kwok${KWOK_VERSION}"
DEST="$CACHE_ROOT/$KEY"
STAMP_TEXT="k8s=$K8S_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION recipe=$RECIPE"
mkdir -p "$CACHE_ROOT"

cache_complete() {
  [[ -f "$DEST/stamp" && "$(cat "$DEST/stamp")" == "$STAMP_TEXT" && -d "$DEST/stage" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$DEST/bin/$b" ]] || return 1; done
}

cache_hit_exit "$DEST/bin"

# Only a build needs Go (a warm cache works without it), and it must be new enough. Older Go cannot switch toolchains for modules that demand a newer one
# (etcd v3.6.16 declares go 1.26.0; Go >= 1.21 fetches that toolchain from the module proxy by itself).
require_go "$MIN_GO_MINOR" ". Install Go 1.${MIN_GO_MINOR}+ from https://go.dev/dl/, or point KUBEBUILDER_ASSETS at a directory with ${BINARIES[*]}."
lock_cache_key "$DEST/bin"
begin_build
mkdir -p "$SRC/k8s" "$SRC/etcd"

step_start=0
step() { step_start=$SECONDS; log "$* ..."; }
step_done() { log "  done in $((SECONDS - step_start))s (total $((SECONDS - START))s)"; }
LDFLAGS_BASE="-s -w"

# --- Kubernetes -----------------------------------------------------------------------------------
step "resolving k8s.io/kubernetes $K8S_VERSION"
K8S_CMDS=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
k8s_wrapper_module "$SRC/k8s" streamspace.local/k8s-build "$K8S_VERSION" "${K8S_CMDS[@]}"
step_done
K8S_LDFLAGS="$(k8s_ldflags "$K8S_VERSION")"
for cmd in "${K8S_CMDS[@]}"; do
  name="${cmd##*/}"
  step "building $name $K8S_VERSION"
  (cd "$SRC/k8s" && go build -trimpath -ldflags "$K8S_LDFLAGS" -o "$TMP/bin/$name" "$cmd")
  step_done
done

# --- etcd -------------------------------------------------------------------------------------------
# etcd's main package is the root of go.etcd.io/etcd/server/v3, whose go.mod also replaces sibling modules
# with relative paths; a wrapper module makes it buildable from the proxy.
step "building etcd $ETCD_VERSION"
cat >"$SRC/etcd/go.mod" <<GOMOD
module streamspace.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
rm -f "$SRC/etcd/go.sum"
(cd "$SRC/etcd" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 &&
  go build -trimpath -ldflags "$LDFLAGS_BASE -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" -o "$TMP/bin/etcd" go.etcd.io/etcd/server/v3)
step_done

# --- kwok -------------------------------------------------------------------------------------------
# kwok's go.mod has no local replaces, so `go install pkg@version` builds it in its own module graph.
step "building kwok $KWOK_VERSION"
GOBIN="$TMP/bin" GOFLAGS="${GOFLAGS/-mod=mod/}" go install -trimpath -ldflags "$LDFLAGS_BASE" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
# Stage files (node initialisation, heartbeats, pod readiness, ...) are what make kwok move objects; they ship
# in the module source, which Go keeps read-only, hence the chmod.
KWOK_DIR="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$KWOK_DIR/kustomize/stage" ]] || die "kwok module at '$KWOK_DIR' has no kustomize/stage directory"
cp -R "$KWOK_DIR/kustomize/stage" "$TMP/stage"
chmod -R u+w "$TMP/stage"
step_done

for b in "${BINARIES[@]}"; do [[ -x "$TMP/bin/$b" ]] || die "build finished without $b"; done
"$TMP/bin/kube-apiserver" --version >&2
finish_build "$DEST/bin"

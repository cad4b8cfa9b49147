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

log() { printf '[k8s-node-build] %s\n' "$*" >&2; }
die() { printf '[k8s-node-build] error: %s\n' "$*" >&2; exit 1; }
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

if [[ "${STREAMSPACE_K8S_FORCE:-}" != 1 ]] && cache_complete; then
  log "cache hit: $DEST"
  echo "$DEST/bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "Go is not installed (or not on PATH); it builds kubelet and kube-proxy (or set STREAMSPACE_K8S_NODE_ASSETS)"
GOVER="$(go env GOVERSION 2>/dev/null || true)"
if [[ ! "$GOVER" =~ ^go1\.([0-9]+) ]] || ((BASH_REMATCH[1] < MIN_GO_MINOR)); then
  die "Go 1.${MIN_GO_MINOR} or newer is required, found '${GOVER:-unknown}'"
fi

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/.$KEY.lock"
  if ! flock -n 9; then
    log "another build of $KEY is running; waiting for it"
    flock 9
  fi
  if [[ "${STREAMSPACE_K8S_FORCE:-}" != 1 ]] && cache_complete; then
    log "cache hit: $DEST"
    echo "$DEST/bin"
    exit 0
  fi
fi

TMP="$(mktemp -d "$CACHE_ROOT/.tmp-$KEY.XXXXXX")"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TMP/bin"
SRC="$CACHE_ROOT/src/$KEY"
mkdir -p "$SRC"
START=$SECONDS
export GOFLAGS="${GOFLAGS:-} -mod=mod"

# The same wrapper module as build.sh: k8s.io/kubernetes with its staging modules replaced by their releases.
log "resolving k8s.io/kubernetes $K8S_VERSION"
K8S_MOD="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$K8S_MOD" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the module proxy ($(go env GOPROXY))"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
{
  echo "module streamspace.local/k8s-node-build"
  echo
  echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$K8S_MOD")"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$K8S_MOD" | while read -r m; do
    echo "	$m => $m $STAGING_VERSION"
  done
  echo ")"
} >"$SRC/go.mod"
rm -f "$SRC/go.sum"
CMDS=(k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
(cd "$SRC" && go get "${CMDS[@]/%/@$K8S_VERSION}" >&2)

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  LDFLAGS+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
for cmd in "${CMDS[@]}"; do
  name="${cmd##*/}"
  t=$SECONDS
  log "building $name $K8S_VERSION ..."
  (cd "$SRC" && go build -trimpath -ldflags "$LDFLAGS" -o "$TMP/bin/$name" "$cmd")
  log "  done in $((SECONDS - t))s"
done

"$TMP/bin/kubelet" --version >&2
echo "$STAMP_TEXT" >"$TMP/stamp"
chmod 755 "$TMP"
rm -rf "$DEST"
mv -T "$TMP" "$DEST"
trap - EXIT
log "built $KEY in $((SECONDS - START))s: $DEST"
echo "$DEST/bin"

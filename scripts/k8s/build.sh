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

log() { printf '[k8s-build] %s\n' "$*" >&2; }
die() { printf '[k8s-build] error: %s\n' "$*" >&2; exit 1; }

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

if [[ "${STREAMSPACE_K8S_FORCE:-}" != 1 ]] && cache_complete; then
  log "cache hit: $DEST"
  echo "$DEST/bin"
  exit 0
fi

# Only a build needs Go (a warm cache works without it), and it must be new enough. Older Go cannot switch toolchains for modules that demand a newer one
# (etcd v3.6.16 declares go 1.26.0; Go >= 1.21 fetches that toolchain from the module proxy by itself).
command -v go >/dev/null 2>&1 || die "Go is not installed (or not on PATH). Install Go 1.${MIN_GO_MINOR}+ from https://go.dev/dl/, or point KUBEBUILDER_ASSETS at a directory with ${BINARIES[*]}."
GOVER="$(go env GOVERSION 2>/dev/null || true)"
if [[ ! "$GOVER" =~ ^go1\.([0-9]+) ]] || ((BASH_REMATCH[1] < MIN_GO_MINOR)); then
  die "Go 1.${MIN_GO_MINOR} or newer is required, found '${GOVER:-unknown}' at $(command -v go)"
fi

# Two concurrent callers (say, a test run and `npm run cluster`) must not build the same key at once:
# serialise on a lock file and re-check the cache once we hold it.
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

# Build into a temporary sibling and rename at the end, so an interrupted build never leaves a half cache.
TMP="$(mktemp -d "$CACHE_ROOT/.tmp-$KEY.XXXXXX")"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TMP/bin"

# The wrapper modules live beside the cache (not in the repository) and are regenerated on every build.
SRC="$CACHE_ROOT/src/$KEY"
mkdir -p "$SRC/k8s" "$SRC/etcd"

START=$SECONDS
step_start=0
step() { step_start=$SECONDS; log "$* ..."; }
step_done() { log "  done in $((SECONDS - step_start))s (total $((SECONDS - START))s)"; }

export GOFLAGS="${GOFLAGS:-} -mod=mod"
LDFLAGS_BASE="-s -w"

# --- Kubernetes -----------------------------------------------------------------------------------
# k8s.io/kubernetes replaces its ~30 staging modules (k8s.io/api, k8s.io/client-go, ...) with local paths,
# so it cannot be built as a dependency as is. A wrapper module replaces each of them with the published
# v0.<minor>.<patch> release instead; the list is read from the release's own go.mod so it stays exact.
step "resolving k8s.io/kubernetes $K8S_VERSION"
K8S_MOD="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$K8S_MOD" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the module proxy ($(go env GOPROXY))"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
{
  echo "module streamspace.local/k8s-build"
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
} >"$SRC/k8s/go.mod"
rm -f "$SRC/k8s/go.sum"
K8S_CMDS=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
(cd "$SRC/k8s" && go get "${K8S_CMDS[@]/%/@$K8S_VERSION}" >&2)
step_done

# Without the stamp, clients see v0.0.0-master, and version-dependent defaults (emulation version) misbehave.
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
K8S_LDFLAGS="$LDFLAGS_BASE"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  K8S_LDFLAGS+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
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
echo "$STAMP_TEXT" >"$TMP/stamp"
chmod 755 "$TMP" # mktemp made it private; the cache is meant to be shared with the user's other tools

# Swap the finished directory into place. rm + mv is not one atomic step, but a reader checks the stamp
# and all binaries, and the lock above keeps builders apart.
rm -rf "$DEST"
mv -T "$TMP" "$DEST"
trap - EXIT
log "built $KEY in $((SECONDS - START))s: $DEST"
echo "$DEST/bin"

# Shared steps of the Go-module builds in scripts/k8s (build.sh, build-node.sh, build-netpol.sh): the Go version
# check, the per-key cache lock, the temporary build directory swapped into place, and the wrapper module that
# makes k8s.io/kubernetes buildable from the module proxy. Sourced, never run. Each script sets LOG_TAG, KEY,
# DEST, STAMP_TEXT and defines cache_complete before calling these.

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# require_go MIN_MINOR WHAT: Go must be on PATH and at least 1.MIN_MINOR; WHAT completes "Go is not installed ...".
require_go() {
  local min="$1" what="$2" ver
  command -v go >/dev/null 2>&1 || die "Go is not installed (or not on PATH)$what"
  ver="$(go env GOVERSION 2>/dev/null || true)"
  if [[ ! "$ver" =~ ^go1\.([0-9]+) ]] || ((BASH_REMATCH[1] < min)); then
    die "Go 1.${min} or newer is required, found '${ver:-unknown}' at $(command -v go)"
  fi
}

# cache_hit_exit OUTPUT: when the cache is complete (and no rebuild is forced), print OUTPUT and exit.
cache_hit_exit() {
  if [[ "${STREAMSPACE_K8S_FORCE:-}" != 1 ]] && cache_complete; then
    log "cache hit: $DEST"
    echo "$1"
    exit 0
  fi
}

# lock_cache_key OUTPUT: two concurrent callers (a test run and `npm run cluster`) must not build the same key at
# once: serialise on a lock file and re-check the cache once it is held.
lock_cache_key() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$CACHE_ROOT/.$KEY.lock"
  if ! flock -n 9; then
    log "another build of $KEY is running; waiting for it"
    flock 9
  fi
  cache_hit_exit "$1"
}

# begin_build: builds go into a temporary sibling of DEST (TMP, with TMP/bin), renamed by finish_build, so an
# interrupted build never leaves a half cache. The wrapper modules live in SRC, beside the cache.
begin_build() {
  TMP="$(mktemp -d "$CACHE_ROOT/.tmp-$KEY.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$TMP/bin"
  SRC="$CACHE_ROOT/src/$KEY"
  mkdir -p "$SRC"
  START=$SECONDS
  export GOFLAGS="${GOFLAGS:-} -mod=mod"
}

# finish_build OUTPUT: stamp, swap the finished directory into place and print OUTPUT. rm + mv is not one atomic
# step, but a reader checks the stamp and every binary, and the lock keeps builders apart.
finish_build() {
  echo "$STAMP_TEXT" >"$TMP/stamp"
  chmod 755 "$TMP" # mktemp made it private; the cache is meant to be shared with the user's other tools
  rm -rf "$DEST"
  mv -T "$TMP" "$DEST"
  trap - EXIT
  log "built $KEY in $((SECONDS - START))s: $DEST"
  echo "$1"
}

# k8s_wrapper_module DIR MODULE VERSION CMD...: k8s.io/kubernetes replaces its ~30 staging modules (k8s.io/api,
# k8s.io/client-go, ...) with local paths, so it cannot be built as a dependency as is. A wrapper module replaces
# each with its published v0.<minor>.<patch> release instead; the list is read from the release's own go.mod.
k8s_wrapper_module() {
  local dir="$1" module="$2" version="$3" mod staging
  shift 3
  mod="$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$mod" ]] || die "could not download k8s.io/kubernetes@$version from the module proxy ($(go env GOPROXY))"
  staging="v0.${version#v1.}"
  mkdir -p "$dir"
  {
    echo "module $module"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$mod")"
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$mod" | while read -r m; do
      echo "	$m => $m $staging"
    done
    echo ")"
  } >"$dir/go.mod"
  rm -f "$dir/go.sum"
  (cd "$dir" && go get "${@/%/@$version}" >&2)
}

# k8s_ldflags VERSION: stripped binaries stamped with the release (without the stamp clients see v0.0.0-master,
# and version-dependent defaults such as the emulation version misbehave).
k8s_ldflags() {
  local version="$1" minor flags="-s -w" pkg
  minor="${version#v1.}"
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    flags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

#!/usr/bin/env bash
# Builds metrics-server (sigs.k8s.io/metrics-server), which serves the resource metrics API (metrics.k8s.io) of the
# local cluster, from the Go module proxy. Kept in a cache directory of its own keyed by its version and this recipe
# (metrics-server-<version>), so the control plane's cache is not touched and a cold build of this one never delays
# the control plane: the launcher starts it after the cluster is ready.
#
# Output: progress on stderr; the last line on stdout is the path of the metrics-server binary.
#
# Environment:
#   STREAMSPACE_K8S_METRICS_SERVER  a ready metrics-server binary; when set, nothing is built
#   STREAMSPACE_K8S_CACHE           cache root (default ~/.cache/streamspace/k8s)
#   STREAMSPACE_K8S_FORCE=1         rebuild even if the cache is complete
set -euo pipefail

# v0.8.0: its go.mod has no replace directives (so `go install pkg@version` builds it) and its client libraries
# (k8s.io v0.33) speak to the v1.35 control plane through stable APIs only. v0.9.0 is served but not a release.
METRICS_SERVER_VERSION=v0.8.0
RECIPE=2
MIN_GO_MINOR=24

LOG_TAG=k8s-metrics-build
# shellcheck source=scripts/k8s/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ -n "${STREAMSPACE_K8S_METRICS_SERVER:-}" ]]; then
  [[ -x "$STREAMSPACE_K8S_METRICS_SERVER" ]] || die "STREAMSPACE_K8S_METRICS_SERVER '$STREAMSPACE_K8S_METRICS_SERVER' is not an executable"
  log "using the ready metrics-server $STREAMSPACE_K8S_METRICS_SERVER"
  echo "$STREAMSPACE_K8S_METRICS_SERVER"
  exit 0
fi

CACHE_ROOT="${STREAMSPACE_K8S_CACHE:-$HOME/.cache/streamspace/k8s}"
KEY="metrics-server-${METRICS_SERVER_VERSION}"
DEST="$CACHE_ROOT/$KEY"
STAMP_TEXT="metrics-server=$METRICS_SERVER_VERSION recipe=$RECIPE"
mkdir -p "$CACHE_ROOT"

cache_complete() { [[ -f "$DEST/stamp" && "$(cat "$DEST/stamp")" == "$STAMP_TEXT" && -x "$DEST/bin/metrics-server" ]]; }

cache_hit_exit "$DEST/bin/metrics-server"
require_go "$MIN_GO_MINOR" "; it builds metrics-server (or set STREAMSPACE_K8S_METRICS_SERVER)"
lock_cache_key "$DEST/bin/metrics-server"
begin_build

log "building metrics-server $METRICS_SERVER_VERSION ..."
# Its own module graph (go install pkg@version), so the -mod=mod that begin_build adds must go.
GOBIN="$TMP/bin" GOFLAGS="${GOFLAGS/-mod=mod/}" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION -X k8s.io/client-go/pkg/version.gitTreeState=clean" \
  "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION" ||
  die "could not build sigs.k8s.io/metrics-server@$METRICS_SERVER_VERSION from the module proxy ($(go env GOPROXY))"
"$TMP/bin/metrics-server" --version >&2 || die "the built metrics-server does not run"

finish_build "$DEST/bin/metrics-server"

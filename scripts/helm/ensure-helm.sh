#!/usr/bin/env bash
# Prints the path of a helm binary of the pinned version, building it from the Go module proxy into
# ~/.cache/streamspace/helm-<version>/ on first use (no release downloads are needed). HELM_BIN overrides.
set -euo pipefail
HELM_VERSION=v3.19.0
if [[ -n "${HELM_BIN:-}" ]]; then
  [[ -x "$HELM_BIN" ]] || { echo "[helm] HELM_BIN=$HELM_BIN is not an executable" >&2; exit 1; }
  echo "$HELM_BIN"; exit 0
fi
DEST="${STREAMSPACE_CACHE:-$HOME/.cache/streamspace}/helm-$HELM_VERSION"
if [[ -x "$DEST/helm" ]]; then echo "$DEST/helm"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "[helm] Go is needed to build helm $HELM_VERSION (or set HELM_BIN)" >&2; exit 1; }
mkdir -p "$DEST"
exec 9>"$DEST/.lock"
flock 9
if [[ ! -x "$DEST/helm" ]]; then
  echo "[helm] building helm $HELM_VERSION from the Go module proxy ..." >&2
  start=$SECONDS
  TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
  GOBIN="$TMP" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$TMP/helm" "$DEST/helm"
  echo "[helm] built in $((SECONDS - start)) s: $DEST/helm" >&2
fi
echo "$DEST/helm"

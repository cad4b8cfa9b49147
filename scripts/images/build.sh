#!/usr/bin/env bash
# Builds the images the real node of the local cluster runs, without a registry, Docker or any daemon:
#   pause    the CRI sandbox image: busybox-static, sleeping until told to stop
#   webapp   a small web application: busybox httpd (Debian's busybox-static) with a /healthz endpoint
#   desktop  a real X desktop from Debian packages (mmdebstrap): TigerVNC's Xvnc, twm, xterm, and websockify
#            serving noVNC's WebSocket, the way the public catalog's desktop templates serve it
# umoci assembles the OCI images, skopeo writes them as docker-archive tarballs that `ctr images import` reads
# with their full references (docker.io/streamspace/<name>:<tag>).
#
# Cache: ~/.cache/streamspace/images/<hash>/, where <hash> covers this script and the files beside it, so a
# change rebuilds and an unchanged recipe never does. Each image is built (and cached) on its own.
#
# Usage: build.sh [pause|webapp|desktop ...]   (default: all three)
# Output: progress on stderr; on stdout one line per image: <name> <reference> <archive path>.
# Environment: STREAMSPACE_IMAGES_CACHE (default ~/.cache/streamspace/images), STREAMSPACE_IMAGES_FORCE=1,
#              STREAMSPACE_DEBIAN_MIRROR (default: the machine's apt sources, else http://deb.debian.org/debian).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd -P)"
SUITE=bookworm
log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] error: %s\n' "$*" >&2; exit 1; }

HASH="$(cat "$HERE"/build.sh "$HERE"/files/* 2>/dev/null | sha256sum | cut -c1-16)"
CACHE_ROOT="${STREAMSPACE_IMAGES_CACHE:-$HOME/.cache/streamspace/images}"
DEST="$CACHE_ROOT/$HASH"
mkdir -p "$DEST"

want=("$@")
((${#want[@]})) || want=(pause webapp desktop)

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing (apt-get install -y $2)"; }

ref_of() { echo "docker.io/streamspace/$1:$HASH"; }

# One OCI layout per image; layers are plain tarballs added with `umoci raw add-layer`.
oci_image() { # name workdir layer.tar... -- umoci-config-args...
  local name="$1" work="$2"; shift 2
  local layers=()
  while [[ "$1" != -- ]]; do layers+=("$1"); shift; done
  shift
  umoci init --layout "$work/oci" >/dev/null
  umoci new --image "$work/oci:$name"
  local l
  for l in "${layers[@]}"; do umoci raw add-layer --image "$work/oci:$name" "$l"; done
  umoci config --image "$work/oci:$name" --author=streamspace --os=linux --architecture=amd64 "$@"
  rm -f "$work/$name.tar"
  skopeo copy --quiet "oci:$work/oci:$name" "docker-archive:$work/$name.tar:$(ref_of "$name")" >&2
  mv "$work/$name.tar" "$DEST/$name.tar"
}

busybox_layer() { # out.tar
  local root; root="$(mktemp -d)"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  cp "$(command -v busybox)" "$root/bin/busybox"
  local a
  for a in $("$root/bin/busybox" --list); do [[ "$a" == busybox ]] || ln -sf busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$root" -cf "$1" .
  rm -rf "$root"
}

build_pause() {
  need busybox busybox-static
  local work; work="$(mktemp -d)"
  busybox_layer "$work/busybox.tar"
  # PID 1 ignores signals it has no handler for; the trap makes a stop quick instead of a SIGKILL after a timeout.
  oci_image pause "$work" "$work/busybox.tar" -- \
    --config.entrypoint=/bin/sh --config.entrypoint=-c \
    --config.entrypoint='trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'
  rm -rf "$work"
}

build_webapp() {
  need busybox busybox-static
  local work; work="$(mktemp -d)"
  busybox_layer "$work/busybox.tar"
  mkdir -p "$work/app/app"
  cp "$HERE/files/webapp-start.sh" "$work/app/app/start"
  chmod 755 "$work/app/app/start"
  cp "$HERE/files/webapp-index.html" "$work/app/app/index.html"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$work/app" -cf "$work/app.tar" .
  oci_image webapp "$work" "$work/busybox.tar" "$work/app.tar" -- \
    --config.entrypoint=/app/start --config.exposedports=8080/tcp --config.env=PORT=8080
  rm -rf "$work"
}

debian_mirror() {
  if [[ -n "${STREAMSPACE_DEBIAN_MIRROR:-}" ]]; then echo "$STREAMSPACE_DEBIAN_MIRROR"; return; fi
  local m
  m="$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
  [[ -n "$m" ]] || m="$(sed -n 's/^deb \(http[^ ]*debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)"
  echo "${m:-http://deb.debian.org/debian}"
}

build_desktop() {
  need mmdebstrap mmdebstrap
  local work; work="$(mktemp -d)"
  mkdir -p "$work/overlay/usr/local/bin" "$work/overlay/etc/X11/twm"
  cp "$HERE/files/desktop-start.sh" "$work/overlay/usr/local/bin/start-desktop"
  chmod 755 "$work/overlay/usr/local/bin/start-desktop"
  cp "$HERE/files/desktop-twmrc" "$work/overlay/etc/X11/twm/system.twmrc"
  local mirror; mirror="$(debian_mirror)"
  log "desktop: mmdebstrap $SUITE from $mirror"
  # No recommends and no docs/man/locales: the image stays around 150 MB uncompressed.
  mmdebstrap --variant=apt --mode=root --format=tar --quiet \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --include=tigervnc-standalone-server,websockify,novnc,xterm,twm,x11-xserver-utils,x11-utils,xfonts-base,procps \
    --customize-hook="sync-in $work/overlay /" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    "$SUITE" "$work/rootfs.tar" "$mirror" >&2
  oci_image desktop "$work" "$work/rootfs.tar" -- \
    --config.entrypoint=/usr/local/bin/start-desktop --config.exposedports=6080/tcp \
    --config.env=WEBSOCKIFY_PORT=6080 --config.env=HOME=/home/streamspace --config.workingdir=/
  rm -rf "$work"
}

for name in "${want[@]}"; do
  case "$name" in pause | webapp | desktop) ;; *) die "unknown image '$name' (pause, webapp, desktop)" ;; esac
  need umoci umoci
  need skopeo skopeo
  if [[ "${STREAMSPACE_IMAGES_FORCE:-}" == 1 || ! -s "$DEST/$name.tar" ]]; then
    # Serialise builders of the same image (a test run and `npm start` at once).
    exec 9>"$DEST/.$name.lock"
    flock 9
    if [[ "${STREAMSPACE_IMAGES_FORCE:-}" == 1 || ! -s "$DEST/$name.tar" ]]; then
      t=$SECONDS
      log "building $name ..."
      "build_$name"
      log "  $name built in $((SECONDS - t))s"
    fi
    exec 9>&-
  else
    log "cache hit: $DEST/$name.tar"
  fi
  echo "$name $(ref_of "$name") $DEST/$name.tar"
done

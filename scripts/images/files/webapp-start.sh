#!/bin/sh
# A small web application: busybox httpd serving a page and /healthz. /healthz answers 404 until
# READY_AFTER_SECONDS have passed (default 0), so tests can watch a session wait for its readiness probe.
set -eu
www=/tmp/www
mkdir -p "$www"
sed "s/@HOSTNAME@/$(hostname)/" /app/index.html >"$www/index.html"
# Behind a path-routing ingress (STREAMSPACE_SESSION_INGRESS=path) requests keep their /sessions/<session>/ prefix:
# serve the page there too.
if [ -n "${STREAMSPACE_SESSION:-}" ]; then
  mkdir -p "$www/sessions/$STREAMSPACE_SESSION"
  cp "$www/index.html" "$www/sessions/$STREAMSPACE_SESSION/index.html"
fi
echo "started $(date -u +%FT%TZ) on $(hostname), port ${PORT:-8080}"
(
  sleep "${READY_AFTER_SECONDS:-0}"
  echo ok >"$www/healthz"
  echo "healthy"
) &
httpd -f -v -p "${PORT:-8080}" -h "$www" &
server=$!
# PID 1 has no default signal handling: stop at once on SIGTERM instead of waiting for the kubelet's SIGKILL.
trap 'kill "$server" 2>/dev/null; exit 0' TERM INT
wait "$server"

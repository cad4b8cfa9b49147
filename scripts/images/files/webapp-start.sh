#!/bin/sh
# A small web application: busybox httpd serving a page and /healthz. /healthz answers 404 until
# READY_AFTER_SECONDS have passed (default 0), so tests can watch a session wait for its readiness probe.
set -eu
www=/tmp/www
mkdir -p "$www"
sed "s/@HOSTNAME@/$(hostname)/" /app/index.html >"$www/index.html"
echo "started $(date -u +%FT%TZ) on $(hostname), port ${PORT:-8080}"
(
  sleep "${READY_AFTER_SECONDS:-0}"
  echo ok >"$www/healthz"
  echo "healthy"
) &
exec httpd -f -v -p "${PORT:-8080}" -h "$www"
